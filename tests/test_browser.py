"""The served dashboard in Debian's Chromium: what the council sees on the projector and what a controller
does in the working view (upload, refusal, confirm), through `samordning serve` as a user starts it."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import Workbook

from samordning.agreement import load_agreement
from samordning.check import check
from samordning.followup import key_figures, quarterly
from samordning.imports import classified_rows
from samordning.money import format_kr
from samordning.store import Store
from samordning.ui import Role
from samordning.ui.dashboard.app import tabs_for
from samordning.ui.verdict import COUNCIL_CARDS, distinct

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT = ROOT / "data" / "avtal" / "RUN-305-2022.toml"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = "test-token-for-the-controllers"
LOAD = 90_000  # ms: a kernel start on a loaded 2-core machine


def screenshot(page: object, name: str) -> None:
    folder = Path(os.environ.get("SAMORDNING_SCREENSHOTS") or ROOT / "test-artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def free_port() -> int:
    """A free port: from ``$SAMORDNING_TEST_PORTS`` (``8900-8919``) when set, for a machine where each runner has its
    own ports, else any."""
    first, _, last = os.environ.get("SAMORDNING_TEST_PORTS", "0-0").partition("-")
    for port in range(int(first), int(last or first) + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    pytest.fail(f"no free port in SAMORDNING_TEST_PORTS={os.environ['SAMORDNING_TEST_PORTS']}")


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


@dataclass
class Served:
    url: str
    db: str
    output: list[str]
    pid: int

    def store(self) -> Store:
        return Store.open(self.db)


def serve(tmp: Path, *extra: str) -> Iterator[Served]:
    """``samordning demo`` then ``samordning serve …`` as a user runs them; ready when Voilà says so."""
    db = str(tmp / "demo.db")
    env = dict(os.environ, SAMORDNING_DB=db, XDG_DATA_HOME=str(tmp / "xdg"))
    env.pop("SAMORDNING_TOKEN", None)
    subprocess.run([sys.executable, "-m", "samordning.cli", "demo"], env=env, capture_output=True, text=True,
                   check=True)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "samordning.cli", "serve", "--port", str(port), "--no-browser",
                             *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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
        if not ready.wait(90):
            pytest.fail("Voilà did not start:\n" + "".join(output))
        yield Served(f"http://127.0.0.1:{port}/", db, output, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("council"))


@pytest.fixture(scope="module")
def controller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("controller"), "--controller", "--token", TOKEN)


@pytest.fixture(scope="module")
def insight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("insight"), "--insight", "--token", TOKEN)


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


@pytest.fixture
def open_page(browser: object) -> Iterator[Callable[..., object]]:
    """Open the dashboard like a Swedish user (sv-SE locale); fails the test on a traceback in the page."""
    pages: list[object] = []

    def go(url: str, width: int = 1366, height: int = 768, ready: str | None = ".smd-app .card .value") -> object:
        page = browser.new_page(viewport={"width": width, "height": height}, locale="sv-SE")  # type: ignore[attr-defined]
        pages.append(page)
        page.set_default_timeout(LOAD)  # waits without their own timeout: a loaded 2-core machine is slow
        page.goto(url, wait_until="commit", timeout=LOAD)
        if ready:
            page.wait_for_selector(ready, timeout=LOAD)
        return page

    yield go
    for page in pages:
        body = normalise(page.locator("body").inner_text())  # type: ignore[attr-defined]
        assert "Traceback" not in body
        assert "Error" not in body
        page.close()  # type: ignore[attr-defined]


def show_tab(page: object, title: str) -> None:
    page.get_by_role("tab", name=title).click()  # type: ignore[attr-defined]


def wait_for_chart(page: object) -> None:
    # Bars of a zero-width trace count as hidden, so wait for them to be in the page, then for the axis.
    page.wait_for_selector(".js-plotly-plot:visible .bars", state="attached", timeout=60_000)  # type: ignore[attr-defined]
    page.wait_for_selector(".js-plotly-plot:visible .xaxislayer-above text", timeout=30_000)  # type: ignore[attr-defined]


def kr(ore: int) -> str:
    return normalise(format_kr(int(ore)))


def cards(page: object) -> dict[str, str]:
    loc = page.locator(".smd-app .card")  # type: ignore[attr-defined]
    return {loc.nth(i).get_attribute("data-key"): normalise(loc.nth(i).locator(".value").inner_text())
            for i in range(loc.count())}


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
def test_council_sees_key_figures_in_swedish(council: Served, open_page: Callable[..., object], width: int,
                                             height: int) -> None:
    agreement = load_agreement(AGREEMENT)
    figures = key_figures(agreement, classified_rows(council.store(), agreement))
    expected = {f.key: kr(f.ore) for f in distinct(figures, COUNCIL_CARDS)}
    page = open_page(council.url, width, height)
    screenshot(page, f"oversikt-{width}x{height}")
    shown = cards(page)
    assert shown == expected
    # Worked out by hand from the agreement: three advances of one fourth of 5 319 000 kr; the demo's 2 910 985,95 kr.
    assert shown["advanced"] == "3 989 250 kr"
    assert list(shown) == ["advanced", "actual", "unspent"]  # balance = repayment: one card, not two
    verdict = normalise(page.locator(".smd-app .verdict").inner_text())  # type: ignore[attr-defined]
    assert verdict.startswith("Till och med 2023-09 har 2 910 986 kr av förskotten på 3 989 250 kr använts (73 %); "
                              "1 078 264 kr återstår.")
    assert "Ingen ersättning är innehållen." in verdict
    # The verdict is on the first screen, above the cards.
    box = page.locator(".smd-app .verdict").bounding_box()  # type: ignore[attr-defined]
    assert box["y"] + box["height"] < height
    # The same verdict is in the page before the widgets connect (the static first tab).
    static = page.locator(".smd-static .verdict").inner_text(timeout=1000)  # type: ignore[attr-defined]
    assert re.sub(r"\s", "", static) == re.sub(r"\s", "", verdict)  # hidden: its text has no layout spaces
    body = normalise(page.locator("body").inner_text())  # type: ignore[attr-defined]
    assert f"Avtalets egna motsägelser och luckor ({len(check(agreement))})" in body
    assert "1 329 750 kr av ersättningen saknar förskottsdatum" not in body  # folded under its heading
    page.locator(".smd-app details.findings summary").click()  # type: ignore[attr-defined]
    assert "1 329 750 kr av ersättningen saknar förskottsdatum" in normalise(
        page.locator(".smd-app details.findings").inner_text())  # type: ignore[attr-defined]
    assert "Senaste utfall: 2023-09" in body
    # The plain-HTML copy that Voilà puts in the page (readable before the widgets connect) is gone once the
    # live view is drawn.
    assert page.locator(".smd-static").count() == 1  # type: ignore[attr-defined]
    assert not page.locator(".smd-static").is_visible()  # type: ignore[attr-defined]


def test_quarter_chart_swedish_axes_and_area_filter(council: Served, open_page: Callable[..., object]) -> None:
    agreement = load_agreement(AGREEMENT)
    by_area = quarterly(agreement, classified_rows(council.store(), agreement), by_area=True)
    page = open_page(council.url)
    show_tab(page, "Kvartal")
    wait_for_chart(page)
    chart = page.locator(".js-plotly-plot:visible").first  # the chosen area's; re-found on each use  # type: ignore[attr-defined]
    ticks = [normalise(t) for t in chart.locator(".xaxislayer-above text").all_text_contents() if t.strip()]
    assert ticks[:3] == ["Kv 1 2023", "Kv 2 2023", "Kv 3 2023"]
    assert "1 000 000 kr" in [normalise(t) for t in chart.locator(".yaxislayer-above text").all_text_contents()]
    assert "+370 123 kr" in [normalise(t) for t in chart.locator(".bartext").all_text_contents()]
    screenshot(page, "kvartal-1366x768")
    # The chart fits its half of the page: plotly's default is 700 px, which overlapped the balance chart.
    assert chart.bounding_box()["width"] < 683

    social = agreement.areas[0]
    page.get_by_label("Område:").select_option(label=social.name)  # type: ignore[attr-defined]
    page.wait_for_selector(f".js-plotly-plot:visible .gtitle:has-text('{social.name}')", timeout=30_000)  # type: ignore[attr-defined]
    q1 = by_area[(by_area["area"] == social.key) & (by_area["quarter"] == "2023Q1")].iloc[0]
    labels = [normalise(t) for t in chart.locator(".bartext").all_text_contents()]
    assert labels[0] == "+" + kr(q1.variance_ore)
    table = normalise(page.locator("table").first.inner_text())  # type: ignore[attr-defined]
    # The area's advance is half of 1 329 750 kr (the 50/50 assumption); by hand: the Q1 rows of project 7301
    # sum to 477 733,75 kr.
    assert "Kv 1 2023 664 875,00 kr 664 875,00 kr 477 733,75 kr" in table  # to the öre: rows add up to the sums

    # From the figure to what lies behind it: in the council's view its sums per month and account class.
    page.get_by_label("Månader för:").select_option(label="Kv 1 2023")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Visa per månad och kontoklass").click()  # type: ignore[attr-defined]
    page.wait_for_selector("text=Utfall per månad och kontoklass – Kv 1 2023, Social välfärd",
                           timeout=30_000)  # type: ignore[attr-defined]
    months = normalise(page.locator(".smd-app table:visible").first.inner_text())  # type: ignore[attr-defined]
    # By hand: January's class 5 in Social välfärd is (48 500 + 46 200) × 1,3915 = 131 775,05 kr; the quarter's sum
    # is Kvartal's 477 733,75 kr.
    assert "januari 2023" in months and "131 775,05 kr" in months and months.endswith("477 733,75 kr")
    screenshot(page, "manader-1366x768")


def test_council_view_has_no_upload_or_edit(council: Served, open_page: Callable[..., object]) -> None:
    page = open_page(council.url)
    tabs = [normalise(t) for t in page.get_by_role("tab").all_inner_texts()]  # type: ignore[attr-defined]
    assert tabs == [kind.title for kind in tabs_for(Role.COUNCIL)]
    for title, drawn in (("Områden", "Högst innehållet vid tvist"), ("Kommentarer", "Inga kommentarer ännu"),
                         ("Rapport", "Fastställda rapporter"), ("Avtal", "Versioner av det visade avtalet"),
                         ("Betalningar och tvist", "ryms inom taket")):
        show_tab(page, title)
        page.locator(".smd-app").get_by_text(drawn).first.wait_for(timeout=30_000)  # type: ignore[attr-defined]
    assert page.locator("input[type=file]").count() == 0  # type: ignore[attr-defined]
    for label in ("Registrera betalning", "Registrera innehållande", "Spara kommentar", "Spara i uppföljningen",
                  "Spara återrapportering", "Fastställ rapporten", "Spara underskrift", "Spara ny version",
                  "Fyll i formuläret", "Lägg till område"):
        assert page.get_by_role("button", name=label).count() == 0  # type: ignore[attr-defined]
    # The what-if is for everyone: nothing is stored. 500 000 kr is within the cap of 1 329 750 kr (50 % of
    # an area's 2 659 500 kr).
    assert "ryms inom taket (tak 1 329 750 kr, §10" in normalise(page.locator("body").inner_text())  # type: ignore[attr-defined]
    screenshot(page, "betalningar-rådet-1366x768")


def test_controller_view_needs_the_token(controller: Served, open_page: Callable[..., object]) -> None:
    page = open_page(controller.url, ready=None)
    page.wait_for_load_state()  # type: ignore[attr-defined]
    assert "/login" in page.url  # type: ignore[attr-defined]
    assert page.locator(".card").count() == 0  # type: ignore[attr-defined]
    assert any(f"?token={TOKEN}" in line for line in controller.output)


# -- the three audiences (issue 17, item 3) ------------------------------------------------------------------

ROW_TEXTS = ("Månadslön", "PO-pålägg", "Lokalhyra", "Förbrukningsmaterial", "Resa Östersund")
WRITES = ("Spara i uppföljningen", "Låt den gälla igen", "Spara kommentar", "Spara återrapportering",
          "Registrera betalning", "Registrera innehållande", "Släpp innehållandet", "Spara underskrift",
          "Fastställ rapporten")


def test_councils_view_has_no_row_and_no_export(council: Served, open_page: Callable[..., object]) -> None:
    """Every tab of the council's view, as a projector shows it: no ledger row's text, no file row, no export of
    rows — on screen or anywhere in the page's document (the tabs visited stay in it)."""
    page = open_page(council.url)
    assert normalise(page.locator(".smd-app [data-role]").inner_text()).startswith(  # type: ignore[attr-defined]
        "Samverkansrådets vy: summor per kvartal, område, månad och kontoklass; inga enskilda rader")
    titles = list(each_tab(page))
    assert "Transaktioner" not in titles and "Månader" in titles
    document = page.content()  # type: ignore[attr-defined]
    body = normalise(page.locator("body").inner_text())  # type: ignore[attr-defined]
    for text in ROW_TEXTS:
        assert text not in document
    assert not re.search(r"\.xlsx:\d+", document)  # a source row ("huvudbok_2023_kv1.xlsx:12")
    assert page.get_by_role("button", name=re.compile("Exportera")).count() == 0  # type: ignore[attr-defined]
    formats = page.get_by_label("Format").locator("option").all_inner_texts()  # type: ignore[attr-defined]
    assert [normalise(f) for f in formats] == ["PDF (för samverkansrådet)", "HTML (en fil, för intranätet)"]
    assert "Utfall per månad och kontoklass" in document and "Rapport" in body


