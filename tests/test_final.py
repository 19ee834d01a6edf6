"""Reporting back on the assignment (§7): narratives and sign-off in all three formats, a finalized report that
stays as presented after later uploads, the next report listing what changed and why, and clear refusals."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from samordning.agreement import load_agreement
from samordning.cli import main
from samordning.errors import SamordningError
from samordning.money import format_kr
from samordning.report import finalize
from samordning.store import Store
from samordning.ui.document import report_file

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT = load_agreement(ROOT / "data" / "avtal" / "RUN-305-2022.toml")
SOCIAL_TEXT = ("Samordnare för barn och unga på plats i alla åtta kommuner.\n"
               "Handlingsplanen för våld i nära relationer är försenad: remissen kom i augusti.")
WHOLE_TEXT = "Uppdraget följer planen; se områdena nedan."
Q2_TEXT = "Kontaktpersoner för unga utanför arbete och studier i sex av åtta kommuner."
needs_pdf = pytest.mark.skipif(not (shutil.which("chromium") and shutil.which("pdftotext")),
                               reason="the PDF needs Debian's chromium and poppler-utils (.ci/run installs them)")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def text_of_html(content: bytes) -> str:
    html = content.decode("utf-8").split("</head>")[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html).replace("\u00a0", " "))


def correction(path: Path, amount: float) -> Path:
    """A re-export of September for Social välfärd after a correction in the ledger."""
    wb = Workbook()
    ws = wb.active
    ws.append(["Verifikationsdatum", "Konto", "Projekt", "Text", "Belopp"])
    ws.append([dt.date(2023, 9, 15), "5011", "7301", "Lön september, rättad", amount])
    wb.save(path)
    return path


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    db = str(tmp_path / "final.db")
    assert run(capsys, "demo", "--db", db)[0] == 0
    for args in (("--area", "social", "--text", SOCIAL_TEXT), ("--text", WHOLE_TEXT),
                 ("--area", "arbete", "--quarter", "2023Q2", "--text", Q2_TEXT)):
        assert run(capsys, "comment", "add", "--narrative", "--db", db, "--user", "anna", *args)[0] == 0
    assert run(capsys, "signoff", "--db", db, "--quarter", "2023Q3", "--party", "utförare", "--name", "Eva Berg",
               "--title", "Regiondirektör", "--date", "2023-10-12")[0] == 0
    return db


def test_narratives_and_signoff_in_html_and_xlsx(db: str) -> None:
    store = Store.open(db)
    html = text_of_html(report_file(store, AGREEMENT, ".html")[1])
    first, economic = html.split("Ekonomisk rapport: nyckeltal", 1)
    assert "Återrapportering av uppdraget" in first  # the narratives come first, then the economic report
    assert "Handlingsplanen för våld i nära relationer är försenad" in first and WHOLE_TEXT in first
    assert "Social välfärd" in first
    assert f"Arbetsmarknad och utbildning (§4) Kv 2 2023 {Q2_TEXT}" in first  # a quarter's text under its heading
    signatures = economic.split("Underskrifter", 1)[1]
    assert "Eva Berg" in signatures and "Regiondirektör" in signatures and "2023-10-12" in signatures
    assert "Kommunförbundet Jämtland Härjedalen" in signatures  # the other party: lines left to sign on paper
    assert "RUN/305/2022" in html and "2023-01-01" in html

    path = Path(db).with_name("rapport.xlsx")
    path.write_bytes(report_file(store, AGREEMENT, ".xlsx")[1])
    wb = load_workbook(path)
    assert wb.sheetnames[0] == "Återrapportering"
    cells = [c for row in wb["Återrapportering"].iter_rows(values_only=True) for c in row if c]
    assert SOCIAL_TEXT in cells and WHOLE_TEXT in cells
    rows = [r for r in wb["Återrapportering"].iter_rows(values_only=True) if r[2] == Q2_TEXT]
    assert rows[0][:2] == ("Arbetsmarknad och utbildning", "Kv 2 2023")
    signs = [c for row in wb["Underskrifter"].iter_rows(values_only=True) for c in row if c]
    assert "Eva Berg" in signs and "Regiondirektör" in signs


@needs_pdf
def test_finalized_pdf_has_narratives_signoff_and_stays_as_presented(
        db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "faststalld.pdf"
    code, said, _ = run(capsys, "report", "--db", db, "--finalize", "--presented", "2023-10-12", "--out", str(out))
    assert code == 0 and "Rapport nr 1 för Kv 3 2023 är fastställd" in said
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout.replace("\u00a0", " ")
    assert "Återrapportering av uppdraget" in text and "remissen kom i augusti" in text
    assert "Eva Berg" in text and "Regiondirektör" in text and "RUN/305/2022" in text
    assert "Presenterad för samverkansrådet 2023-10-12" in text

    stored = json.loads(run(capsys, "reports", "--db", db, "--json")[1])
    assert len(stored) == 1 and stored[0]["presented_on"] == "2023-10-12" and stored[0]["quarter"] == "2023Q3"
    assert stored[0]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    live_before = json.loads(run(capsys, "quarters", "--db", db, "--by-area", "--json")[1])
    assert stored[0]["figures"] == live_before  # the same JSON as quarters --by-area
    history = json.loads(run(capsys, "history", "--db", db, "--json")[1])
    assert {u["sha256"] for u in stored[0]["uploads"]} == {u["sha256"] for u in history}

    # A correction of September arrives after the meeting: the live figures change, the finalized report not.
    fix = correction(tmp_path / "september_rattad.xlsx", 250_000.50)
    assert run(capsys, "import", str(fix), "--db", db)[0] == 0
    run(capsys, "comment", "add", "--narrative", "--db", db, "--area", "social", "--text", "Ny text efteråt.")
    live_after = json.loads(run(capsys, "quarters", "--db", db, "--by-area", "--json")[1])
    assert live_after != live_before
    again = json.loads(run(capsys, "reports", "--db", db, "--json")[1])
    assert again == stored
    saved = tmp_path / "sparad.pdf"
    assert run(capsys, "reports", "--db", db, "--save", "1", "--out", str(saved))[0] == 0
    assert saved.read_bytes() == out.read_bytes()

    # The next report says what changed since report nr 1: September's social actual, old → new, and why.
    old = next(r for r in live_before if r["quarter"] == "2023Q3" and r["area"] == "Social välfärd")
    new = next(r for r in live_after if r["quarter"] == "2023Q3" and r["area"] == "Social välfärd")
    html = text_of_html(report_file(Store.open(db), AGREEMENT, ".html")[1])
    changes = html.split("Ändringar sedan den fastställda rapporten nr 1", 1)[1].split("Ekonomisk rapport", 1)[0]
    old_ore, new_ore = round(old["actual"] * 100), round(new["actual"] * 100)
    diff = ("+" if new_ore > old_ore else "−") + format_kr(abs(new_ore - old_ore), ore_precision=True)
    assert (f"Kv 3 2023 Social välfärd Utfall {format_kr(old_ore, ore_precision=True)} "
            f"{format_kr(new_ore, ore_precision=True)} {diff}") in changes
    fix_id = max(u["id"] for u in json.loads(run(capsys, "history", "--db", db, "--json")[1]))
    assert f"uppladdning {fix_id} (september_rattad.xlsx) för 2023-09" in changes
    assert "gäller inte längre för 2023-09" in changes  # the demo's September rows no longer count
    # The re-export covers September, so it replaces the month for both areas (the README's corrections rule);
    # the earlier quarters did not change and are not listed.
    assert "Kv 3 2023 Arbetsmarknad och utbildning Utfall" in changes
    assert "Kv 1 2023" not in changes and "Kv 2 2023" not in changes


def test_finalizing_twice_needs_replace_and_keeps_the_first(db: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    first = tmp_path / "forsta.html"
    assert run(capsys, "report", "--db", db, "--finalize", "--presented", "2023-10-12", "--out", str(first))[0] == 0
    second = tmp_path / "andra.html"
    code, _, err = run(capsys, "report", "--db", db, "--finalize", "--presented", "2023-10-19", "--out", str(second))
    assert code == 2 and "redan fastställd (nr 1, presenterad 2023-10-12)" in err and "--replace" in err
    assert "Traceback" not in err and not second.exists()
    assert len(json.loads(run(capsys, "reports", "--db", db, "--json")[1])) == 1

    assert run(capsys, "report", "--db", db, "--finalize", "--presented", "2023-10-19", "--replace",
               "--out", str(second))[0] == 0
    stored = json.loads(run(capsys, "reports", "--db", db, "--json")[1])
    assert [(r["id"], r["replaces"], r["replaced_by"]) for r in stored] == [(1, None, 2), (2, 1, None)]
    assert stored[0]["sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()


def test_finalize_stores_what_its_caller_renders(db: str) -> None:
    """The domain's finalize takes the writer from its caller (the UI's renderer): it renders once, after the
    checks, the report as presented; a refused finalize renders nothing."""
    store = Store.open(db)
    rendered: list[object] = []

    def render(report: object) -> bytes:
        rendered.append(report)
        return b"rapporten"

    presented = dt.date(2023, 10, 12)
    report_id, report, content = finalize(store, AGREEMENT, presented, suffix=".HTML", render=render, user="anna")
    assert content == b"rapporten" and rendered == [report] and report.presented_on == presented
    filename, stored = store.final_report_content(AGREEMENT.id, report_id)
    assert stored == b"rapporten" and filename.startswith("faststalld-rapport-") and filename.endswith(".html")
    with pytest.raises(SamordningError, match="redan fastställd"):
        finalize(store, AGREEMENT, presented, suffix=".html", render=render, user="anna")
    with pytest.raises(SamordningError, match="Rapporten kan skrivas som"):
        finalize(store, AGREEMENT, presented, suffix=".docx", render=render, user="anna", replace=True)
    assert len(rendered) == 1


def test_finalizing_without_data_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "tom.db")
    out = tmp_path / "rapport.html"
    code, _, err = run(capsys, "report", "--db", db, "--finalize", "--presented", "2023-04-20", "--quarter", "2023Q1",
                       "--out", str(out))
    assert code == 2 and "inget utfall för Kv 1 2023" in err and "Traceback" not in err
    assert not out.exists() and Store.open(db).final_reports(AGREEMENT.id).empty
    code, _, err = run(capsys, "report", "--db", db, "--finalize", "--out", str(out))
    assert code == 2 and "--presented" in err


def test_narratives_keep_their_history(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "comment", "add", "--narrative", "--db", db, "--area", "social", "--user", "bo", "--text", "Andra.")
    listed = json.loads(run(capsys, "comment", "list", "--narrative", "--history", "--db", db, "--json")[1])
    social = [c for c in listed if c["area"] == "social"]
    assert [(c["text"], c["current"], c["author"]) for c in social] == [(SOCIAL_TEXT, False, "anna"),
                                                                        ("Andra.", True, "bo")]
    assert social[1]["supersedes"] == social[0]["id"]
    variance = json.loads(run(capsys, "comment", "list", "--db", db, "--json")[1])
    assert all(c["text"] not in (SOCIAL_TEXT, "Andra.", WHOLE_TEXT) for c in variance)  # the kinds are kept apart


def test_changes_since_the_finalized_report_without_a_pdf_renderer(db: str, tmp_path: Path) -> None:
    """Finalize with the Excel writer (no Chromium needed), then a correction of September: the next report lists
    Social välfärd's Q3 actual old → new to the öre, caused by the new upload, and nothing else."""
    from samordning.report import build_report
    from samordning.report.excel import write_xlsx

    store = Store.open(db)
    before = build_report(store, AGREEMENT, "2023Q3")
    old = int(before.quarters_by_area.set_index(["quarter", "area"]).loc[("2023Q3", "social"), "actual_ore"])
    report_id, _, _ = finalize(store, AGREEMENT, dt.date(2023, 10, 12), quarter="2023Q3", suffix=".xlsx",
                               render=write_xlsx, user="anna")
    september = build_report(store, AGREEMENT, "2023Q3")
    assert september.since is not None and september.since.id == report_id and september.changes == []
    path = correction(tmp_path / "rattelse_september.xlsx", 12_345.67)
    assert main(["import", str(path), "--db", db, "--user", "anna"]) == 0
    uploads = store.uploads(AGREEMENT.id)
    new_id = int(uploads["id"].max())
    # The correction replaces September of the third demo export: its rows of that month no longer count.
    replaced = uploads.loc[uploads["status"] == "delvis ersatt", "id"].tolist()
    after = build_report(store, AGREEMENT, "2023Q3")
    rows = store.rows_in_force(AGREEMENT.id)
    costs = rows[rows["period"].isin(["2023-07", "2023-08"]) & rows["account"].str[:1].isin(["4", "5", "6", "7"])]
    # September is now the correction's one Social välfärd row; for Arbetsmarknad, July and August only.
    expected = {"Social välfärd": int(costs.loc[costs["project"] == "7301", "amount_ore"].sum()) + 1_234_567,
                "Arbetsmarknad och utbildning": int(costs.loc[costs["project"] == "7302", "amount_ore"].sum())}
    olds = before.quarters_by_area.set_index(["quarter", "area"])["actual_ore"]
    assert [(c.quarter, c.area, c.what, c.old_ore, c.new_ore) for c in after.changes] == [
        ("2023Q3", "Social välfärd", "Utfall", old, expected["Social välfärd"]),
        ("2023Q3", "Arbetsmarknad och utbildning", "Utfall", int(olds[("2023Q3", "arbete")]),
         expected["Arbetsmarknad och utbildning"])]
    assert old != expected["Social välfärd"]
    social = next(c for c in after.changes if c.area == "Social välfärd")
    assert social.causes[0].startswith(f"uppladdning {new_id} (rattelse_september.xlsx) för 2023-09")
    assert any(f"uppladdning {u} " in cause and "gäller inte längre för 2023-09" in cause
               for u in replaced for cause in social.causes)
