"""Exports as real programs write them, for tests/test_real_exports.py: each function gives a file's name and
bytes, built at test time (nothing is committed). Every amount below is summed by hand in the tests.

- :func:`supplier_workbook`: a municipality's published supplier-invoice workbook for one month. The period is
  only in the file name and the title row; the columns are ``RN1/FÖRVALTNING | LEVERANTÖR | ORGANISATIO |
  FAKT NR | KONTO | UTFALL``; KONTO cells hold the account and its name ("46362 Köp medicinskt material").
- :func:`sie_unclosed_quotes`: a SoftOne-like SIE file with three transaction texts that never close.
- :func:`sie_unbalanced`: series 1 nr 1, series 1 nr 11 and series 11 nr 1; series 1 nr 11 is unbalanced by
  2,00 kr on a bank and a revenue account (not a cost).
- :func:`sie_encoded`: ``#FORMAT PC8`` declared over UTF-8 or ISO-8859-15 bytes.
- :func:`sie_dimensions`: rows with dimensions 1, 2 (kostnadsbärare), 6, 7 (anställd) and 21 (free).
- :func:`one_line_csv`: a CSV whose line endings were lost (every line ended with ``;``).

Run as a script to write them into a folder for a look by hand: ``python tests/data/make_real_exports.py DIR``.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from openpyxl import Workbook

SUPPLIER_NAME = "Leverantörsfakturor 2023-03.xlsx"
SUPPLIER_ROWS = [  # RN1/FÖRVALTNING, LEVERANTÖR, ORGANISATIO, FAKT NR, KONTO, UTFALL
    ("Socialförvaltningen", "Apoteket AB", "556138-6532", "F1001", "46362 Köp medicinskt material", 1250.50),
    ("Socialförvaltningen", "Telia Sverige AB", "556430-0142", "F1002", "64210 Telefoni", 899),
    ("Socialförvaltningen", "Apoteket AB", "556138-6532", "F1003", "46362 Köp medicinskt material", "-250,50"),
    ("Arbetsmarknadsförvaltningen", "Lekolar AB", "556052-3477", "F1004", "46110 Förbrukningsmaterial",
     "3 400,00"),
    ("Arbetsmarknadsförvaltningen", "Region Jämtland Härjedalen", "232100-0198", "F1005",
     "30410 Försäljning av tjänster", -5000),
    ("Kommunstyrelsen", "Visma Enterprise AB", "556250-0050", "F1006", "65410 IT-tjänster", 12000),
]


def supplier_workbook() -> tuple[str, bytes]:
    """The workbook: a title row naming the month, a blank row, the header, six invoices and a total row."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Fakturor"
    ws.append(["Leverantörsfakturor mars 2023, Exempelby kommun"])
    ws.append([])
    ws.append(["RN1/FÖRVALTNING", "LEVERANTÖR", "ORGANISATIO", "FAKT NR", "KONTO", "UTFALL"])
    for row in SUPPLIER_ROWS:
        ws.append(list(row))
    ws.append(["Summa", None, None, None, None, 12299])
    out = io.BytesIO()
    wb.save(out)
    return SUPPLIER_NAME, out.getvalue()


def _sie(lines: list[str], encoding: str = "cp437") -> bytes:
    return "\r\n".join(lines).encode(encoding) + b"\r\n"


_HEAD = ["#FLAGGA 0", '#PROGRAM "SoftOne" "7.0"', "#FORMAT PC8", "#SIETYP 4", '#FNAMN "Exempelby kommun"',
         '#DIM 1 "Ansvar"', '#DIM 6 "Projekt"']