def test_insight_view_shows_rows_and_has_no_write_form(insight: Served, open_page: Callable[..., object]) -> None:
    page = open_page(insight.url, ready=None)
    page.wait_for_load_state()  # type: ignore[attr-defined]
    assert "/login" in page.url  # type: ignore[attr-defined]  # authenticated like the controllers' view
    assert any(f"?token={TOKEN}" in line and "Insynsvyn" in line for line in insight.output)
    page = open_page(insight.url + f"?token={TOKEN}")
    assert normalise(page.locator(".smd-app [data-role]").inner_text()).startswith(  # type: ignore[attr-defined]
        "Insynsvy (§8): raderna bakom varje siffra; endast läsning")
    titles = [normalise(t) for t in page.get_by_role("tab").all_inner_texts()]  # type: ignore[attr-defined]
    assert titles == [kind.title for kind in tabs_for(Role.INSIGHT)]
    for title in each_tab(page):
        for label in WRITES:
            assert page.get_by_role("button", name=label).count() == 0, (title, label)  # type: ignore[attr-defined]
    assert page.locator("input[type=file], textarea").count() == 0  # type: ignore[attr-defined]
    show_tab(page, "Transaktioner")
    search = page.get_by_label("Text innehåller")  # type: ignore[attr-defined]
    search.fill("Månadslön 01")
    search.press("Enter")
    # January's salaries, by hand: 48 500 + 46 200 + 47 800 + 45 900 = 188 400 kr.
    page.wait_for_selector("text=4 rader, summa 188 400,00 kr", timeout=30_000)  # type: ignore[attr-defined]
    rows = normalise(page.locator(".smd-app table:visible").first.inner_text())  # type: ignore[attr-defined]
    assert "Månadslön 01" in rows and "48 500,00 kr" in rows and re.search(r"huvudbok_2023_kv1\.xlsx:\d+", rows)
    page.get_by_role("button", name="Exportera urvalet till Excel").click()  # type: ignore[attr-defined]
    page.wait_for_selector("text=Spara 4 rader som Excel", timeout=30_000)  # type: ignore[attr-defined]
    screenshot(page, "insyn-transaktioner-1366x768")


