"""How soon the explorer's page shows a moving chart, in a real Chromium, and the README's screenshot.

    .venv/bin/python benchmarks/bench_explore.py [--runs 5] [--load] [--screenshot docs/explorer.png]

Starts ``tfd explore`` on a free port and opens the page ``--runs`` times, each in a fresh
browser context (nothing cached: a first visit), then once more in the same context (a
second visit). Times are the page's own clock (performance.now(), from the start of the
navigation) when the welfare chart is first drawn and when it first changes. ``--load``
keeps one core busy meanwhile, as CI's second test worker does. The floor is the same
browser opening a page of solara's with one line of text: what the framework costs
before any of ours runs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the browser test's helpers
from browser_probe import CHROMIUM_FLAGS, WATCH_CHART, chromium_path, start_explorer  # noqa: E402

HELLO = "import solara\n\n@solara.component\ndef Page():\n    solara.Text('hello', classes=['hello'])\n"


def busy(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--load", action="store_true", help="keep one core busy meanwhile")
    parser.add_argument("--screenshot", type=Path, help="also save the README's screenshot here")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = chromium_path()
    if chromium is None:
        raise SystemExit("no Chromium on PATH (bash .ci/browser installs Debian's)")
    explorer, url = start_explorer()
    folder = tempfile.mkdtemp()
    (Path(folder) / "hello.py").write_text(HELLO)
    port = free_port()
    hello = subprocess.Popen([sys.executable, "-m", "solara", "run", str(Path(folder) / "hello.py"), "--host",
                              "127.0.0.1", "--port", str(port), "--no-open", "--production"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hog = multiprocessing.Process(target=busy, args=(3600,), daemon=True) if args.load else None
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                time.sleep(0.25)
        if hog:
            hog.start()
        first, second, floor = [], [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            for _ in range(args.runs):
                context = browser.new_context(viewport={"width": 1400, "height": 1500})
                context.add_init_script(WATCH_CHART)
                for times in (first, second):
                    page = context.new_page()
                    page.goto(url)
                    page.wait_for_function("window.__tfd.moved !== null", timeout=60_000)
                    times.append(page.evaluate("window.__tfd.moved") / 1000)
                    page.close()
                context.close()
                context = browser.new_context()
                page = context.new_page()
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_selector(".hello", timeout=60_000)
                floor.append(page.evaluate("performance.now()") / 1000)
                context.close()
            if args.screenshot:
                screenshot(browser, url, args.screenshot)
            browser.close()
    finally:
        for proc in (explorer, hello):
            proc.terminate()
        if hog:
            hog.terminate()
    where = "with one core kept busy" if args.load else "idle"
    print(f"explorer, moving chart after opening ({args.runs} runs, 2-core machine, {where}):")
    for name, times in (("first visit", first), ("second visit", second), ("floor: solara's hello page", floor)):
        print(f"  {name:28s} median {statistics.median(times):.2f} s, range {min(times):.2f}-{max(times):.2f} s")
    print(f"  first visit / floor: {statistics.median(first) / statistics.median(floor):.1f}x")


def screenshot(browser, url: str, path: Path) -> None:
    """Ranking after 40 steps, with a DSIC audit's shrunk witness: every panel has something."""
    context = browser.new_context(viewport={"width": 1400, "height": 1750})
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("document.querySelector('.tfd-run') && "
                           "document.querySelector('.tfd-run').innerText.includes('step 40,')", timeout=60_000)
    page.locator(".v-select", has=page.locator("label:text-is('mechanism')")).click()
    page.get_by_role("option", name="ranking", exact=True).click()
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function("document.querySelector('.tfd-run').innerText.startsWith('ranking') && "
                           "document.querySelector('.tfd-run').innerText.includes('step 40,')", timeout=60_000)
    page.get_by_role("button", name="DSIC").click()
    page.locator(".tfd-run-audit").click()
    page.locator(".tfd-verdict").wait_for(timeout=60_000)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    context.close()
    print(f"screenshot: {path}")


if __name__ == "__main__":
    main()