def sie_unclosed_quotes() -> tuple[str, bytes]:
    """Two vouchers in February 2023; lines 10, 11 and 16 have a text whose quote never closes.

    Line numbers: 1–7 head, 8 #VER, 9 {, 10–12 #TRANS, 13 }, 14 #VER, 15 {, 16–17 #TRANS, 18 }.
    """
    lines = [*_HEAD,
             '#VER A 1 20230210 "Inköp februari"', "{",
             '#TRANS 4010 {6 "7301"} 1500.00 20230210 "Konsult steg 1',
             '#TRANS 5800 {6 "7302"} 350.00 20230210 "Tåg Östersund',
             "#TRANS 1930 {} -1850.00", "}",
             '#VER A 2 20230220 "Lön"', "{",
             '#TRANS 5011 {6 "7301"} 20000.00 20230220 "Lön samordnare feb',
             "#TRANS 1930 {} -20000.00", "}"]
    return "softone_citat.se", _sie(lines)


def sie_unbalanced() -> tuple[str, bytes]:
    """Series 1 nr 1 (line 8), series 1 nr 11 (line 13, unbalanced: 10 002 − 10 000 = 2,00 kr on 1930 bank and
    3010 revenue), series 11 nr 1 (line 18). Costs: 4010 7301 2 000 kr; 5011 7302 8 000 kr."""
    lines = [*_HEAD,
             '#VER 1 1 20230301 "Inköp"', "{",
             '#TRANS 4010 {6 "7301"} 2000.00', "#TRANS 1930 {} -2000.00", "}",
             '#VER 1 11 20230315 "Inbetalning"', "{",
             "#TRANS 1930 {} 10002.00", '#TRANS 3010 {6 "7301"} -10000.00', "}",
             '#VER 11 1 20230331 "Lön"', "{",
             '#TRANS 5011 {6 "7302"} 8000.00', "#TRANS 1930 {} -8000.00", "}"]
    return "softone_obalans.se", _sie(lines)


def sie_encoded(encoding: str) -> tuple[str, bytes]:
    """``#FORMAT PC8`` over ``encoding`` bytes: one voucher with Swedish letters in its texts."""
    lines = [*_HEAD,
             '#VER A 1 20230405 "Måltid Åre"', "{",
             '#TRANS 4010 {6 "7301"} 640.00 20230405 "Måltid Åre, Östersund"',
             "#TRANS 1930 {} -640.00", "}"]
    return f"pc8_{encoding.replace('-', '')}.se", _sie(lines, encoding)


def sie_dimensions() -> tuple[str, bytes]:
    """One voucher in May 2023 with dimensions 1, 2 (kostnadsbärare K1/K2), 6, 7 (anställd) and 21 (free).

    Rows: 4010 K1 1 000 kr; 5011 K2 employee E7 30 000 kr; 6110 K1 free object 21 "X" 5 000 kr; 1930 −36 000 kr.
    """
    lines = ["#FLAGGA 0", '#PROGRAM "Fortnox" "3.0"', "#FORMAT PC8", "#SIETYP 4",
             '#DIM 1 "Resultatenhet"', '#DIM 2 "Kostnadsbärare"', '#DIM 6 "Projekt"', '#DIM 7 "Anställd"',
             '#DIM 21 "Fri dimension"',
             '#VER B 5 20230515 "Maj"', "{",
             '#TRANS 4010 {1 "100" 2 "K1" 6 "7301"} 1000.00',
             '#TRANS 5011 {2 "K2" 7 "E7"} 30000.00',
             '#TRANS 6110 {2 "K1" 21 "X"} 5000.00',
             "#TRANS 1930 {} -36000.00", "}"]
    return "dimensioner.se", _sie(lines)


def one_line_csv() -> tuple[str, bytes]:
    """A header and two rows whose line endings were lost: one line, the header's cells and then the rows'."""
    lines = ["Bokföringsdatum;Konto;Projekt;Belopp;", "2023-01-31;5011;7301;42000;", "2023-01-31;1930;;-42000;"]
    return "huvudbok_en_rad.csv", "".join(lines).encode("utf-8")


def every_file() -> list[tuple[str, bytes]]:
    return [supplier_workbook(), sie_unclosed_quotes(), sie_unbalanced(), sie_encoded("utf-8"),
            sie_encoded("iso8859-15"), sie_dimensions(), one_line_csv()]


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    for name, content in every_file():
        (folder / name).write_bytes(content)
        print(folder / name)