def write_export(path: Path, rows: list[tuple[str, str, str, str, str, float]]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Huvudbok"
    ws.append(["Huvudbok, rättad mars 2023"])
    ws.append(["Verifikationsdatum", "Konto", "Ansvar", "Projekt", "Text", "Belopp"])
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


def test_controller_uploads_confirms_and_sees_refusal(controller: Served, open_page: Callable[..., object],
                                                      tmp_path: Path) -> None:
    agreement = load_agreement(AGREEMENT)
    before = controller.store().uploads(agreement.id)
    page = open_page(controller.url + f"?token={TOKEN}")
    show_tab(page, "Uppladdning")

    # A refused file: a CSV renamed to .xlsx. A Swedish message naming the file; nothing stored.
    fake = tmp_path / "huvudbok_mars.xlsx"
    fake.write_text("Datum;Belopp\n2023-03-01;100\n", encoding="utf-8")
    page.set_input_files(".smd-upload input[type=file]", str(fake))  # type: ignore[attr-defined]
    error = page.wait_for_selector(".message.error", timeout=30_000)  # type: ignore[attr-defined]
    assert "huvudbok_mars.xlsx" in normalise(error.inner_text())
    screenshot(page, "uppladdning-avvisad-1366x768")
    assert len(controller.store().uploads(agreement.id)) == len(before)

    # A correction of March: shown first, stored only on confirmation, then the figures follow.
    good = write_export(tmp_path / "huvudbok_2023_03_rattad.xlsx", [
        ("2023-03-25", "5011", "41100", "7301", "Månadslön 03", 50_000.00),
        ("2023-03-28", "7310", "41200", "7302", "Resa Östersund", 1_234.56),
    ])
    page.set_input_files(".smd-upload input[type=file]", str(good))  # type: ignore[attr-defined]
    page.wait_for_selector("text=Kontrollera och spara", timeout=30_000)  # type: ignore[attr-defined]
    preview = normalise(page.locator(".message").first.inner_text())  # type: ignore[attr-defined]
    assert "51 234,56 kr" in preview
    assert "2023-03: ersätter raderna från uppladdning 1" in preview
    assert len(controller.store().uploads(agreement.id)) == len(before)  # not yet stored
    page.get_by_role("button", name="Spara i uppföljningen").click()  # type: ignore[attr-defined]
    page.wait_for_selector(".message.ok:has-text('Sparad som uppladdning')", timeout=30_000)  # type: ignore[attr-defined]
    screenshot(page, "uppladdning-sparad-1366x768")
    assert len(controller.store().uploads(agreement.id)) == len(before) + 1

    show_tab(page, "Översikt")
    rows = classified_rows(controller.store(), agreement)
    expected = {f.key: kr(f.ore) for f in distinct(key_figures(agreement, rows), COUNCIL_CARDS)}
    page.wait_for_function(  # type: ignore[attr-defined]
        "e => document.querySelector('.smd-app .card[data-key=actual] .value').innerText.replace(/\\s/g, ' ') == e",
        arg=expected["actual"], timeout=30_000)
    assert cards(page) == expected


def test_large_upload_arrives_and_too_large_is_refused_before_sending(controller: Served,
                                                                     open_page: Callable[..., object],
                                                                     tmp_path: Path) -> None:
    """Past Tornado's default 10 MiB message limit a file used to vanish; it now arrives (in chunks), and a file
    over the 50 MB limit gets a message in the browser before anything is sent."""
    agreement = load_agreement(AGREEMENT)
    before = len(controller.store().uploads(agreement.id))
    page = open_page(controller.url + f"?token={TOKEN}")
    show_tab(page, "Uppladdning")
    big = tmp_path / "stor_export.xlsx"
    big.write_bytes(os.urandom(12 * 1024 * 1024))  # 12 MiB that are not a workbook: refused, but after arriving
    page.set_input_files(".smd-upload input[type=file]", str(big))  # type: ignore[attr-defined]
    error = page.wait_for_selector(".message.error:has-text('stor_export.xlsx')", timeout=120_000)  # type: ignore[attr-defined]
    assert "stor_export.xlsx" in normalise(error.inner_text())
    status = normalise(page.locator(".smd-upload-status").inner_text())  # type: ignore[attr-defined]
    assert "stor_export.xlsx är mottagen (12,0 MB)" in status

    huge = tmp_path / "for_stor.xlsx"
    with huge.open("wb") as f:
        f.truncate(51 * 1024 * 1024)
    page.set_input_files(".smd-upload input[type=file]", str(huge))  # type: ignore[attr-defined]
    page.wait_for_selector(".message.error:has-text('för stor')", timeout=30_000)  # type: ignore[attr-defined]
    body = normalise(page.locator("body").inner_text())  # type: ignore[attr-defined]
    assert "Filen for_stor.xlsx är för stor (51,0 MB); största tillåtna storlek är 50 MB. Inget har skickats." in body
    assert len(controller.store().uploads(agreement.id)) == before


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
def test_every_view_renders(controller: Served, open_page: Callable[..., object], width: int, height: int) -> None:
    """Each tab of the controllers' view (a superset of the council's) at a laptop's and a projector's size;
    the screenshots are what the closing note describes."""
    page = open_page(controller.url + f"?token={TOKEN}", width, height)
    expected = {"Översikt": "Avtalets egna motsägelser", "Kvartal": "Förskott i uppföljningen",
                "Områden": "Högst innehållet vid tvist", "Månader": "Utfall per månad och kontoklass",
                "Transaktioner": "rader, summa", "Uppladdning": "Historik",
                "Kommentarer": "Ny kommentar", "Betalningar och tvist": "Tänk om: tvist om ett område",
                "Rapport": "Fastställda rapporter", "Avtal": "Versioner av det visade avtalet"}
    titles = [normalise(t) for t in page.get_by_role("tab").all_inner_texts()]  # type: ignore[attr-defined]
    assert titles == [kind.title for kind in tabs_for(Role.CONTROLLER)]
    assert set(expected) == set(titles)  # every tab has the text that shows it is drawn
    for title in titles:
        show_tab(page, title)
        if title in ("Kvartal", "Områden"):
            wait_for_chart(page)
        page.locator(".smd-app").get_by_text(expected[title]).first.wait_for(timeout=30_000)  # type: ignore[attr-defined]
        page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
        screenshot(page, f"vy-{re.sub(r'[^a-zåäö]+', '-', title.lower())}-{width}x{height}")


def cli(served: Served, *args: str) -> str:
    """A ``samordning`` command on the served store, as a controller runs it beside the dashboard."""
    env = dict(os.environ, SAMORDNING_DB=served.db)
    done = subprocess.run([sys.executable, "-m", "samordning.cli", *args], env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def portfolio_row(page: object, agreement_id: str) -> str:
    row = page.locator(".smd-portfolio tr", has_text=agreement_id).first  # type: ignore[attr-defined]
    return normalise(row.inner_text()).replace("\t", " ")


def test_a_second_agreement_made_in_the_dashboard(tmp_path: Path, open_page: Callable[..., object]) -> None:
    """Issue 20's test: a second agreement created in the dashboard (a copy, given its own id, sum and codes),
    exports imported for it, both in the portfolio with their figures; an area's codes edited: the figures change,
    version 1 is kept, and the report finalized with version 1 still shows version 1's figures."""
    from samordning.agreements import version
    from samordning.figures import Figures

    served_at = serve(tmp_path, "--controller", "--token", TOKEN)
    served = next(served_at)
    try:
        page = open_page(served.url + f"?token={TOKEN}")
        show_tab(page, "Avtal")
        page.wait_for_selector(".smd-portfolio:has-text('RUN/305/2022')", timeout=LOAD)  # type: ignore[attr-defined]
        page.select_option(".smd-f-base select", label="Kopia av RUN/305/2022")  # type: ignore[attr-defined]
        page.get_by_role("button", name="Fyll i formuläret").click()  # type: ignore[attr-defined]
        page.wait_for_selector(".message:has-text('ge den ett nytt id')", timeout=30_000)  # type: ignore[attr-defined]
        for field, value in (("id", "TEST/8/2023"), ("short-title", "Andra avtalet"),
                             ("compensation-total", "2000000"), ("areas-0-codes", "8801"), ("areas-1-codes", "8802")):
            page.fill(f".smd-f-{field} input", value)  # type: ignore[attr-defined]
        page.get_by_role("button", name="Spara ny version").click()  # type: ignore[attr-defined]
        page.wait_for_selector(".message.ok:has-text('Version 1 av TEST/8/2023 är sparad')",  # type: ignore[attr-defined]
                               timeout=60_000)
        page.wait_for_selector(".smd-portfolio:has-text('TEST/8/2023 (visas)')", timeout=30_000)  # type: ignore[attr-defined]

        # Exports for it, uploaded in the dashboard (100 000 kr on 8801 in February, 25 000 kr on 8802 in May,
        # one row of another project), and its Q2 report finalized with version 1.
        export = write_export(tmp_path / "huvudbok_andra_avtalet.xlsx", [
            ("2023-02-10", "5011", "41100", "8801", "Lön februari", 100_000.00),
            ("2023-05-15", "4010", "41100", "8802", "Inköp", 25_000.00),
            ("2023-03-01", "5011", "41100", "7301", "Annat avtals projekt", 9_999.00)])
        show_tab(page, "Uppladdning")
        page.set_input_files(".smd-upload input[type=file]", str(export))  # type: ignore[attr-defined]
        page.wait_for_selector("text=Kontrollera och spara", timeout=60_000)  # type: ignore[attr-defined]
        page.get_by_role("button", name="Spara i uppföljningen").click()  # type: ignore[attr-defined]
        page.wait_for_selector(".message.ok:has-text('Sparad som uppladdning')", timeout=60_000)  # type: ignore[attr-defined]
        assert [u.filename for u in served.store().uploads("TEST/8/2023").itertuples()] == [export.name]
        cli(served, "report", "--agreement", "TEST/8/2023", "--finalize", "--presented", "2023-10-12", "--quarter",
            "2023Q2", "--out", str(tmp_path / "rapport.html"), "--user", "anna")

        # Two agreements now: a new page opens on the portfolio (the Avtal tab), not on Översikt; a page whose
        # address names one of them (a bookmark) opens on that agreement's Översikt.
        page = open_page(served.url + f"?avtal=TEST%2F8%2F2023&token={TOKEN}")
        assert page.get_by_role("tab", name="Översikt", selected=True).count() == 1  # type: ignore[attr-defined]
        page = open_page(served.url + f"?token={TOKEN}", ready=".smd-portfolio:has-text('RUN/305/2022')")
        assert page.get_by_role("tab", name="Avtal", selected=True).count() == 1  # type: ignore[attr-defined]
        page.get_by_role("button", name="Öppna TEST/8/2023").click()  # type: ignore[attr-defined]
        page.wait_for_selector(".smd-portfolio:has-text('TEST/8/2023 (visas)')", timeout=60_000)  # type: ignore[attr-defined]
        store = served.store()
        run305 = {f.key: f.ore for f in Figures.load(store, version(store, "RUN/305/2022").agreement).key_figures()}
        assert (f"RUN/305/2022 Primärkommunal samordning 2023 v1 utkast 2023-01-01–2023-09-30 5 319 000 kr "
                f"{kr(run305['advanced'])} {kr(run305['actual'])}") in portfolio_row(page, "RUN/305/2022")
        # The second: 2 000 000 kr; its advances of 1/4 due by May (Q1, Q2): 1 000 000 kr; actual 125 000 kr.
        assert ("TEST/8/2023 (visas) Andra avtalet v1 utkast 2023-01-01–2023-09-30 2 000 000 kr 1 000 000 kr "
                "125 000 kr") in portfolio_row(page, "TEST/8/2023")
        assert "Kv 3 2023 (efter 2023-09-30)" in portfolio_row(page, "TEST/8/2023")  # Q2 is reported
        screenshot(page, "avtal-portfolj-1366x768")

        # Social välfärd's code 8801 → 8809 (no row has it): only 8802's 25 000 kr count from version 2 on.
        page.fill(".smd-f-areas-0-codes input", "8809")  # type: ignore[attr-defined]
        page.fill(".smd-f-reason input", "Rätt projektkod")  # type: ignore[attr-defined]
        page.get_by_role("button", name="Spara ny version").click()  # type: ignore[attr-defined]
        page.wait_for_selector(".message.ok:has-text('Version 2 av TEST/8/2023 är sparad')",  # type: ignore[attr-defined]
                               timeout=60_000)
        page.wait_for_selector(".smd-portfolio:has-text('v2')", timeout=30_000)  # type: ignore[attr-defined]
        assert "2 000 000 kr 1 000 000 kr 25 000 kr" in portfolio_row(page, "TEST/8/2023")
        versions = normalise(page.locator(".smd-versions").inner_text())  # type: ignore[attr-defined]
        assert "Version 2 · utkast" in versions and "Rätt projektkod" in versions and "Version 1 · utkast" in versions
        assert version(served.store(), "TEST/8/2023", 1).agreement.area("social").codes == ("8801",)

        # The report finalized with version 1 still shows version 1's figures.
        show_tab(page, "Rapport")
        finals = page.locator("tr", has_text="faststalld-rapport").first  # type: ignore[attr-defined]
        assert "v1 125 000 kr gäller" in normalise(finals.inner_text()).replace("\t", " ")
        screenshot(page, "avtal-rapport-version-1366x768")
    finally:
        served_at.close()


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"\nPPid:\t{pid}\n" in status.read_text():
                found.add(int(status.parent.name))
        except OSError:
            continue
    return found


def test_stopping_serve_stops_voila_and_its_kernels(tmp_path: Path) -> None:
    """A service manager stops ``samordning serve`` with SIGTERM; Voilà (its child) must not live on."""
    running = serve(tmp_path)
    served = next(running)
    voila = children(served.pid)
    assert voila
    deadline = time.monotonic() + 60
    while not (kernels := set().union(*(children(p) for p in voila))) and time.monotonic() < deadline:
        time.sleep(0.2)  # the preheated kernels start just after Voilà says it runs
    assert kernels
    with pytest.raises(StopIteration):
        next(running)  # terminates samordning serve
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in voila | kernels):
        time.sleep(0.2)
    assert not [p for p in voila | kernels if Path(f"/proc/{p}").exists()]


# -- accessibility (WCAG 2.1 AA), keyboard, projector --------------------------------------------------------

# What shows that a tab is drawn.
DRAWN = {"Översikt": ".smd-app .verdict", "Kvartal": ".js-plotly-plot:visible .xaxislayer-above text",
         "Områden": ".js-plotly-plot:visible .xaxislayer-above text",
         "Månader": "text=Utfall per månad och kontoklass", "Transaktioner": "text=rader, summa",
         "Uppladdning": "text=Historik", "Kommentarer": ".smd-app .comment, .smd-app :text('Inga kommentarer ännu')",
         "Betalningar och tvist": "text=Tänk om", "Rapport": "text=Fastställda rapporter",
         "Avtal": "text=Versioner av det visade avtalet"}


def each_tab(page: object) -> Iterator[str]:
    """Show each tab in turn, drawn, and yield its title."""
    for title in [normalise(t) for t in page.get_by_role("tab").all_inner_texts()]:  # type: ignore[attr-defined]
        show_tab(page, title)
        page.wait_for_selector(DRAWN[title], timeout=60_000)  # type: ignore[attr-defined]
        page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
        yield title


@pytest.mark.parametrize("view", ["council", "insight", "controller"])
def test_axe_finds_no_serious_violation_on_any_tab(view: str, request: pytest.FixtureRequest,
                                                  open_page: Callable[..., object]) -> None:
    """axe-core (Deque) on every tab of the three views at 1366×768: no violation of impact serious or critical
    (contrast, labels, names of buttons, landmarks …), which WCAG 2.1 AA asks of public-sector services."""
    from axe_playwright_python.sync_playwright import Axe

    served: Served = request.getfixturevalue(view)
    page = open_page(served.url + ("" if view == "council" else f"?token={TOKEN}"))
    axe = Axe()
    found = {}
    for title in each_tab(page):
        violations = axe.run(page).response["violations"]
        found[title] = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
                        for v in violations if v["impact"] in ("serious", "critical")]
    assert found == {title: [] for title in found}
    assert len(found) == len(tabs_for(Role(view)))


