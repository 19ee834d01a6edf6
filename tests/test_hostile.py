"""Hostile input (issue 16, items 3, 5, 7–10): every file of tests/data/make_hostile.py is refused in Swedish
with exit 1, nothing is stored, and the process that read it lives on; amounts beyond ±10¹² kr are refused
by cell; control characters are cleaned on the way in; file names are shown with control and bidi characters
escaped."""

from __future__ import annotations

import io
import os
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from samordning.agreement import load_agreement
from samordning.cli import main
from samordning.errors import SamordningError
from samordning.imports import import_export
from samordning.ingest import detect, isolate, read_export
from samordning.names import shown
from samordning.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))
import make_hostile
import test_storage

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT = load_agreement(ROOT / "data" / "avtal" / "RUN-305-2022.toml")
db_url = test_storage.db_url  # the fixture: a fresh SQLite file, or a new PostgreSQL database
GOOD_CSV = "Verifikationsdatum;Konto;Projekt;Text;Belopp\n2023-02-01;5011;7301;Lön;100,00\n"

# file → what the refusal must say (the limit it broke, in Swedish)
REFUSALS = {
    "hörn_xfd1048576.xlsx": "kunde inte läsas: läsaren avbröts (SIGABRT)",
    "hörn_xfd1048576_deklarerad.xlsx": "är 16 384 kolumner brett (till kolumn XFD); högst 500 kolumner läses",
    "hörn_g1048576.xlsx": "sträcker sig till rad 1 048 576 och kolumn G (7 340 032 celler), men filen är bara",
    "hörn_xfd3.xlsx": "är 16 384 kolumner brett (till kolumn XFD); högst 500 kolumner läses",
    "delade_strängar.xlsx": "säger sig ha 4 000 000 000 delade textvärden",
    "många_blad.xlsx": "det liknar en så kallad zip-bomb",
    "miljon_verifikationer.se": "har 1 000 000 verifikationer; högst 500 000 läses",
    "en_rad.csv": "Rad 1 i filen en_rad.csv är 40,0 MB lång; längsta tillåtna rad är 1,0 MB",
    "noll.xlsx": "noll.xlsx är en enhet, inte en vanlig fil",
    "rör.csv": "rör.csv är en namngiven pipe (FIFO), inte en vanlig fil",
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_hostile.write(tmp_path_factory.mktemp("hostile"))


def test_the_set_covers_every_hostile_file(hostile: dict[str, Path]) -> None:
    assert set(REFUSALS) == set(hostile)


@pytest.mark.parametrize("name", list(REFUSALS))
def test_a_hostile_file_is_refused_nothing_is_stored_and_the_process_lives(
        name: str, hostile: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    assert main(["import", str(hostile[name]), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Avvisad: ") and REFUSALS[name] in err, err
    assert "Traceback" not in err and "panicked" not in err
    assert Store.open(db).uploads(AGREEMENT.id).empty
    # still alive, and still importing: a good file after the hostile one
    good = tmp_path / "bra.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    assert main(["import", str(good), "--db", str(db)]) == 0
    assert len(Store.open(db).uploads(AGREEMENT.id)) == 1


# -- the child process -----------------------------------------------------------------------------------------

def test_a_reader_that_aborts_is_a_refusal_in_a_living_caller() -> None:
    with pytest.raises(SamordningError) as refused:
        isolate.run("krasch.xlsx", os.abort)
    assert refused.value.message.startswith("Filen krasch.xlsx kunde inte läsas: läsaren avbröts (SIGABRT)")
    assert isolate.run("bra.xlsx", lambda: 41 + 1) == 42


def test_a_reader_over_its_memory_is_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolate, "PARSE_MEMORY", 256 * 1024 ** 2)
    with pytest.raises(SamordningError) as refused:
        isolate.run("stor.xlsx", lambda: bytearray(1024 ** 3))
    assert refused.value.message.startswith("Filen stor.xlsx kunde inte läsas: läsaren tog slut på minne")


def test_a_reader_that_hangs_is_stopped_and_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolate, "PARSE_SECONDS", 1)
    with pytest.raises(SamordningError) as refused:
        isolate.run("häng.csv", lambda: time.sleep(60))
    assert refused.value.message.startswith("Filen häng.csv tog mer än 1 sekunder att läsa och har avbrutits")


def test_a_refusal_in_the_child_keeps_its_problems_and_a_bug_stays_a_bug() -> None:
    with pytest.raises(SamordningError) as refused:
        read_export(b"Datum;Belopp\n2023-01-01;tio\n", "fel.csv")
    assert [(p.row, p.column, p.value) for p in refused.value.problems] == [(2, "Belopp", "tio")]
    with pytest.raises(isolate.ReaderFailed, match="ZeroDivisionError"):
        isolate.run("bugg.csv", lambda: 1 / 0)


def test_a_frame_crosses_the_pipe_unchanged() -> None:
    import datetime as dt

    frame = pd.DataFrame({"sheet": pd.Series(["A", "A", "B"], dtype="str"), "n": [1, 2, 3],
                          "day": [dt.date(2023, 1, 1), None, dt.date(2023, 1, 1)], "code": ["0410", "", "0410"]},
                         index=pd.RangeIndex(5, 8))
    packed, cleaned = isolate.pack_frame(frame)
    back = isolate.unpack_frame(packed)
    assert cleaned == 0
    pd.testing.assert_frame_equal(back, frame)
    assert back["day"].tolist() == [dt.date(2023, 1, 1), None, dt.date(2023, 1, 1)]


# -- zip bombs (item 8) ------------------------------------------------------------------------------------------

def small_bomb(members: int, size: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        for i in range(members):
            z.writestr(f"xl/worksheets/sheet{i + 1}.xml", b" " * size)
    return out.getvalue()


def test_every_member_s_ratio_is_checked_not_only_members_over_10_mb() -> None:
    bomb = small_bomb(1, 5 * 1024 * 1024)  # 5 MB of spaces, packed about 1000:1
    with pytest.raises(SamordningError, match="zip-bomb"):
        read_export(bomb, "bomb.xlsx")


def test_the_sum_of_all_members_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detect, "MAX_UNPACKED_BYTES", 3 * 1024 * 1024)
    monkeypatch.setattr(detect, "MAX_RATIO", 10 ** 6)  # only the sum can refuse it
    with pytest.raises(SamordningError, match="packas upp till 4 MB"):
        read_export(small_bomb(4, 1024 * 1024), "många.xlsx")


# -- amounts beyond ±10¹² kr (item 3) -----------------------------------------------------------------------------

def test_an_amount_beyond_a_trillion_kronor_is_refused_by_cell_not_wrapped() -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Verifikationsdatum", "Konto", "Projekt", "Belopp"])
    for amount in (1e20, 9.3e16, 1e12, "12345678901234567890123", "-1 000 000 000 000,01"):
        ws.append(["2023-02-01", "5011", "7301", amount])
    buffer = io.BytesIO()
    wb.save(buffer)
    with pytest.raises(SamordningError) as refused:
        read_export(buffer.getvalue(), "stora.xlsx")
    assert [(p.file, p.sheet, p.row, p.column, p.value, p.message) for p in refused.value.problems] == [
        ("stora.xlsx", "Sheet", row, "Belopp", value,
         "beloppet är orimligt stort (mer än 1 000 000 000 000 kr åt något håll)")
        for row, value in ((2, 1e20), (3, 9.3e16), (5, "12345678901234567890123"), (6, "-1 000 000 000 000,01"))]


def test_the_bound_itself_is_an_amount() -> None:
    export = read_export(b"Datum;Belopp\n2023-02-01;1000000000000\n2023-02-02;-1 000 000 000 000,00\n", "gräns.csv")
    assert export.rows["amount_ore"].tolist() == [10 ** 14, -10 ** 14]


# -- control characters (item 5) ----------------------------------------------------------------------------------

def test_control_characters_are_cleaned_counted_and_every_report_can_be_written(tmp_path: Path,
                                                                               db_url: str) -> None:
    """On both stores: PostgreSQL refused the NUL itself before it was cleaned."""
    head = GOOD_CSV.encode("utf-8")
    rows = ["2023-02-02;5011;7301;Lön\x01 feb;1", "2023-02-03;5011;7301;Res\x0bor;2",
            "2023-02-04;5011;73\x1b01;Hyra;3"]
    # whole kronor: 200 rows of "1,00" make csv.Sniffer take the decimal comma for the separator
    filler = "".join(f"2023-03-{d % 28 + 1:02d};5011;7301;Lön {d};1\n" for d in range(200))
    content = head + "\n".join(rows).encode() + b"\n" + filler.encode() + b"2023-03-01;5011;7301;Nul\x00l;4\n"
    assert content.index(b"\x00") > 4096
    store = Store.open(db_url)
    result = import_export(store, AGREEMENT, "styr.csv", content)
    assert "4 celler innehöll osynliga styrtecken som har tagits bort (den sparade filen är oförändrad)." \
        in result.summary()
    texts = store.ledger(AGREEMENT.id)["text"].tolist()
    assert "Lön feb" in texts and "Resor" in texts and "Null" in texts
    assert "7301" in store.ledger(AGREEMENT.id)["project"].tolist()
    assert store.upload_content(AGREEMENT.id, result.upload_id) == ("styr.csv", content)  # the original bytes
    out = tmp_path / "rapport.xlsx"
    assert main(["report", "--out", str(out), "--db", db_url]) == 0
    assert load_workbook(out)["Transaktioner"].max_row > 200


def test_xlsx_escapes_for_control_characters_are_cleaned() -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Verifikationsdatum", "Konto", "Projekt", "Text", "Belopp"])
    ws.append(["2023-02-01", "5011", "7301", "Lön", 1])
    buffer = io.BytesIO()
    wb.save(buffer)
    with zipfile.ZipFile(buffer) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    for name, data in parts.items():  # the text as Excel writes a vertical tab in a cell
        parts[name] = data.replace(b">L\xc3\xb6n<", b">L\xc3\xb6n_x000B_jan<")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    export = read_export(out.getvalue(), "escape.xlsx")
    assert export.rows["text"].tolist() == ["Lönjan"]
    assert export.notes[-1].startswith("1 cell innehöll osynliga styrtecken")


# -- file names (item 10) -----------------------------------------------------------------------------------------

def test_control_and_bidi_characters_in_names_are_shown_escaped() -> None:
    assert shown("rtl\u202egpj.xlsx") == "rtl\\u202egpj.xlsx"
    assert shown("rad\nbrytning.csv") == "rad\\nbrytning.csv"
    assert shown("a\x1b[31m.csv") == "a\\x1b[31m.csv"
    assert shown("Åre – Östersund 2023.xlsx") == "Åre – Östersund 2023.xlsx"


def test_names_are_escaped_in_the_summary_the_history_and_the_report(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    name = "rtl\u202egpj.csv"
    path = tmp_path / name
    path.write_text(GOOD_CSV, encoding="utf-8")
    assert main(["import", str(path), "--db", str(db)]) == 0
    assert main(["history", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "\u202e" not in out and out.count("rtl\\u202egpj.csv") == 2
    assert Store.open(db).uploads(AGREEMENT.id)["filename"].tolist() == [name]  # stored as given
    report = tmp_path / "r.xlsx"
    assert main(["report", "--out", str(report), "--db", str(db)]) == 0
    book = load_workbook(report)
    cells = [c.value for sheet in ("Underlag", "Transaktioner") for row in book[sheet].iter_rows() for c in row]
    assert "rtl\\u202egpj.csv" in cells and name not in cells
    bad = tmp_path / "rad\nbrytning.csv"
    bad.write_text("Datum;Belopp\n2023-01-01;tio\n", encoding="utf-8")
    assert main(["import", str(bad), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "rad\\nbrytning.csv" in err and "rad\nbrytning" not in err
