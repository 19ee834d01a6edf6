"""The importer on the exports controllers really have: each layout in tests/data/layouts (written by
make_layouts.py) holds the same eleven transactions, so each must give the same hand-worked figures."""

from __future__ import annotations

import datetime as dt
import io
import resource
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samordning.agreement import load_agreement
from samordning.cli import main
from samordning.errors import SamordningError
from samordning.followup import classify, left_out_summary, quarterly
from samordning.imports import import_export
from samordning.ingest import (
    MAX_FILE_BYTES,
    detect,
    parse_amounts,
    parse_dates,
    parse_periods,
    read_export,
)
from samordning.store import Store

ROOT = Path(__file__).resolve().parent.parent
LAYOUTS = ROOT / "tests" / "data" / "layouts"
AGREEMENT = load_agreement(ROOT / "data" / "avtal" / "RUN-305-2022.toml")

# Worked out by hand from make_layouts.ROWS (öre):
#   Kv 1 social: lön januari 45 000,00 + konsult 8 000,50 = 53 000,50;  arbete: hyra 12 345,67
#   Kv 2 social: lön maj 44 000,00;  arbete: resor 1 234,56 − kreditering 2 345,67 = −1 111,11
#   Kv 3 social: lön augusti 46 500,25;  arbete: material 999,99
EXPECTED = {("2023Q1", "social"): 5_300_050, ("2023Q1", "arbete"): 1_234_567,
            ("2023Q2", "social"): 4_400_000, ("2023Q2", "arbete"): -111_111,
            ("2023Q3", "social"): 4_650_025, ("2023Q3", "arbete"): 99_999}
# Left out: the advance on revenue account 3010 (−1 329 750,00), project 9999 (4 850,00), December 2022
# (40 000,00), and the file's own total row.
LEFT_OUT = {"total": 1, "outside_period": 1, "not_cost": 1, "no_area": 1}
LEFT_OUT_ORE = {"outside_period": 4_000_000, "not_cost": -132_975_000, "no_area": 485_000}


def figures(export_rows: pd.DataFrame) -> tuple[dict[tuple[str, str], int], dict[str, int], dict[str, int]]:
    rows = classify(export_rows, AGREEMENT)
    table = quarterly(AGREEMENT, rows, by_area=True)
    actual = {(r.quarter, r.area): int(r.actual_ore) for r in table.itertuples()}
    left = left_out_summary(rows)
    return actual, dict(zip(left["reason"], left["rows"].astype(int), strict=True)), \
        dict(zip(left["reason"], left["amount_ore"].astype(int), strict=True))


def read(name: str, **options: object):
    return read_export((LAYOUTS / name).read_bytes(), name, **options)


@pytest.mark.parametrize(("name", "kind", "sheet"), [
    ("a_titelrader_andra_bladet.xlsx", "Excel", "Huvudbok"),
    ("b_engelska_debet_kredit.xlsx", "Excel", "GL"),
    ("c_period_och_textbelopp.xlsx", "Excel", "Utfall"),
    ("d_serienummer_och_textdatum.xlsx", "Excel", "Sheet"),
    ("e_semikolon_cp1252.csv", "CSV", "CSV"),
    ("f_komma_utf8_bom.csv", "CSV", "CSV"),
    ("h_makro.xlsm", "Excel", "Huvudbok"),
])
def test_every_layout_gives_the_hand_worked_figures(name: str, kind: str, sheet: str) -> None:
    export = read(name)
    assert (export.kind, export.sheet) == (kind, sheet)
    actual, left, left_ore = figures(export.rows)
    assert actual == EXPECTED
    assert left == LEFT_OUT
    assert {k: v for k, v in left_ore.items() if k != "total"} == LEFT_OUT_ORE
    data = export.rows[export.rows["row_kind"] == "data"]
    assert "0410" in set(data["cost_centre"])  # a code written as text keeps its leading zero
    assert "Konsultfaktura Åre" in set(data["text"]) or "Konsultfaktura Åre" in set(export.rows["text"])