def test_tabs_filters_and_forms_work_by_keyboard(council: Served, open_page: Callable[..., object]) -> None:
    """Tab to the tab bar, arrow to *Kvartal*, Enter; Tab to the area filter and choose with the arrow keys;
    in *Betalningar och tvist* type an amount into the what-if and leave the field with Tab."""
    agreement = load_agreement(AGREEMENT)
    page = open_page(council.url)
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    assert page.evaluate("document.activeElement.getAttribute('role')") == "tab"  # type: ignore[attr-defined]
    page.keyboard.press("ArrowRight")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_selector(".js-plotly-plot:visible .xaxislayer-above text", timeout=60_000)  # type: ignore[attr-defined]
    assert normalise(page.locator("[role=tab][aria-selected=true]").inner_text()) == "Kvartal"  # type: ignore[attr-defined]
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    assert page.evaluate("document.activeElement.labels[0].textContent") == "Område:"  # type: ignore[attr-defined]
    page.keyboard.press("ArrowDown")  # type: ignore[attr-defined]
    social = agreement.areas[0].name
    page.wait_for_selector(f".js-plotly-plot:visible .gtitle:has-text('{social}')", timeout=30_000)  # type: ignore[attr-defined]

    page.keyboard.press("Shift+Tab")  # type: ignore[attr-defined]
    assert page.evaluate("document.activeElement.getAttribute('role')") == "tab"  # type: ignore[attr-defined]
    for _ in range(4):  # Kvartal → Betalningar och tvist (the council's sixth tab)
        page.keyboard.press("ArrowRight")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_selector("text=Tänk om", timeout=30_000)  # type: ignore[attr-defined]
    for _ in range(10):
        page.keyboard.press("Tab")  # type: ignore[attr-defined]
        if page.evaluate("document.activeElement.labels?.[0]?.textContent") == "Belopp att hålla inne (kr)":  # type: ignore[attr-defined]
            break
    page.keyboard.press("Control+A")  # type: ignore[attr-defined]
    page.keyboard.type("1329750,01")  # type: ignore[attr-defined]
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    # One öre over the cap of 1 329 750 kr: said to the öre, not "0 kr".
    page.wait_for_selector("text=överskrider taket med 0,01 kr", timeout=30_000)  # type: ignore[attr-defined]


