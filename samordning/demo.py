"""Example ERP exports for the demo: one Excel file per quarter, as a Raindance-style ledger extract.

The story (2023Q1–2023Q3, projects 7301 Social välfärd and 7302 Arbetsmarknad och utbildning):
two coordinators per area; one coordinator in Arbetsmarknad och utbildning leaves at the end of April
and the post stays vacant until August (§9: the commissioner recruits), so personnel costs dip in Q2;
a consultant invoice for a needs analysis in Q2; travel to the municipalities every month; the advance
booked as revenue (class 3) each quarter; one travel cost booked without a project; a "Summa" row.

Run ``python -m samordning.demo [FOLDER]`` to write the files (default ``data/exempel``).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

HEADER = ("Verifikationsdatum", "Verifikation", "Konto", "Ansvar", "Projekt", "Text", "Belopp")
PAYROLL_TAX = Decimal("0.3915")  # arbetsgivaravgift + avtalsförsäkringar (PO-pålägg), typical for a region
CENT = Decimal("0.01")

# (project, cost centre, monthly salary, months employed)
STAFF = [
    ("7301", "41100", Decimal("48500"), range(1, 10)),
    ("7301", "41100", Decimal("46200"), range(1, 10)),
    ("7302", "41200", Decimal("47800"), range(1, 10)),
    ("7302", "41200", Decimal("45900"), (1, 2, 3, 4, 8, 9)),  # vacant May–July
]


def _rows_for_quarter(quarter: int, rng: random.Random) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    voucher = 10000 * quarter
    months = range(3 * quarter - 2, 3 * quarter + 1)

    def add(day: dt.date, account: str, cc: str, project: str, text: str, amount: Decimal) -> None:  # noqa: PLR0917
        nonlocal voucher
        voucher += 1
        rows.append((day, f"V{voucher}", account, cc, project, text, float(amount.quantize(CENT))))

    add(dt.date(2023, months[0], 2), "3610", "41000", "7300",
        f"Förskott kv {quarter} Kommunförbundet JH enl. överenskommelse", Decimal("-1329750.00"))
    for month in months:
        payday = dt.date(2023, month, 25)
        for project, cc, salary, employed in STAFF:
            if month in employed:
                add(payday, "5011", cc, project, f"Månadslön {month:02d}", salary)
                add(payday, "5611", cc, project, f"PO-pålägg {month:02d}",
                    (salary * PAYROLL_TAX).quantize(CENT, ROUND_HALF_UP))
        for project, cc in (("7301", "41100"), ("7302", "41200")):
            for _ in range(rng.randint(2, 4)):
                amount = Decimal(rng.randint(80000, 420000)) / 100
                add(dt.date(2023, month, rng.randint(3, 24)), "7310", cc, project,
                    rng.choice(["Resa Östersund–Strömsund", "Resa Sveg, arena", "Tåg Stockholm SKR-möte",
                                "Milersättning Åre"]), amount)
            add(dt.date(2023, month, 1), "6110", cc, project, "Lokalhyra Rådhusgatan", Decimal("18450.00"))
            add(dt.date(2023, month, rng.randint(5, 20)), "6510", cc, project, "Förbrukningsmaterial",
                Decimal(rng.randint(50000, 290000)) / 100)
    if quarter == 1:
        add(dt.date(2023, 2, 14), "7310", "41100", "", "Resa Härjedalen (projekt saknas)", Decimal("4850.00"))
    if quarter == 2:
        add(dt.date(2023, 5, 31), "4641", "41200", "7302", "Konsult: behovsanalys arbetsmarknad",
            Decimal("187500.00"))
        add(dt.date(2023, 6, 12), "4641", "41100", "7301", "Konsult: workshop socialchefer",
            Decimal("42300.00"))
        add(dt.date(2023, 6, 20), "4641", "41200", "7302", "Kreditnota konsult, felaktig timdebitering",
            Decimal("-12500.00"))
    if quarter == 3:
        add(dt.date(2023, 8, 28), "7310", "41200", "7302", "Rekrytering: annonsering ersättare",
            Decimal("24900.00"))
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows


def write_examples(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(305)
    paths = []
    for quarter in (1, 2, 3):
        rows = _rows_for_quarter(quarter, rng)
        wb = Workbook()
        ws = wb.active
        ws.title = "Huvudbok"
        ws.append(["Region Jämtland Härjedalen – Huvudbok, urval projekt 7300–7302"])
        ws["A1"].font = Font(bold=True, size=14)
        first, last = 3 * quarter - 2, 3 * quarter
        ws.append([f"Period 2023-{first:02d} – 2023-{last:02d}   Urval: Projekt 7300–7302   Utskrivet av: ekonomi"])
        ws.append([])
        ws.append(list(HEADER))
        for cell in ws[4]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(list(row))
            ws.cell(ws.max_row, 1).number_format = "yyyy-mm-dd"
            ws.cell(ws.max_row, 7).number_format = "#,##0.00"
        total = sum(Decimal(str(r[6])) for r in rows)
        ws.append(["Summa", None, None, None, None, None, float(total)])
        ws.cell(ws.max_row, 7).number_format = "#,##0.00"
        for col, width in zip("ABCDEFG", (14, 10, 8, 8, 8, 44, 14), strict=True):
            ws.column_dimensions[col].width = width
        wb.properties.creator = "Raindance rapportgenerator"
        wb.properties.created = wb.properties.modified = dt.datetime(2023, 3 * quarter + 1, 10, 8, 0)
        path = folder / f"huvudbok_2023_kv{quarter}.xlsx"
        wb.save(path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_examples(sys.argv[1] if len(sys.argv) > 1 else "data/exempel"):
        print(written)


def write_large_export(path: str | Path, n_rows: int, seed: int = 1) -> Path:
    """An ERP-style export with ``n_rows`` ledger rows over 2023Q1–Q3 for benchmarks and load tests.

    Same layout as the examples (title rows, Swedish headers, a Summa row); amounts with öre.
    Written with openpyxl's write-only mode so that 200 000 rows take seconds, not minutes.
    """
    rng = random.Random(seed)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Huvudbok")
    ws.append(["Region Jämtland Härjedalen – Huvudbok, urval projekt 7300–7302"])
    ws.append(["Period 2023-01 – 2023-09"])
    ws.append([])
    ws.append(list(HEADER))
    accounts = ("5011", "5611", "6110", "6510", "7310", "4641", "3610")
    total = 0
    for i in range(n_rows):
        ore = rng.randint(-50_000, 5_000_000)
        total += ore
        ws.append([dt.date(2023, rng.randint(1, 9), rng.randint(1, 28)), f"V{i + 1}", rng.choice(accounts),
                   "41100", rng.choice(("7301", "7302", "7399")), "Rad", ore / 100])
    ws.append(["Summa", None, None, None, None, None, total / 100])
    path = Path(path)
    wb.save(path)
    return path