def test_sie_maps_the_project_dimension_to_the_areas() -> None:
    export = read("i_huvudbok.se")
    assert export.kind == "SIE"
    actual, left, left_ore = figures(export.rows)
    assert actual == EXPECTED
    # Each voucher is balanced on the bank account 1930: those rows are not costs. By hand: the eight counted
    # rows sum to 155 735,30 kr and the in-period vouchers to 155 735,30 − 1 329 750 + 4 850 = −1 169 164,70, so
    # the bank rows hold +1 169 164,70 and, with the advance on 3010, "not a cost" sums to −160 585,30 kr.
    # December 2022 is outside the period with its bank row (40 000 − 40 000 = 0).
    assert left == {"outside_period": 2, "not_cost": 11, "no_area": 1}
    assert left_ore == {"outside_period": 0, "not_cost": -16_058_530, "no_area": 485_000}
    first = export.rows.iloc[0]
    assert (first["voucher"], first["text"], first["cost_centre"], first["excel_row"]) == \
        ("A 101", "Lön jan", "0410", 17)
    assert "Konsultfaktura Åre" in set(export.rows["text"])  # CP437 decoded
    assert 9_900 not in set(export.rows["amount_ore"])  # the removed row (#BTRANS 99.00) does not count


@pytest.mark.parametrize(("name", "lines"), [
    ("x_sie_felaktig.se", ["rad 22, kolumn 'transdat': transaktionsdatumet kan inte läsas (värde: '345,67')",
                           "rad 32, kolumn 'belopp': beloppet kan inte läsas (värde: '1234.5.6')"]),
    ("x_sie_obalanserad.se", ["rad 50, kolumn 'belopp': verifikationen serie B nr 299 balanserar inte: "
                              "summa 9,00 kr"]),
])
def test_sie_refusals_name_every_bad_line(name: str, lines: list[str]) -> None:
    with pytest.raises(SamordningError) as refused:
        read(name)
    text = refused.value.describe()
    assert text.startswith(f"SIE-filen {name} har")
    for line in lines:
        assert f"fil {name}, {line}" in text


def test_the_header_and_rows_are_where_the_user_sees_them() -> None:
    export = read("a_titelrader_andra_bladet.xlsx")
    assert export.header_row == 5
    first = export.rows.iloc[0]
    assert (first["excel_row"], first["booking_date"], first["amount_ore"]) == (6, dt.date(2023, 1, 31), 4_500_000)
    assert "Läste bladet 'Huvudbok' (12 rader); övriga blad: 'Rapportinfo' (ingen tabell)" in export.notes[0]


def test_a_sheet_can_be_chosen_and_a_missing_one_is_named() -> None:
    with pytest.raises(SamordningError) as refused:
        read("a_titelrader_andra_bladet.xlsx", sheet="Rapportinfo")
    assert "ingen rubrikrad med en beloppskolumn" in refused.value.describe()
    with pytest.raises(SamordningError) as refused:
        read("a_titelrader_andra_bladet.xlsx", sheet="Blad9")
    assert "inget blad som heter 'Blad9'. Bladen är: 'Rapportinfo', 'Huvudbok'" in refused.value.describe()


def test_own_headers_are_mapped_by_hand_and_the_mapping_is_reused(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SamordningError) as refused:
        read("g_egna_rubriker.xlsx")
    assert "--column belopp=RUBRIK" in refused.value.describe()
    db = str(tmp_path / "map.db")
    path = LAYOUTS / "g_egna_rubriker.xlsx"
    args = ["import", str(path), "--db", db, "--column", "datum=Bokf.dag", "--column", "belopp=Netto",
            "--column", "konto=Kto", "--column", "projekt=Proj", "--column", "text=Ben."]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Kolumnkoppling (given nu; sparas för filer med samma rubriker): datum = 'Bokf.dag'" in out
    store = Store.open(db)
    actual, left, _ = figures(store.ledger(AGREEMENT.id))
    assert actual == EXPECTED and left == {"outside_period": 1, "not_cost": 1, "no_area": 1}
    # The next export of the same report, with other rows, is read with the saved mapping.
    again = read_export(path.read_bytes(), "g_igen.xlsx", saved=store.column_mappings())
    assert again.mapping_source == "saved" and again.columns["amount"] == "Netto"


def test_bad_values_are_all_listed_with_file_sheet_row_column_and_value() -> None:
    with pytest.raises(SamordningError) as refused:
        read("x_felaktiga_varden.xlsx")
    error = refused.value
    # Rows 2–31: amounts unreadable on every third row (10), dates on every fifth (6); rows 2, 17 have both.
    assert len(error.problems) == 16
    assert error.message == "Filen x_felaktiga_varden.xlsx har 16 värden som inte kan läsas eller saknas; inget " \
        "har sparats."
    first = str(error.problems[0])
    assert first == "fil x_felaktiga_varden.xlsx, blad 'Huvudbok', rad 2, kolumn 'Verifikationsdatum': datumet " \
        "kan inte läsas (värde: '31/13/2023')"
    assert "rad 5, kolumn 'Belopp': beloppet kan inte läsas (värde: '12,3,4')" in str(error.problems[2])
    text = error.describe(limit=10)
    assert "… och 6 problem till." in text