TEXT_SIZES = """() => {
  const sizes = [];
  const visible = (el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden';
  for (const el of document.querySelectorAll('.smd-app table td, .smd-app table th')) {
    if (visible(el) && el.textContent.trim()) sizes.push(['table', el.textContent.trim().slice(0, 40),
                                                        parseFloat(getComputedStyle(el).fontSize)]);
  }
  for (const el of document.querySelectorAll('.smd-app .js-plotly-plot text')) {
    if (!visible(el) || !el.textContent.trim()) continue;
    const m = el.getScreenCTM();
    sizes.push(['chart', el.textContent.trim().slice(0, 40),
                parseFloat(getComputedStyle(el).fontSize) * Math.hypot(m.a, m.b)]);
  }
  return sizes;
}"""

OVERLAPS = """() => {
  const found = [];
  for (const plot of document.querySelectorAll('.smd-app .js-plotly-plot')) {
    if (!plot.getClientRects().length || getComputedStyle(plot).visibility === 'hidden') continue;
    const boxes = [...plot.querySelectorAll('text')].filter(t => t.textContent.trim() && t.getClientRects().length)
      .map(t => [t.textContent.trim(), t.getBoundingClientRect()]);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [a, r] = boxes[i], [b, s] = boxes[j];
      const w = Math.min(r.right, s.right) - Math.max(r.left, s.left);
      const h = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
      if (w > 1 && h > 1) found.push(a + ' / ' + b);
    }
  }
  return found;
}"""


