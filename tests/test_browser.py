"""The served dashboard in Debian's Chromium: what a council member sees on the projector."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from samordning.agreement import load_agreement
from samordning.check import check
from samordning.followup import key_figures
from samordning.imports import ledger
from samordning.money import format_kr
from samordning.store import Store

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT = ROOT / "data" / "avtal" / "RUN-305-2022.toml"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def screenshot_dir() -> Path:
    folder = Path(os.environ.get("SAMORDNING_SCREENSHOTS") or ROOT / "test-artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def samordning(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "samordning.cli", *args], env=env, capture_output=True,
                          text=True, check=True)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``samordning serve`` on demo data; yields (url, database path). Ready when Voilà says so."""
    db = str(tmp_path_factory.mktemp("served") / "demo.db")
    env = dict(os.environ, SAMORDNING_DB=db, XDG_DATA_HOME=str(tmp_path_factory.mktemp("xdg")))
    samordning("demo", env=env)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "samordning.cli", "serve", "--port", str(port), "--no-browser"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ready = threading.Event()
    output: list[str] = []

    def watch() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            if "Voilà is running at" in line or "Voila is running at" in line:
                ready.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        if not ready.wait(60):
            pytest.fail("Voilà did not start:\n" + "".join(output))
        yield f"http://127.0.0.1:{port}/", db
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run should have installed Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
def test_council_sees_key_figures_in_swedish(served: tuple[str, str], browser: object, width: int,
                                             height: int) -> None:
    url, db = served
    agreement = load_agreement(AGREEMENT)
    expected = {f.key: format_kr(f.ore) for f in key_figures(agreement, ledger(Store.open(db), agreement))}
    page = browser.new_page(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page.goto(url)
    page.wait_for_selector(".card .value", timeout=90_000)
    page.wait_for_selector(".js-plotly-plot .bars", timeout=30_000)
    shown = {page.locator(".card").nth(i).get_attribute("data-key"):
             normalise(page.locator(".card .value").nth(i).inner_text())
             for i in range(page.locator(".card").count())}
    page.screenshot(path=str(screenshot_dir() / f"oversikt-{width}x{height}.png"), full_page=True)
    assert shown == expected
    # Worked out by hand from the agreement: three advances of one fourth of 5 319 000 kr.
    assert shown["compensation"] == "5 319 000 kr"
    assert shown["advanced"] == "3 989 250 kr"
    body = normalise(page.locator("body").inner_text())
    for finding in check(agreement):
        assert finding.title in body
    assert "1 329 750 kr av ersättningen saknar förskottsdatum" in body
    assert "Traceback" not in body
    page.close()


def test_chart_shows_quarters_and_swedish_axis(served: tuple[str, str], browser: object) -> None:
    url, _ = served
    page = browser.new_page(viewport={"width": 1366, "height": 768})  # type: ignore[attr-defined]
    page.goto(url)
    page.wait_for_selector(".js-plotly-plot .bars", timeout=90_000)
    ticks = [normalise(t) for t in page.locator(".js-plotly-plot .xtick text").all_text_contents()]
    assert ticks[:3] == ["Kv 1 2023", "Kv 2 2023", "Kv 3 2023"]
    y_ticks = [normalise(t) for t in page.locator(".js-plotly-plot .ytick text").all_text_contents()]
    assert "1 000 000 kr" in y_ticks
    page.close()
