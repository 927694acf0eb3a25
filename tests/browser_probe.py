"""Test helpers: start ``tfd explore`` and watch its page in a headless Chromium (the flags and the
in-page probe of the welfare chart). The browser test, the explorer's tests and
``benchmarks/bench_explore.py`` use them. Failures raise real exceptions with deadlines, never
``assert``, so ``python -O`` cannot remove a timeout."""

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


def first_line(stream, timeout: float, who: str = "tfd explore") -> str:
    """The first line on ``stream`` (a process's text pipe), or TimeoutError after ``timeout`` s.

    ``readline`` runs in a thread joined with the deadline: a select on the pipe's descriptor would
    miss a line the text layer had already buffered, and wait for output that never comes."""
    import threading

    line = []
    reader = threading.Thread(target=lambda: line.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():  # the thread ends when the caller kills the process and the pipe closes
        raise TimeoutError(f"{who} printed no line within {timeout:g} s")
    return line[0]


def wait_for_page(proc, timeout: float = 90.0) -> str:
    """The URL a starting ``tfd explore`` (``proc``, stdout piped as text) prints on its first
    line, once that URL answers HTTP 200. RuntimeError if the process prints no address or ends,
    TimeoutError if ``timeout`` seconds pass first (the first line included)."""
    import re
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    line = first_line(proc.stdout, timeout)
    match = re.search(r"http://[\w.\-]+:(\d+)", line)
    if not match:
        raise RuntimeError(f"tfd explore printed no address: {line!r}")
    url = f"http://127.0.0.1:{match.group(1)}/"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return url
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"tfd explore ended with status {proc.returncode}")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no page at {url} within {timeout:g} s")
        time.sleep(0.25)


def start_explorer(*args: str):
    """(process, URL) of ``tfd explore --no-open --port 0 *args``, once its page answers."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "abm.cli", "explore", "--no-open", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        return proc, wait_for_page(proc)
    except BaseException:
        proc.kill()
        raise