def test_no_text_below_14_px_and_no_labels_overlap(controller: Served, open_page: Callable[..., object]) -> None:
    """Projector-readable at 1366×768: every table cell and every text of a chart is at least 14 px (a chart's
    text measured as drawn, scaling included), and no two texts of a chart overlap (labels, ticks, titles)."""
    page = open_page(controller.url + f"?token={TOKEN}")
    small, overlapping, cut_off = {}, {}, {}
    for title in each_tab(page):
        page.wait_for_timeout(500)  # a chart's resize after its first draw
        small[title] = sorted({f"{kind}: {text!r} {size:.1f}px" for kind, text, size in page.evaluate(TEXT_SIZES)
                               if size < 13.95})  # type: ignore[attr-defined]
        overlapping[title] = page.evaluate(OVERLAPS)  # type: ignore[attr-defined]
        cut_off[title] = page.evaluate(CUT_OFF)  # type: ignore[attr-defined]
    assert small == {t: [] for t in small}
    assert overlapping == {t: [] for t in overlapping}
    assert cut_off == {t: [] for t in cut_off}  # every table heading on the screen, none behind a scroll bar


# The visible table headings whose right edge lies beyond the window (at 1366 px: a column the reader cannot see).
CUT_OFF = """() => [...document.querySelectorAll('th')].filter(t => t.offsetParent !== null)
    .filter(t => t.getBoundingClientRect().right > document.documentElement.clientWidth).map(t => t.innerText)"""


