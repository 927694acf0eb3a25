"""What the browser test and ``benchmarks/bench_explore.py`` both need to watch the page in a
headless Chromium: the flags and the in-page probe of the welfare chart."""

#: flags for a headless Chromium on a machine with a closed network, run as root in CI
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]

#: an init script: records, in the page's own clock (ms from the start of the navigation), when
#: the welfare chart is first drawn (``window.__tfd.first``) and when it first changes (``moved``)
WATCH_CHART = """
window.__tfd = {first: null, moved: null, image: null};
(function poll() {
  const canvas = document.querySelector('.tfd-welfare canvas');
  if (canvas && canvas.width) {
    const image = canvas.toDataURL();
    if (window.__tfd.first === null) { window.__tfd.first = performance.now(); window.__tfd.image = image; }
    else if (image !== window.__tfd.image) { window.__tfd.moved = performance.now(); return; }
  }
  setTimeout(poll, 50);
})();
"""


def chromium_path(override: str | None = None) -> str | None:
    """The Chromium to drive: ``override`` (``TFD_CHROMIUM``) if given, else the first of
    chromium, chromium-browser, google-chrome on PATH, else None."""
    import shutil

    for name in (override, "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None
