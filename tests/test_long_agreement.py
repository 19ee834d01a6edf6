"""A four-year agreement with yearly installments (like RUN/34/2018, 2019–2022), followed up per quarter, per year
and for the whole period, with exports of two of its years. Every figure below is worked by hand from the rows."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from openpyxl import Workbook

from samordning.cli import main

ROOT = Path(__file__).resolve().parent.parent
RUN_34 = ROOT / "tests" / "data" / "avtal" / "RUN-34-2018.toml"

# 2019: 300 000 (Q1) + 150 000,50 (Q2) + 50 000 (Q3) + 400 000 (Q4) = 900 000,50 kr counted; the advance booked as
# income (class 3) and a row of December 2018 are left out.
ROWS_2019 = [(dt.date(2018, 12, 31), "5011", "7301", "Lön december 2018", 10000),
             (dt.date(2019, 2, 15), "5011", "7301", "Lön", 300000),
             (dt.date(2019, 5, 20), "4010", "7302", "Inköp", 150000.50),
             (dt.date(2019, 8, 10), "6110", "7301", "Resor", 50000),
             (dt.date(2019, 11, 30), "5011", "7302", "Lön", 400000),
             (dt.date(2019, 12, 31), "3010", "7301", "Förskott 2019", -2000000)]
# 2021: 600 000 (Q1) + 200 000 (Q2) − 100 000 (Q4, a credit) = 700 000 kr counted; project 9999 maps to no area.
ROWS_2021 = [(dt.date(2021, 3, 31), "5011", "7301", "Lön", 600000),
             (dt.date(2021, 6, 30), "5011", "7302", "Lön", 200000),
             (dt.date(2021, 7, 15), "5011", "9999", "Annat projekt", 1000),
             (dt.date(2021, 12, 1), "5011", "7301", "Rättelse", -100000)]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def export(path: Path, rows: list[tuple[object, ...]]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["Verifikationsdatum", "Konto", "Projekt", "Text", "Belopp"])
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("SAMORDNING_AGREEMENT", raising=False)
    db = str(tmp_path / "s.db")
    files = [str(export(tmp_path / "huvudbok_2019.xlsx", ROWS_2019)),
             str(export(tmp_path / "huvudbok_2021.xlsx", ROWS_2021))]
    code, _, err = run(capsys, "import", *files, "--db", db, "--agreement", str(RUN_34), "--user", "anna")
    assert code == 0, err
    return db


def figures(capsys: pytest.CaptureFixture[str], db: str, *extra: str) -> list[dict[str, object]]:
    code, out, err = run(capsys, "quarters", "--db", db, "--agreement", "RUN/34/2018", "--json", *extra)
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_sixteen_quarters_with_an_advance_at_the_start_of_each_year(db: str,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    table = {r["quarter"]: r for r in figures(capsys, db)}
    assert len(table) == 16 and min(table) == "2019Q1" and max(table) == "2022Q4"
    assert {q: r["advance"] for q, r in table.items() if r["advance"]} == {
        "2019Q1": 2000000.0, "2020Q1": 2000000.0, "2021Q1": 2000000.0, "2022Q1": 2000000.0}
    assert {q: r["actual"] for q, r in table.items() if r["actual"]} == {
        "2019Q1": 300000.0, "2019Q2": 150000.5, "2019Q3": 50000.0, "2019Q4": 400000.0,
        "2021Q1": 600000.0, "2021Q2": 200000.0, "2021Q4": -100000.0}
    # the cumulative balance: advances so far − actuals so far
    assert table["2019Q1"]["balance"] == 1700000.0
    assert table["2019Q4"]["balance"] == 1099999.5
    assert table["2020Q4"]["balance"] == 3099999.5
    assert table["2021Q1"]["balance"] == 4499999.5
    assert table["2021Q4"]["balance"] == 4399999.5
    assert table["2022Q4"]["balance"] == 6399999.5
    assert table["2019Q2"]["utilisation"] is None  # no advance that quarter: no ratio, not a division by zero


def test_per_year_and_for_the_whole_period(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    years = {r["year"]: r for r in figures(capsys, db, "--by-year")}
    assert list(years) == ["2019", "2020", "2021", "2022", "hela perioden"]
    assert {y: (r["advance"], r["actual"], r["variance"], r["balance"]) for y, r in years.items()} == {
        "2019": (2000000.0, 900000.5, 1099999.5, 1099999.5),
        "2020": (2000000.0, 0.0, 2000000.0, 3099999.5),
        "2021": (2000000.0, 700000.0, 1300000.0, 4399999.5),
        "2022": (2000000.0, 0.0, 2000000.0, 6399999.5),
        "hela perioden": (8000000.0, 1600000.5, 6399999.5, 6399999.5),
    }
    assert years["2019"]["utilisation"] == 0.450000  # 900 000,50 / 2 000 000 = 0,45000025
    assert years["hela perioden"]["utilisation"] == 0.2  # 1 600 000,50 / 8 000 000 = 0,20000006
    by_area = figures(capsys, db, "--by-year", "--by-area")
    social = {r["year"]: r["actual"] for r in by_area if r["area"] == "Social välfärd"}
    # Social välfärd (7301): 300 000 + 50 000 in 2019; 600 000 − 100 000 in 2021
    assert social == {"2019": 350000.0, "2020": 0.0, "2021": 500000.0, "2022": 0.0, "hela perioden": 850000.0}
    code, out, _ = run(capsys, "quarters", "--db", db, "--agreement", "RUN/34/2018", "--by-year")
    assert code == 0
    # rounded to whole kronor, half up: 1 600 000,50 → 1 600 001; 6 399 999,50 → 6 400 000
    assert ("Hela perioden 2019-01-01–2022-12-31: förskott 8 000 000 kr, utfall 1 600 001 kr, "
            "avvikelse 6 400 000 kr, kvarstående vid slutet 6 400 000 kr") in out.replace("\u00a0", " ")


def test_key_figures_and_forecast_over_four_years(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    from samordning.agreement import load_agreement
    from samordning.figures import Figures
    from samordning.store import Store

    figures_ = {f.key: f.ore for f in Figures.load(Store.open(db), load_agreement(RUN_34)).key_figures()}
    # Newest month with data: 2021-12, month 36 of 48. Advances due by then: 3 × 2 000 000 kr.
    assert figures_["advanced"] == 600_000_000
    assert figures_["actual"] == 160_000_050
    assert figures_["unspent"] == 600_000_000 - 160_000_050
    # forecast = 1 600 000,50 + 1 600 000,50 × 12 / 36 = 1 600 000,50 + 533 333,50 = 2 133 334,00 kr
    assert figures_["forecast"] == 213_333_400
    # projected repayment = 8 000 000 − 2 133 334 = 5 866 666 kr
    assert figures_["repayment"] == 586_666_600
    code, out, _ = run(capsys, "check", "--db", db, "--agreement", "RUN/34/2018", "--json")
    assert code == 0
    assert "advances_cover_compensation" not in {f["rule"] for f in json.loads(out)}  # 4 × 1/4 inside 2019–2022


def test_the_dashboard_shows_each_year_and_the_whole_period(db: str) -> None:
    from samordning.store import Store
    from samordning.ui.dashboard.app import App
    from samordning.ui.dashboard.tabs.quarters import QuartersTab

    tab = App(Store.open(db), "RUN/34/2018").show(QuartersTab)
    shown = " ".join(tab.years.value.replace("\u00a0", " ").replace("\u202f", " ").split())
    # whole kronor, half up: 900 000,50 → 900 001; 1 099 999,50 → 1 100 000
    assert "<td class=l>2019</td><td>2 000 000 kr</td><td>900 001 kr</td><td>1 100 000 kr</td>" in shown
    assert ("<td class=l>Hela perioden 2019-01-01–2022-12-31</td><td>8 000 000 kr</td><td>1 600 001 kr</td>"
            "<td>6 400 000 kr</td><td>6 400 000 kr</td><td>20 %</td>") in shown
    tab.area.value = "social"  # Social välfärd (7301): 350 000 kr in 2019, 500 000 kr in 2021
    shown = " ".join(tab.years.value.replace("\u00a0", " ").replace("\u202f", " ").split())
    assert "<td class=l>2021</td><td>1 000 000 kr</td><td>500 000 kr</td>" in shown


def test_the_report_has_each_year_and_the_period_so_far(db: str) -> None:
    from samordning.agreements import version
    from samordning.store import Store
    from samordning.ui.document import report_file

    store = Store.open(db)
    _report, content = report_file(store, version(store, "RUN/34/2018").agreement, ".html", "2021Q4")
    page = re.sub(r">\s+<", "><", " ".join(content.decode("utf-8").replace("\u00a0", " ").replace("\u202f", " ")
                                           .split()))
    section = page[page.index('<table id="per-ar">'):]
    section = section[:section.index("</table>")]
    # through 2021Q4: three advances of 2 000 000 kr, 1 600 000,50 kr actual (26,7 %), 4 399 999,50 kr left
    assert '<td class="l">2020</td><td>2 000 000,00 kr</td><td>0,00 kr</td>' in section
    assert ('<td class="l">Hela perioden 2019-01-01–2021-12-31</td><td>6 000 000,00 kr</td><td>1 600 000,50 kr</td>'
            '<td>+4 399 999,50 kr</td><td>4 399 999,50 kr</td><td>27 %</td>') in section
    assert "<td class=\"l\">2022</td>" not in section


def test_the_workbook_has_a_sheet_per_year_and_for_the_period_so_far(db: str) -> None:
    import io

    from openpyxl import load_workbook

    from samordning.agreements import version
    from samordning.store import Store
    from samordning.ui.document import report_file

    store = Store.open(db)
    _report, content = report_file(store, version(store, "RUN/34/2018").agreement, ".xlsx", "2021Q4")
    book = load_workbook(io.BytesIO(content), read_only=True)
    assert book.sheetnames.index("Per år") == book.sheetnames.index("Kvartal") + 1
    rows = list(book["Per år"].iter_rows(values_only=True))
    assert rows[2] == ("År", "Förskott enligt plan", "Förskott i uppföljningen", "Utfall", "Avvikelse",
                       "Kvarstående vid slutet", "Nyttjandegrad")
    # through 2021Q4, by hand: one advance of 2 000 000 kr a year; actual 900 000,50 (2019), 0 (2020), 700 000 (2021);
    # the balance at each year's end 1 099 999,50 → 3 099 999,50 → 4 399 999,50 kr
    assert rows[3:] == [
        ("2019", 2000000, 2000000, 900000.5, 1099999.5, 1099999.5, 0.45000025),
        ("2020", 2000000, 2000000, 0, 2000000, 3099999.5, 0),
        ("2021", 2000000, 2000000, 700000, 1300000, 4399999.5, 0.35),
        ("Hela perioden 2019-01-01–2021-12-31", 6000000, 6000000, 1600000.5, 4399999.5, 4399999.5,
         pytest.approx(1600000.5 / 6000000)),
    ]
    assert rows[0][0].startswith("Per år och för hela perioden")
