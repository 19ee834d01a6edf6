"""The economic report (§7) in Excel, HTML and PDF: the same figures as the engine to the öre, no formula made
from uploaded text, and a PDF whose text names the agreement and its key figures."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from samordning.agreement import Agreement, load_agreement
from samordning.cli import main
from samordning.demo import write_examples
from samordning.errors import SamordningError
from samordning.followup import key_figures, quarterly
from samordning.imports import classified_rows, import_export
from samordning.money import format_kr
from samordning.report import build_report
from samordning.store import Store
from samordning.ui.document import renderer, report_file

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT = ROOT / "data" / "avtal" / "RUN-305-2022.toml"
HOSTILE = ["=HYPERLINK(\"http://example.com\",\"klicka\")", "+1+1", "-2+3", "@SUM(A1)"]


@pytest.fixture(scope="module")
def agreement() -> Agreement:
    return load_agreement(AGREEMENT)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, agreement: Agreement) -> Store:
    folder = tmp_path_factory.mktemp("report")
    store = Store.open(folder / "report.db")
    for path in write_examples(folder / "exempel"):
        import_export(store, agreement, path.name, path.read_bytes(), user="controller")
    # A correction for September whose texts look like formulas (an ERP may write anything in Text).
    wb = Workbook()
    ws = wb.active
    ws.append(["Verifikationsdatum", "Konto", "Projekt", "Text", "Belopp"])
    for i, text in enumerate(HOSTILE):
        ws.append([dt.date(2023, 9, 10 + i), "6510", "7301", text, 100.25])
        ws.cell(ws.max_row, 4).data_type = "s"
    path = folder / "september.xlsx"
    wb.save(path)
    import_export(store, agreement, path.name, path.read_bytes(), user="controller")
    store.add_payment(agreement_id=agreement.id, quarter="2023Q2", amount_ore=130_000_000, invoice_no="F-2",
                      invoiced_on=dt.date(2023, 3, 20), paid_on=dt.date(2023, 4, 3), user="controller")
    store.add_withholding(agreement_id=agreement.id, area="social", amount_ore=20_000_000, reason="Tvist om leverans",
                          withheld_on=dt.date(2023, 8, 1), cap_ore=132_975_000, clause="§10", user="controller")
    store.add_comment(agreement_id=agreement.id, text="Vakans under maj; tjänsten tillsatt i juni.",
                      author="controller", quarter="2023Q2", area="social")
    return store


class ExternalLinks(HTMLParser):
    """Collects what a page would fetch: script sources, stylesheets and images (script text is not parsed)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if (tag in ("script", "img", "iframe") and values.get("src")) or (tag == "link" and values.get("href")):
            self.found.append(f"{tag}: {values.get('src') or values.get('href')}")


def engine(store: Store, agreement: Agreement) -> tuple[list, object]:
    rows = classified_rows(store, agreement)
    payments, held = store.payments(agreement.id), store.withholdings(agreement.id)
    return (key_figures(agreement, rows, payments, held),
            quarterly(agreement, rows, payments=payments, withholdings=held))


def test_xlsx_figures_equal_the_engine_and_no_formulas(store: Store, agreement: Agreement) -> None:
    _, content = report_file(store, agreement, ".xlsx")
    path = Path(store.engine.url.database).with_name("rapport.xlsx")
    path.write_bytes(content)
    wb = load_workbook(path)
    assert wb.sheetnames[:4] == ["Återrapportering", "Sammanfattning", "Kvartal", "Områden"]
    assert "Per år" not in wb.sheetnames  # one calendar year: no part per year (as in the HTML report)
    figures, table = engine(store, agreement)
    quarters = wb["Kvartal"]
    values = list(quarters.iter_rows(min_row=2, values_only=True))
    assert [v[0] for v in values] == ["Kv 1 2023", "Kv 2 2023", "Kv 3 2023"]
    for row, q in zip(values, table.itertuples(), strict=True):
        assert Decimal(str(row[4])) == Decimal(int(q.actual_ore)) / 100
        assert Decimal(str(row[2])) == Decimal(int(q.advance_ore)) / 100
        assert Decimal(str(row[5])) == Decimal(int(q.variance_ore)) / 100
    assert values[1][2] == 1_300_000 and values[1][3] == "registrerad"  # the registered Q2 payment
    assert quarters["E2"].number_format == '#,##0.00 "kr"'
    assert quarters.freeze_panes == "A2" and quarters.auto_filter.ref.startswith("A1:")
    assert quarters.page_setup.orientation == "landscape" and quarters.print_title_rows == "$1:$1"
    summary = {r[0]: r[1] for r in wb["Sammanfattning"].iter_rows(values_only=True) if r and r[0]}
    for f in figures:
        assert Decimal(str(summary[f.label])) == Decimal(f.ore) / 100
    formulas = [(ws.title, c.coordinate) for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    texts = {c.value for c in wb["Transaktioner"]["J"]}
    assert set(HOSTILE) <= texts
    assert "Vakans under maj; tjänsten tillsatt i juni." in {c.value for c in wb["Kommentarer"]["C"]}
    sha = {c.value for c in wb["Underlag"]["C"]}
    assert all(u in sha for u in store.uploads(agreement.id)["sha256"])


def test_html_is_self_contained_and_has_the_figures(store: Store, agreement: Agreement) -> None:
    _, content = report_file(store, agreement, ".html")
    html = content.decode("utf-8")
    external = ExternalLinks()
    external.feed(html)
    assert external.found == []  # plotly.js and everything else is inside the file: it opens without a network
    figures, table = engine(store, agreement)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split("</head>")[1]).replace("\u00a0", " "))
    for f in figures:
        assert format_kr(f.ore) in text
    for q in table.itertuples():
        assert format_kr(int(q.actual_ore), ore_precision=True) in text
    assert "RUN/305/2022" in text and "Kommunförbundet Jämtland Härjedalen" in text
    assert "Tvist om leverans" in text and "Vakans under maj" in text
    assert "1 329 750 kr av ersättningen saknar förskottsdatum inom giltighetstiden" in text


