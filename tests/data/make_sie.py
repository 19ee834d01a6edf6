"""Write ``tests/data/huvudbok_2023.se``: a SIE 4 general ledger for agreement RUN/305/2022, as the region's
ERP system would export it (CP437, ``#FORMAT PC8``, CRLF line ends).

Twelve vouchers over January–September 2023. Cost rows are on classes 4–7 and carry the project object
(dimension 6: 7301 Social välfärd, 7302 Arbetsmarknad och utbildning, see data/avtal/RUN-305-2022.toml); each
voucher is balanced on 1930 Bank or 2440 Leverantörsskulder, without a project. Voucher C1 has a row with its
own transaction date and text (in April, while the voucher is dated in March); voucher A2 holds a correction:
a removed row (``#BTRANS``) and an added row (``#RTRANS`` followed by the same ``#TRANS``). Run from the project
root:

    python tests/data/make_sie.py

The file is committed; tests/test_sie.py reads it and asserts figures worked out by hand from the list below.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE / "huvudbok_2023.se"

HEADER = [
    "#FLAGGA 0",
    '#PROGRAM "Raindance" "2023.2"',
    "#FORMAT PC8",
    "#GEN 20231006",
    "#SIETYP 4",
    '#FNAMN "Region Jämtland Härjedalen"',
    "#RAR 0 20230101 20231231",
    '#KONTO 1930 "Bank"',
    '#KONTO 2440 "Leverantörsskulder"',
    '#KONTO 3010 "Ersättning från kommuner"',
    '#KONTO 4010 "Köpta tjänster"',
    '#KONTO 4610 "Förbrukningsmaterial"',
    '#KONTO 5011 "Löner"',
    '#KONTO 5800 "Resekostnader"',
    '#KONTO 6110 "Lokalhyra"',
    '#DIM 1 "Kostnadsställe"',
    '#DIM 6 "Projekt"',
    '#OBJEKT 1 "0410" "Samordning Östersund"',
    '#OBJEKT 6 "7301" "Social välfärd"',
    '#OBJEKT 6 "7302" "Arbetsmarknad och utbildning"',
]

# Object lists.
SOCIAL = '{1 "0410" 6 "7301"}'
ARBETE = '{1 "0410" 6 "7302"}'
SOCIAL_ONLY = '{6 "7301"}'
ARBETE_ONLY = '{6 "7302"}'
NONE = "{}"

# (series, number, date, text, rows); a row is the line inside the voucher's braces after the indent.
VOUCHERS: list[tuple[str, int, str, str, list[str]]] = [
    ("A", 1, "20230131", "Lön januari", [
        f"#TRANS 5011 {SOCIAL} 42000.00",
        f"#TRANS 5011 {ARBETE} 38500.00",
        f"#TRANS 1930 {NONE} -80500.00",
    ]),
    ("B", 1, "20230215", "Lokalhyra februari Östersund", [
        f"#TRANS 6110 {ARBETE} 12345.67",
        f"#TRANS 2440 {NONE} -12345.67",
    ]),
    ("A", 2, "20230228", "Lön februari, omföring", [
        # Booked on 7301 first, moved to 7302: the removed row stays as #BTRANS, the added one is #RTRANS + #TRANS.
        f'#BTRANS 5011 {SOCIAL} 41000.00 20230301 "Felkonterad lön"',
        f'#RTRANS 5011 {ARBETE} 41000.00 20230301 "Omförd lön"',
        f'#TRANS 5011 {ARBETE} 41000.00 20230301 "Omförd lön"',
        f"#TRANS 1930 {NONE} -41000.00",
    ]),
    ("B", 2, "20230322", "Konsultfaktura Åre", [
        f"#TRANS 4010 {SOCIAL_ONLY} 8000.50",
        f"#TRANS 2440 {NONE} -8000.50",
    ]),
    ("C", 1, "20230331", "Resor mars", [
        f'#TRANS 5800 {ARBETE_ONLY} 1234.56 20230403 "Tåg Östersund-Sundsvall"',
        f"#TRANS 5800 {ARBETE_ONLY} 765.44",
        f"#TRANS 2440 {NONE} -2000.00",
    ]),
    ("A", 3, "20230428", "Lön april", [
        f"#TRANS 5011 {SOCIAL} 43000.00",
        f"#TRANS 5011 {ARBETE} 39000.00",
        f"#TRANS 1930 {NONE} -82000.00",
    ]),
    ("B", 3, "20230516", "Utbildning handläggare", [
        f"#TRANS 4010 {ARBETE_ONLY} 15600.00",
        f"#TRANS 2440 {NONE} -15600.00",
    ]),
    ("B", 4, "20230612", "Kreditfaktura konsult Åre", [
        f"#TRANS 4010 {SOCIAL_ONLY} -2000.50",
        f"#TRANS 2440 {NONE} 2000.50",
    ]),
    ("A", 4, "20230731", "Lön juli", [
        f"#TRANS 5011 {SOCIAL} 44000.00",
        f"#TRANS 5011 {ARBETE} 40000.00",
        f"#TRANS 1930 {NONE} -84000.00",
    ]),
    ("B", 5, "20230818", "Lokalhyra augusti Östersund", [
        f"#TRANS 6110 {ARBETE} 12345.67",
        f"#TRANS 2440 {NONE} -12345.67",
    ]),
    ("B", 6, "20230905", "Material och förbrukning", [
        f"#TRANS 4610 {SOCIAL_ONLY} 999.99",
        '#TRANS 4610 {1 "0410"} 500.00',  # no project: not mapped to an area
        f"#TRANS 2440 {NONE} -1499.99",
    ]),
    ("C", 2, "20230929", "Förskott kvartal 3 från Kommunförbundet", [
        f"#TRANS 1930 {NONE} 1329750.00",
        f"#TRANS 3010 {SOCIAL_ONLY} -664875.00",
        f"#TRANS 3010 {ARBETE_ONLY} -664875.00",
    ]),
]


def sie_text() -> str:
    lines = list(HEADER)
    for series, number, date, text, rows in VOUCHERS:
        lines.append(f'#VER {series} {number} {date} "{text}"')
        lines.append("{")
        lines += [f"   {row}" for row in rows]
        lines.append("}")
    return "\r\n".join(lines) + "\r\n"


def write_sie(path: str | Path = TARGET) -> bytes:
    """Write the ledger to ``path`` in CP437 and return its bytes."""
    content = sie_text().encode("cp437")  # fails loudly on a character CP437 lacks (such as "–")
    Path(path).write_bytes(content)
    return content


if __name__ == "__main__":
    written = write_sie()
    print(f"wrote {TARGET} ({len(written)} bytes)")
