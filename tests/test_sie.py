"""The SIE 4 reader on tests/data/huvudbok_2023.se (written by tests/data/make_sie.py).

Every expected figure below is worked out by hand from the file's lines (numbers as in ``cat -n``), not
recomputed by the reader's code.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from samordning.agreement import load_agreement
from samordning.errors import SamordningError
from samordning.followup import classify
from samordning.ingest import COLUMNS, looks_like_sie, read_export, read_sie

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "data" / "huvudbok_2023.se"
NAME = FIXTURE.name
AGREEMENT = load_agreement(ROOT / "data" / "avtal" / "RUN-305-2022.toml")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"

# Lines of the #TRANS rows (the #BTRANS on 34 and #RTRANS on 35 are not among them).
TRANS_LINES = [23, 24, 25, 29, 30, 36, 37, 41, 42, 46, 47, 48, 52, 53, 54, 58, 59, 63, 64, 68, 69, 70, 74, 75,
               79, 80, 81, 85, 86, 87]

# Cost rows (classes 4–7) with a project, per quarter and project, in öre. By hand:
#   Q1 7301: 42 000,00 (l. 23) + 8 000,50 (l. 41)                                              =  50 000,50
#   Q1 7302: 38 500,00 (l. 24) + 12 345,67 (l. 29) + 41 000,00 (l. 36) + 765,44 (l. 47)      =  92 611,11
#   Q2 7301: 43 000,00 (l. 52) − 2 000,50 (l. 63)                                              =  40 999,50
#   Q2 7302: 1 234,56 (l. 46, transdat 2023-04-03) + 39 000,00 (l. 53) + 15 600,00 (l. 58)   =  55 834,56
#   Q3 7301: 44 000,00 (l. 68) + 999,99 (l. 79)                                                =  44 999,99
#   Q3 7302: 40 000,00 (l. 69) + 12 345,67 (l. 74)                                             =  52 345,67
COST_BY_QUARTER_AND_PROJECT = {
    ("2023Q1", "7301"): 5_000_050, ("2023Q1", "7302"): 9_261_111,
    ("2023Q2", "7301"): 4_099_950, ("2023Q2", "7302"): 5_583_456,
    ("2023Q3", "7301"): 4_499_999, ("2023Q3", "7302"): 5_234_567,
}


def fixture_bytes() -> bytes:
    return FIXTURE.read_bytes()


def edited(changes: dict[int, tuple[str, str]], drop: tuple[str, ...] = ()) -> bytes:
    """The fixture with ``old`` replaced by ``new`` on the given lines (1-based), lines starting with ``drop``
    removed (after the replacements, so line numbers are those of the original file)."""
    lines = fixture_bytes().decode("cp437").split("\r\n")
    for number, (old, new) in changes.items():
        assert old in lines[number - 1], (number, lines[number - 1])
        lines[number - 1] = lines[number - 1].replace(old, new)
    lines = [line for line in lines if not (drop and line.strip().startswith(drop))]
    return "\r\n".join(lines).encode("cp437")


def refusal(content: bytes, filename: str = NAME) -> SamordningError:
    with pytest.raises(SamordningError) as refused:
        read_sie(content, filename)
    return refused.value


def test_the_committed_file_is_what_make_sie_writes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_sie", ROOT / "tests" / "data" / "make_sie.py")
    assert spec is not None and spec.loader is not None
    make_sie = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_sie)
    written = make_sie.write_sie(tmp_path / NAME)
    assert written == (tmp_path / NAME).read_bytes() == fixture_bytes()


def test_the_fixture_is_cp437() -> None:
    content = fixture_bytes()
    assert b"#FORMAT PC8" in content
    assert b'"Konsultfaktura \x8fre"' in content  # Å is 0x8F in CP437 (UTF-8 would be C3 85)
    assert "Å".encode() not in content


def test_reads_every_trans_row_and_nothing_else() -> None:
    export = read_sie(fixture_bytes(), NAME)
    rows = export.rows
    assert (export.file, export.sheet, export.header_row, export.kind) == (NAME, "SIE", 0, "SIE")
    assert list(rows.columns) == list(COLUMNS)
    assert len(rows) == 30
    assert rows["excel_row"].tolist() == TRANS_LINES  # the "row" of a SIE file is its line number
    assert set(rows["sheet"]) == {"SIE"}
    assert set(rows["row_kind"]) == {"data"}
    assert rows["amount_ore"].dtype == "int64"
    assert all(type(d) is dt.date for d in rows["booking_date"])
    assert set(export.columns.values()) == {"SIE #TRANS"}
    assert {"booking_date", "account", "voucher", "text", "cost_centre", "project"} <= set(export.columns)
    # Each voucher balances, so the file sums to zero.
    assert int(rows["amount_ore"].sum()) == 0


def test_cost_rows_per_quarter_and_project() -> None:
    rows = read_sie(fixture_bytes(), NAME).rows
    cost = rows[rows["account"].str[0].isin(["4", "5", "6", "7"]) & (rows["project"] != "")]
    quarter = rows["period"].str[:4] + "Q" + ((rows["period"].str[5:].astype(int) - 1) // 3 + 1).astype(str)
    sums = cost.groupby([quarter[cost.index], cost["project"]])["amount_ore"].sum()
    assert {key: int(value) for key, value in sums.items()} == COST_BY_QUARTER_AND_PROJECT


def test_voucher_date_text_and_dimensions() -> None:
    rows = read_sie(fixture_bytes(), NAME).rows.set_index("excel_row")
    first = rows.loc[23]
    assert (first["voucher"], first["booking_date"], first["period"], first["account"], first["cost_centre"],
            first["project"], first["activity"], first["counterpart"], first["text"], first["amount_ore"]) == \
        ("A 1", dt.date(2023, 1, 31), "2023-01", "5011", "0410", "7301", "", "", "Lön januari", 4_200_000)
    # Line 46 has its own transdat and text; line 47 in the same voucher C1 takes the #VER's date and text.
    own = rows.loc[46]
    assert (own["voucher"], own["booking_date"], own["period"], own["text"], own["amount_ore"]) == \
        ("C 1", dt.date(2023, 4, 3), "2023-04", "Tåg Östersund-Sundsvall", 123_456)
    same_voucher = rows.loc[47]
    assert (same_voucher["voucher"], same_voucher["booking_date"], same_voucher["period"], same_voucher["text"]) == \
        ("C 1", dt.date(2023, 3, 31), "2023-03", "Resor mars")
    # A row without a cost centre object has "" there; a balancing row has no objects at all.
    assert (rows.loc[41, "cost_centre"], rows.loc[41, "project"]) == ("", "7301")
    assert (rows.loc[25, "cost_centre"], rows.loc[25, "project"], rows.loc[25, "amount_ore"]) == ("", "", -8_050_000)
    assert (rows.loc[80, "cost_centre"], rows.loc[80, "project"]) == ("0410", "")
    # Every dimension is kept by number, whichever column it also fills.
    assert (rows.loc[23, "dimensions"], rows.loc[41, "dimensions"], rows.loc[25, "dimensions"]) == \
        ({"1": "0410", "6": "7301"}, {"6": "7301"}, None)


def test_swedish_letters_survive_cp437() -> None:
    texts = set(read_sie(fixture_bytes(), NAME).rows["text"])
    assert {"Konsultfaktura Åre", "Lokalhyra februari Östersund", "Material och förbrukning", "Omförd lön",
            "Kreditfaktura konsult Åre", "Förskott kvartal 3 från Kommunförbundet"} <= texts


def test_the_correction_counts_once_and_the_removed_row_not_at_all() -> None:
    rows = read_sie(fixture_bytes(), NAME).rows
    a2 = rows[rows["voucher"] == "A 2"]
    # #BTRANS (line 34, 7301, "Felkonterad lön") is gone; #RTRANS (35) is read once, as the #TRANS on line 36.
    assert a2["excel_row"].tolist() == [36, 37]
    assert a2["project"].tolist() == ["7302", ""]
    assert a2["amount_ore"].tolist() == [4_100_000, -4_100_000]
    assert (a2.iloc[0]["booking_date"], a2.iloc[0]["text"]) == (dt.date(2023, 3, 1), "Omförd lön")
    assert "Felkonterad lön" not in set(rows["text"])
    assert 34 not in set(rows["excel_row"]) and 35 not in set(rows["excel_row"])


def test_classified_with_the_agreement() -> None:
    rows = classify(read_sie(fixture_bytes(), NAME).rows, load_agreement(ROOT / "data" / "avtal" /
                                                                         "RUN-305-2022.toml"))
    counted = rows[rows["reason"] == ""]
    # Social välfärd: 50 000,50 + 40 999,50 + 44 999,99 = 135 999,99 kr;
    # Arbetsmarknad och utbildning: 92 611,11 + 55 834,56 + 52 345,67 = 200 791,34 kr.
    assert {k: int(v) for k, v in counted.groupby("area")["amount_ore"].sum().items()} == \
        {"social": 13_599_999, "arbete": 20_079_134}
    # The agreement maps project 7301 to Social välfärd and 7302 to Arbetsmarknad och utbildning.
    area = {"7301": "social", "7302": "arbete"}
    assert {k: int(v) for k, v in counted.groupby(["quarter", "area"])["amount_ore"].sum().items()} == \
        {(quarter, area[project]): ore for (quarter, project), ore in COST_BY_QUARTER_AND_PROJECT.items()}
    assert len(counted) == 15
    # Left out: 500,00 on 4610 without a project (line 80); the 11 balancing rows on 1930/2440 and the three
    # rows of the advance C2 (1 329 750,00 − 2 × 664 875,00 = 0) are not costs. The balancing rows hold
    # −(135 999,99 + 200 791,34 + 500,00) = −337 291,33 kr.
    left = rows[rows["reason"] != ""].groupby("reason")["amount_ore"].agg(["count", "sum"])
    assert {k: (int(c), int(s)) for k, c, s in left.itertuples()} == \
        {"no_area": (1, 50_000), "not_cost": (14, -33_729_133)}
    assert rows.loc[rows["excel_row"] == 80, "reason"].item() == "no_area"


def test_utf8_with_bom_reads_the_same() -> None:
    text = fixture_bytes().decode("cp437")
    utf8 = b"\xef\xbb\xbf" + text.replace("#FORMAT PC8", "#FORMAT UTF8").encode("utf-8")
    assert looks_like_sie(utf8)
    pd.testing.assert_frame_equal(read_sie(utf8, "utf8.se").rows, read_sie(fixture_bytes(), NAME).rows)


def test_a_dimension_is_found_by_its_name() -> None:
    # Dimension 2 named "Projekt" holds the project; 6 is then not the project any more.
    content = edited({17: ('#DIM 6 "Projekt"', '#DIM 2 "Projekt"'), 23: ('6 "7301"', '2 "7301"'),
                      24: ('6 "7302"', '2 "7302"')})
    rows = read_sie(content, NAME).rows.set_index("excel_row")
    assert rows.loc[[23, 24], "project"].tolist() == ["7301", "7302"]
    assert rows.loc[29, "project"] == ""  # still {1 "0410" 6 "7302"}: dimension 6 is no longer mapped


def test_looks_like_sie() -> None:
    assert looks_like_sie(fixture_bytes())
    assert not looks_like_sie(PDF)
    assert not looks_like_sie(b"PK\x03\x04" + b"\x00" * 40)
    assert not looks_like_sie(b"Datum;Konto;Belopp\r\n2023-01-31;5011;100,00\r\n")


# -- refusals ----------------------------------------------------------------------------------------------


def test_a_pdf_renamed_to_se_is_refused() -> None:
    with pytest.raises(SamordningError) as refused:
        read_export(PDF, "huvudbok.se")  # the way the app reads uploads: refused before any parsing
    assert refused.value.message.startswith("Filen huvudbok.se är en PDF")
    # Given straight to the SIE reader it is refused too, as not SIE; nothing is returned.
    error = refusal(PDF, "huvudbok.se")
    assert error.message == "Filen huvudbok.se är inte en SIE-fil (den börjar inte med en SIE-post som #FLAGGA)."
    assert [(p.file, p.message) for p in error.problems] == [("huvudbok.se", "inte SIE")]


def test_a_file_without_trans_rows_is_refused() -> None:
    # Only the #BTRANS and #RTRANS rows are left: still no transactions.
    error = refusal(edited({}, drop=("#TRANS",)))
    assert error.message == f"Filen {NAME} innehåller inga transaktioner (#TRANS): inga rader att läsa."
    assert [p.file for p in error.problems] == [NAME]


def test_an_unbalanced_voucher_is_refused() -> None:
    # Voucher C1 (line 44): 1 234,56 + 765,44 − 1 988,00 = 12,00.
    error = refusal(edited({48: ("-2000.00", "-1988.00")}))
    # The headline counts the voucher, not "1 rad som inte kan läsas", and says how to accept the file.
    assert error.message == (
        f"SIE-filen {NAME} har 1 verifikation som inte balanserar; inget har sparats. Stämmer exporten ändå kan "
        "filen läsas in med --accept-unbalanced (i uppladdningen: Läs in trots obalans); varningen sparas då med "
        "uppladdningen.")
    assert [(p.row, p.column, p.message) for p in error.problems] == \
        [(44, "belopp", "verifikationen serie C nr 1 balanserar inte: summa 12,00 kr")]
    assert str(error.problems[0]) == f"fil {NAME}, rad 44, kolumn 'belopp': verifikationen serie C nr 1 " \
                                     "balanserar inte: summa 12,00 kr"


def test_every_bad_amount_is_listed_with_its_line_and_not_as_an_unbalanced_voucher() -> None:
    error = refusal(edited({29: ("12345.67", "12345,67"), 58: ("15600.00", "156OO.00")}))
    # Only the two amounts: their vouchers (B1, B3) are left out of the balance check.
    assert [(p.file, p.row, p.column, p.value, p.message) for p in error.problems] == [
        (NAME, 29, "belopp", "12345,67", "beloppet kan inte läsas"),
        (NAME, 58, "belopp", "156OO.00", "beloppet kan inte läsas")]
    text = error.describe()
    assert f"fil {NAME}, rad 29, kolumn 'belopp': beloppet kan inte läsas (värde: '12345,67')" in text
    assert f"fil {NAME}, rad 58, kolumn 'belopp': beloppet kan inte läsas (värde: '156OO.00')" in text


def test_a_bad_date_is_refused() -> None:
    error = refusal(edited({21: ("20230131", "20230231"), 46: ("20230403", "20231304")}))
    dates = [(p.row, p.column, p.value, p.message) for p in error.problems if p.column in ("verdatum", "transdat")]
    assert dates == [
        (21, "verdatum", "20230231", "verifikationsdatumet kan inte läsas"),
        (46, "transdat", "20231304", "transaktionsdatumet kan inte läsas"),
    ]


def test_an_unclosed_quote_reads_to_the_end_of_its_line_with_a_warning() -> None:
    export = read_sie(edited({46: ('"Tåg Östersund-Sundsvall"', '"Tåg Östersund-Sundsvall')}), NAME)
    assert export.rows.loc[export.rows["excel_row"] == 46, "text"].item() == "Tåg Östersund-Sundsvall"
    assert export.warnings == ["1 rad har ett citattecken som inte stängs (rad 46); texten har lästs till radens "
                               "slut."]


def test_an_unclosed_object_list_is_named_as_such() -> None:
    error = refusal(edited({23: ('{1 "0410" 6 "7301"}', '{1 "0410" 6 "7301"')}))
    assert [(p.row, p.column) for p in error.problems] == [(23, "objekt")]


def test_braces_inside_a_text_are_kept() -> None:
    rows = read_sie(edited({21: ('"Lön januari"', '"Lön januari {ref 12}"')}), NAME).rows
    assert rows.loc[rows["excel_row"] == 23, "text"].item() == "Lön januari {ref 12}"