def test_quarter_option_limits_the_period(store: Store, agreement: Agreement) -> None:
    report = build_report(store, agreement, "2023Q1")
    assert report.quarters["quarter"].tolist() == ["2023Q1"]
    assert report.period_end == dt.date(2023, 3, 31)
    actual = next(f for f in report.figures if f.key == "actual")
    assert actual.ore == 95_962_741  # the demo's Q1: 959 627,41 kr
    rows = report.transactions.frame()  # read from the database when asked for, not held by the report
    assert set(rows["quarter"]) == {"2023Q1"}
    assert len(report.transactions) == len(rows) and report.transactions.total_ore == 95_962_741


@pytest.mark.skipif(not (shutil.which("chromium") and shutil.which("pdftotext")),
                    reason="the PDF needs Debian's chromium and poppler-utils (.ci/run installs them)")
def test_pdf_text_has_the_agreement_and_key_figures(store: Store, agreement: Agreement, tmp_path: Path) -> None:
    out = tmp_path / "rapport.pdf"
    assert main(["report", "--db", str(store.engine.url.database), "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout.replace("\u00a0", " ")
    figures, table = engine(store, agreement)
    assert "RUN/305/2022" in text
    for f in figures:
        assert format_kr(f.ore) in text
    assert format_kr(int(table["actual_ore"].iloc[0]), ore_precision=True) in text
    assert re.search(r"Sida 1 av \d+", text)


def test_cli_refuses_an_unknown_format(store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--db", str(store.engine.url.database), "--out", str(tmp_path / "rapport.docx")]) == 2
    assert "ändelsen väljer format" in capsys.readouterr().err
    assert not (tmp_path / "rapport.docx").exists()


def test_unknown_format_and_missing_chromium_are_refused_in_swedish(
        store: Store, agreement: Agreement, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SamordningError, match=r"Rapporten kan skrivas som \.xlsx, \.pdf, \.html; inte som \.docx"):
        report_file(store, agreement, ".docx")
    with pytest.raises(SamordningError, match="inte som fil utan ändelse"):
        renderer("")
    monkeypatch.delenv("SAMORDNING_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(SamordningError, match="PDF-rapporten skrivs ut med Chromium, som inte finns på datorn"):
        report_file(store, agreement, ".PDF")


def test_selection_workbook_keeps_text_as_text_and_amounts_exact() -> None:
    import io

    import pandas as pd

    from samordning.report.excel import write_selection

    rows = pd.DataFrame({"filename": ["a.xlsx", "a.xlsx"], "sheet": ["Blad1", "Blad1"], "excel_row": [2, 3],
                         "booking_date": [dt.date(2023, 2, 3), None], "period": ["2023-02", "2023-03"],
                         "account": ["6510", "5011"], "cost_centre": ["", ""], "project": ["7301", "7301"],
                         "voucher": ["V1", "V2"], "text": ["\tTAB", "@SUM(A1)"], "amount_ore": [1_234, -1],
                         "area": ["social", None], "reason": ["", "not_cost"]})
    out = io.BytesIO()
    write_selection(rows.itertuples(index=False), out, {"social": "Social välfärd"})  # type: ignore[arg-type]
    sheet = load_workbook(out)["Transaktioner"]
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [v[10] for v in values] == [12.34, -0.01]  # written as Decimal kronor, read back as numbers
    assert [sheet.cell(r, 10).data_type for r in (2, 3)] == ["s", "s"]  # never a formula
    assert [v[11] for v in values] == ["Social välfärd", None]
    assert [v[12] for v in values] == [None, "Inte ett kostnadskonto"]


def test_times_in_the_workbook_are_stockholm_with_their_offset(store: Store, agreement: Agreement) -> None:
    """The dashboard and the PDF show Swedish local time; the workbook writes the same time as data, with the
    offset (it wrote UTC without one: 04:57 beside the dashboard's 05:57)."""
    from samordning.localtime import local_time

    _, content = report_file(store, agreement, ".xlsx")
    path = Path(store.engine.url.database).with_name("tider.xlsx")
    path.write_bytes(content)
    sheet = load_workbook(path)["Underlag"]
    head = [c.value for c in sheet[1]]
    written = [r[head.index("Tid")] for r in sheet.iter_rows(min_row=2, values_only=True) if r[0]]
    stored = store.uploads(agreement.id)["uploaded_at"].tolist()
    assert written and len(written) <= len(stored)
    for text, at in zip(written, stored, strict=False):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+0[12]:00", text)
        assert text[:16].replace("T", " ") == local_time(at)