@pytest.mark.parametrize(("name", "says"), [
    ("x_krypterad.xlsx", "är lösenordsskyddad (krypterad)"),
    ("x_pdf_omdopt.xlsx", "är en PDF, inte ett kalkylark"),
    ("x_csv_omdopt.xlsx", "är en textfil (CSV), inte en Excel-arbetsbok"),
    ("x_tom.xlsx", "är tom"),
    ("x_utan_belopp.xlsx", "ingen tabell med bokförda transaktioner"),
])
def test_refusals_say_what_is_wrong_and_store_nothing(name: str, says: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "refused.db")
    assert main(["import", str(LAYOUTS / name), "--db", db]) == 1
    err = capsys.readouterr().err
    assert says in err and name in err and "Traceback" not in err
    assert Store.open(db).uploads(AGREEMENT.id).empty


def test_macros_are_never_run_and_it_is_said(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "m.db")
    result = import_export(store, AGREEMENT, "h_makro.xlsm", (LAYOUTS / "h_makro.xlsm").read_bytes())
    assert "Arbetsboken innehåller makron; de har inte körts (bara cellvärden läses)." in result.summary()


def zip_bomb(size: int) -> bytes:
    """An xlsx-shaped zip whose sheet unpacks to ``size`` bytes of zeros (about 1 MB packed per GB)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            chunk = b"\0" * (16 * 1024 * 1024)
            for _ in range(size // len(chunk)):
                f.write(chunk)
    return out.getvalue()


class NeverOpened:
    """Stands in for the workbook reader: a refusal from the zip directory never reaches it."""

    @staticmethod
    def from_filelike(_: object) -> None:
        raise AssertionError("the workbook was opened")


def test_a_zip_bomb_is_refused_from_its_directory_without_unpacking(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = zip_bomb(1024 * 1024 * 1024)
    assert len(bomb) < 2 * 1024 * 1024  # about 1 MB that unpacks to 1 GB
    monkeypatch.setattr(detect, "CalamineWorkbook", NeverOpened)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SamordningError) as refused:
        read_export(bomb, "bomb.xlsx")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert refused.value.message == "Filen bomb.xlsx packas upp till 1 074 MB från 1,0 MB och har inte lästs: " \
        "det liknar en så kallad zip-bomb, inte en export från ett ekonomisystem."
    assert [(p.message, p.value) for p in refused.value.problems] == [("för stor uppackad",
                                                                      "xl/worksheets/sheet1.xml")]
    assert grown_mb < 100  # unpacking it would take a gigabyte


def test_files_over_the_size_limit_are_refused_before_reading(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "stor.xlsx"
    with big.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    assert main(["import", str(big), "--db", str(tmp_path / "s.db")]) == 1
    assert "Filen stor.xlsx är för stor (50,0 MB); största tillåtna storlek är 50 MB." in capsys.readouterr().err
    with pytest.raises(SamordningError, match="för stor"):
        read_export(b"x" * (MAX_FILE_BYTES + 1), "stor.xlsx")


# -- property tests of the value parsers ------------------------------------------------------------------

ORE = st.integers(min_value=-10**13, max_value=10**13)


def swedish(ore: int, sep: str, minus: str) -> str:
    whole, frac = divmod(abs(ore), 100)
    text = f"{whole:,}".replace(",", sep) + f",{frac:02d}"
    if ore >= 0:
        return text
    return {"-": "-" + text, "\u2212": "\u2212" + text, "trailing": text + "-", "paren": f"({text})"}[minus]


@given(ORE, st.sampled_from([" ", "\u00a0", "\u202f", ""]), st.sampled_from(["-", "\u2212", "trailing", "paren"]))
def test_amounts_written_the_swedish_way_read_back_exactly(ore: int, sep: str, minus: str) -> None:
    values, bad = parse_amounts(pd.Series([swedish(ore, sep, minus)], dtype=object))
    assert not bad.iloc[0] and int(values.iloc[0]) == ore


@given(st.integers(min_value=-10**9, max_value=10**9))
def test_amounts_as_excel_numbers_are_exact_to_the_ore(ore: int) -> None:
    values, bad = parse_amounts(pd.Series([ore / 100], dtype=object))
    assert not bad.iloc[0] and int(values.iloc[0]) == ore


@given(st.text(alphabet="0123456789,.- ()abc", max_size=12))
def test_any_text_is_an_amount_blank_or_unreadable_never_an_error(text: str) -> None:
    values, bad = parse_amounts(pd.Series([text], dtype=object))
    value, unreadable = values.iloc[0], bool(bad.iloc[0])
    if not text.strip():
        assert pd.isna(value) and not unreadable  # blank: no amount, and nothing wrong
    elif unreadable:
        assert pd.isna(value)
    else:
        # Read: no letters, and the amount is the text's digits in kronor, tenths or öre, negative only when
        # the text has a minus or parentheses.
        assert not set(text) & set("abc")
        digits = int("".join(c for c in text if c.isdigit()))
        assert abs(int(value)) in {digits * 100, digits * 10, digits}
        assert int(value) >= 0 or set(text) & set("-(")


@given(st.dates(min_value=dt.date(1991, 1, 1), max_value=dt.date(2099, 12, 31)), st.integers(0, 3))
def test_dates_in_every_spelling_read_back(day: dt.date, how: int) -> None:
    value: object = [day, day.isoformat(), day.strftime("%Y%m%d"), (day - dt.date(1899, 12, 30)).days][how]
    parsed, bad = parse_dates(pd.Series([value], dtype=object))
    assert not bad.iloc[0] and parsed.iloc[0].date() == day


@given(st.integers(1990, 2099), st.integers(1, 12), st.sampled_from(["{y}{m:02d}", "{y}-{m:02d}", "{y} {m:02d}",
                                                                       "{y}-{m}", "int"]))
def test_periods_in_every_spelling_read_back(year: int, month: int, spelling: str) -> None:
    value: object = year * 100 + month if spelling == "int" else spelling.format(y=year, m=month)
    parsed, bad = parse_periods(pd.Series([value], dtype=object))
    assert not bad.iloc[0] and parsed.iloc[0] == f"{year}-{month:02d}"


@given(st.integers(1990, 2099), st.integers(13, 99))
def test_a_month_past_twelve_is_not_a_period(year: int, month: int) -> None:
    assert bool(parse_periods(pd.Series([f"{year}-{month}"], dtype=object))[1].iloc[0])


# -- fuzzing: broken files get a clear refusal, never a traceback --------------------------------------

SEEDS = [p.read_bytes() for p in sorted(LAYOUTS.glob("[a-h]_*"))]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SEEDS), st.data())
def test_truncated_bit_flipped_and_random_files_are_refused_clearly(seed: bytes, data: st.DataObject) -> None:
    how = data.draw(st.sampled_from(["truncate", "flip", "random"]))
    if how == "truncate":
        content = seed[:data.draw(st.integers(0, len(seed) - 1))]
    elif how == "flip":
        content = bytearray(seed)
        for _ in range(data.draw(st.integers(1, 8))):
            i = data.draw(st.integers(0, len(content) - 1))
            content[i] ^= 1 << data.draw(st.integers(0, 7))
        content = bytes(content)
    else:
        content = data.draw(st.binary(max_size=4096))
    for name in ("fil.xlsx", "fil.csv"):
        outcome = attempt(content, name)
        # A flipped bit in a value may still leave a readable file: then it is a proper export.
        assert outcome.startswith(("Filen fil.", "SIE-filen fil.", "export:")), outcome  # b"#VER" reads as SIE


def attempt(content: bytes, name: str) -> str:
    """What the user is told: the refusal's text, or what was read. Anything else raises out of the test."""
    try:
        export = read_export(content, name)
    except SamordningError as exc:
        return exc.describe()
    return f"export: {list(export.rows.columns)[:2]}"


def test_a_transaction_whose_text_begins_with_summa_still_counts() -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Verifikationsdatum", "Konto", "Projekt", "Text", "Belopp"])
    ws.append([dt.date(2023, 3, 31), "5011", "7301", "Summa lön mars enligt lönelistan", 1200.5])
    ws.append(["Summa projekt 7301", None, "7301", None, 1200.5])  # a subtotal: no date, so a total row
    buffer = io.BytesIO()
    wb.save(buffer)
    rows = read_export(buffer.getvalue(), "summa.xlsx").rows
    assert rows["row_kind"].tolist() == ["data", "total"]
    assert figures(rows)[0][("2023Q1", "social")] == 120_050