def test_charts_say_where_their_text_alternative_is(council: Served, open_page: Callable[..., object]) -> None:
    page = open_page(council.url)
    show_tab(page, "Kvartal")
    wait_for_chart(page)
    label = page.locator(".smd-chart-cell").first.get_attribute("aria-label")  # type: ignore[attr-defined]
    assert label and "tabellen" in label
    toolbar = page.locator(".js-plotly-plot:visible").first.locator(".modebar-btn")  # type: ignore[attr-defined]
    assert [toolbar.nth(i).get_attribute("data-title") for i in range(toolbar.count())] == [
        "Spara diagrammet som bild (PNG)"]


NAMED = {"Anna Berg": "annas lösenord 2023", "Bo Ek": "bos eget lösenord"}


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The controllers' view with a users file of two controllers, made with ``samordning users add``, and
    behind a (pretend) reverse proxy that may give the name in ``X-Remote-User``."""
    tmp = tmp_path_factory.mktemp("named")
    users = tmp / "anvandare.json"
    for name, password in NAMED.items():
        subprocess.run([sys.executable, "-m", "samordning.cli", "users", "add", name, "--users", str(users),
                        "--password-stdin"], input=password + "\n", text=True, check=True, capture_output=True)
    yield from serve(tmp, "--controller", "--users", str(users), "--user-header", "X-Remote-User")


def log_in(page: object, name: str, password: str) -> None:
    page.get_by_label("Namn").fill(name)  # type: ignore[attr-defined]
    page.get_by_label("Lösenord").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Logga in").click()  # type: ignore[attr-defined]


def test_two_named_controllers_each_sign_their_own_change(named: Served, open_page: Callable[..., object]) -> None:
    """Two controllers from one users file, each in a browser of their own, log in on the Swedish login page
    (a wrong password first gets the Swedish message); each one's change carries their own name, in the
    dashboard and in the CLI's JSON."""
    from axe_playwright_python.sync_playwright import Axe

    anna = open_page(named.url, ready="form")  # every page is a browser context of its own (own cookies)
    assert "/login" in anna.url  # type: ignore[attr-defined]
    assert anna.locator("html").get_attribute("lang") == "sv"  # type: ignore[attr-defined]
    assert anna.title() == "Logga in – samordning"  # type: ignore[attr-defined]
    assert anna.evaluate("document.activeElement.id") == "namn"  # type: ignore[attr-defined]
    body = normalise(anna.locator("body").inner_text())  # type: ignore[attr-defined]
    assert "Password" not in body and "jupyter" not in body.lower()
    log_in(anna, "Anna Berg", "fel lösenord")
    alert = anna.get_by_role("alert")  # type: ignore[attr-defined]
    assert normalise(alert.inner_text()) == "Fel namn eller lösenord. Kontrollera och försök igen."
    serious = [v["id"] for v in Axe().run(anna).response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == []
    screenshot(anna, "inloggning-fel-losenord")
    log_in(anna, "anna berg", NAMED["Anna Berg"])  # the name as typed, recorded as the file spells it
    anna.wait_for_selector(".smd-app .card .value", timeout=LOAD)  # type: ignore[attr-defined]

    bo = open_page(named.url, ready="form")
    # Bo's browser also sends the header that carries the name from the server to the page's kernel: the
    # server replaces it with the login's name, so it changes nothing.
    bo.set_extra_http_headers({"X-Samordning-User": "Mallory"})  # type: ignore[attr-defined]
    log_in(bo, "Bo Ek", NAMED["Bo Ek"])
    bo.wait_for_selector(".smd-app .card .value", timeout=LOAD)  # type: ignore[attr-defined]

    assert "Inloggad som Anna Berg" in normalise(anna.locator(".smd-user").inner_text())  # type: ignore[attr-defined]
    assert "Inloggad som Bo Ek" in normalise(bo.locator(".smd-user").inner_text())  # type: ignore[attr-defined]

    show_tab(anna, "Kommentarer")
    anna.locator(".smd-editor textarea:visible").fill("Vakansen i Social välfärd förklarar utfallet.")  # type: ignore[attr-defined]
    anna.get_by_role("button", name="Spara kommentar").click()  # type: ignore[attr-defined]
    anna.wait_for_selector("text=Kommentaren är sparad.", timeout=30_000)  # type: ignore[attr-defined]
    comment = anna.locator(".smd-app .comment", has_text="Vakansen i Social välfärd")  # type: ignore[attr-defined]
    assert "Anna Berg" in normalise(comment.inner_text())

    show_tab(bo, "Betalningar och tvist")
    # The payment's amount (the withholding's form below has one too).
    bo.get_by_label("Belopp (kr)").first.fill("1 329 750")  # type: ignore[attr-defined]
    bo.get_by_label("Fakturanummer").fill("F-2023-0042")  # type: ignore[attr-defined]
    bo.get_by_role("button", name="Registrera betalning").click()  # type: ignore[attr-defined]
    bo.wait_for_selector("text=Betalningen är registrerad.", timeout=30_000)  # type: ignore[attr-defined]
    row = bo.locator(".smd-app tr", has_text="F-2023-0042")  # type: ignore[attr-defined]
    assert "Bo Ek" in normalise(row.inner_text())
    screenshot(bo, "betalning-bo-ek")

    def cli_json(*command: str) -> list[dict[str, object]]:
        import json

        done = subprocess.run([sys.executable, "-m", "samordning.cli", *command, "--json", "--db", named.db],
                              capture_output=True, text=True, check=True)
        return json.loads(done.stdout)

    comments = cli_json("comment", "list")
    assert [(c["author"], c["text"]) for c in comments] == [
        ("Anna Berg", "Vakansen i Social välfärd förklarar utfallet.")]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00", str(comments[0]["at"]))
    payments = cli_json("payment", "list")
    assert [(p["by"], p["invoice_no"], p["amount"]) for p in payments] == [("Bo Ek", "F-2023-0042", 1_329_750.0)]

    # Logging out, in Swedish; the next visit asks for the login again.
    anna.get_by_role("link", name="Logga ut").click()  # type: ignore[attr-defined]
    anna.wait_for_selector("text=Du är utloggad.", timeout=30_000)  # type: ignore[attr-defined]
    assert anna.locator("html").get_attribute("lang") == "sv"  # type: ignore[attr-defined]
    anna.goto(named.url)  # type: ignore[attr-defined]
    anna.wait_for_selector("form", timeout=30_000)  # type: ignore[attr-defined]
    assert "/login" in anna.url  # type: ignore[attr-defined]


def test_the_proxys_header_names_the_controller(named: Served, open_page: Callable[..., object]) -> None:
    """A request that comes with the single sign-on's header needs no login form: the page's kernel records
    the header's name (set here as the proxy would)."""
    page = open_page(named.url, ready=None)
    page.set_extra_http_headers({"X-Remote-User": "Cecilia Dahl"})  # type: ignore[attr-defined]
    page.goto(named.url, wait_until="commit")  # type: ignore[attr-defined]
    page.wait_for_selector(".smd-app .card .value", timeout=LOAD)  # type: ignore[attr-defined]
    assert "Inloggad som Cecilia Dahl" in normalise(page.locator(".smd-user").inner_text())  # type: ignore[attr-defined]
    show_tab(page, "Kommentarer")
    page.locator(".smd-editor textarea:visible").fill("Inloggad genom proxyn.")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Spara kommentar").click()  # type: ignore[attr-defined]
    page.wait_for_selector("text=Kommentaren är sparad.", timeout=30_000)  # type: ignore[attr-defined]
    authors = {c["text"]: c["author"] for c in named.store().comments(load_agreement(AGREEMENT).id).to_dict("records")}
    assert authors["Inloggad genom proxyn."] == "Cecilia Dahl"
