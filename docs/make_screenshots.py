"""The README's screenshots, made from the demo so that they stay true: ``samordning demo`` into a temporary
database, ``samordning serve`` (the council's view, the insight view with --insight and the controllers' with
--controller), and every tab captured in headless Chromium.

    python docs/make_screenshots.py                       # docs/oversikt.png and docs/kvartal.png (1366×768)
    python docs/make_screenshots.py --all --out /tmp/skärm  # every tab of the three views at 1366×768 and 1920×1080

Needs the test extras (playwright) and Debian's chromium (or SAMORDNING_CHROMIUM).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "screenshots"
CHROMIUM = os.environ.get("SAMORDNING_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# What shows that a tab is drawn (its charts, where it has any, are waited for as well).
DRAWN = {"Översikt": ".smd-app .verdict", "Kvartal": ".js-plotly-plot:visible .xaxislayer-above text",
         "Områden": ".js-plotly-plot:visible .xaxislayer-above text",
         "Månader": "text=Utfall per månad och kontoklass", "Transaktioner": "text=rader, summa",
         "Uppladdning": "text=Historik", "Kommentarer": ".smd-app .comment, .smd-app :text('Inga kommentarer ännu')",
         "Betalningar och tvist": "text=Tänk om", "Rapport": "text=Fastställda rapporter",
         "Avtal": "text=Alla avtal"}
# The README's pictures: (view, tab, file name).
README = [("council", "Översikt", "oversikt.png"), ("council", "Kvartal", "kvartal.png")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(folder: Path, *extra: str) -> Iterator[str]:
    """The demo served as a user starts it; yields the URL once Voilà says it runs."""
    env = dict(os.environ, SAMORDNING_DB=str(folder / "demo.db"), XDG_DATA_HOME=str(folder / "xdg"))
    if not (folder / "demo.db").exists():
        subprocess.run([sys.executable, "-m", "samordning.cli", "demo"], env=env, check=True, capture_output=True)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "samordning.cli", "serve", "--port", str(port), "--no-browser",
                             *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ready = threading.Event()

    def watch() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "is running at" in line:
                ready.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        if not ready.wait(120):
            raise SystemExit("Voilà did not start")
        yield f"http://127.0.0.1:{port}/" + (f"?token={TOKEN}" if "--token" in extra else "")
    finally:
        proc.terminate()
        proc.wait(20)


def capture(url: str, out: Path, sizes: list[tuple[int, int]], *, tabs: list[str] | None, prefix: str,
            names: dict[str, str] | None = None) -> list[Path]:
    """Each tab (``tabs``, else all) at each size, as ``{prefix}-{tab}-{w}x{h}.png`` (or ``names[tab]``)."""
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for width, height in sizes:
            page = browser.new_page(viewport={"width": width, "height": height}, locale="sv-SE")
            page.goto(url, timeout=120000)
            page.wait_for_selector(".smd-app .card .value", timeout=120_000)
            titles = [t.strip() for t in page.get_by_role("tab").all_inner_texts()]
            for title in tabs or titles:
                page.get_by_role("tab", name=title).click()
                page.wait_for_selector(DRAWN.get(title, ".smd-app"), timeout=60_000)
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(300)  # a chart's resize after its first draw
                slug = re.sub(r"[^a-zåäö]+", "-", title.lower()).strip("-")
                path = out / ((names or {}).get(title) or f"{prefix}-{slug}-{width}x{height}.png")
                page.screenshot(path=str(path))
                written.append(path)
            page.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="every tab of the three views, at 1366×768 and 1920×1080")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.all:
            sizes = [(1366, 768), (1920, 1080)]
            with served(folder) as url:
                written = capture(url, args.out, sizes, tabs=None, prefix="rådet")
            with served(folder, "--insight", "--token", TOKEN) as url:
                written += capture(url, args.out, sizes, tabs=None, prefix="insyn")
            with served(folder, "--controller", "--token", TOKEN) as url:
                written += capture(url, args.out, sizes, tabs=None, prefix="controller")
        else:
            with served(folder) as url:
                written = capture(url, args.out, [(1366, 768)], tabs=[tab for _, tab, _ in README], prefix="",
                                  names={tab: name for _, tab, name in README})
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
