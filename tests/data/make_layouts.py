"""Write the small export files the importer tests read: one ledger, many layouts.

Every layout holds the same eleven transactions (:data:`ROWS`), written the way a different ERP export
writes them, so the tests can assert the same hand-worked figures for each. Run from the project root:

    python tests/data/make_layouts.py

The encrypted workbook needs msoffcrypto-tool (``pip install msoffcrypto-tool``) to be rebuilt; the files are
committed, so the tests themselves need nothing beyond the project's dependencies.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent / "layouts"
D = Decimal

# date, voucher, account, cost centre, project, text, amount (kr)
ROWS: list[tuple[dt.date, str, str, str, str, str, Decimal]] = [
    (dt.date(2023, 1, 31), "A101", "5011", "0410", "7301", "Lön januari", D("45000.00")),
    (dt.date(2023, 2, 15), "B202", "6110", "0410", "7302", "Lokalhyra februari", D("12345.67")),
    (dt.date(2023, 3, 10), "B215", "4010", "0410", "7301", "Konsultfaktura Åre", D("8000.50")),
    (dt.date(2023, 4, 20), "C301", "7010", "0410", "7302", "Resor Östersund", D("1234.56")),
    (dt.date(2023, 5, 31), "A155", "5011", "0410", "7301", "Lön maj", D("44000.00")),
    (dt.date(2023, 6, 15), "B260", "6110", "0410", "7302", "Kreditering hyra", D("-2345.67")),
    (dt.date(2023, 8, 31), "A190", "5011", "0410", "7301", "Lön augusti", D("46500.25")),
    (dt.date(2023, 9, 29), "B299", "4010", "0410", "7302", "Material", D("999.99")),
    (dt.date(2023, 1, 5), "F001", "3010", "0410", "7301", "Förskott kv 1", D("-1329750.00")),   # not a cost
    (dt.date(2023, 2, 1), "B204", "6110", "0410", "9999", "Annat projekt", D("4850.00")),       # no area
    (dt.date(2022, 12, 30), "A099", "5011", "0410", "7301", "Lön december 2022", D("40000.00")),  # outside
]
TOTAL = sum(r[6] for r in ROWS)
HEADER = ["Verifikationsdatum", "Verifikation", "Konto", "Ansvar", "Projekt", "Text", "Belopp"]


def sv(amount: Decimal, *, sep: str = "\u00a0", minus: str = "-") -> str:
    """Swedish text for an amount: ``12 345,67``."""
    whole, frac = f"{abs(amount):.2f}".split(".")
    groups = f"{int(whole):,}".replace(",", sep)
    return f"{minus if amount < 0 else ''}{groups},{frac}"


def excel_serial(day: dt.date) -> int:
    return (day - dt.date(1899, 12, 30)).days


def save(wb: Workbook, name: str) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    (HERE / name).write_bytes(buffer.getvalue())
    return buffer.getvalue()


def a_title_rows_second_sheet() -> bytes:
    """Title and filter rows above the header, the table on the second sheet, off column A, a blank column."""
    wb = Workbook()
    info = wb.active
    info.title = "Rapportinfo"
    for line in ("Huvudbok per projekt", "Skapad av Raindance 2023-10-05", "Urval: projekt 7301–7399"):
        info.append([line])
    ws = wb.create_sheet("Huvudbok")
    ws.append(["Huvudbok RUN/305/2022"])
    ws.append(["Period 2022-12 – 2023-09", None, "Urval: alla konton"])
    ws.append([])
    ws.append([])
    ws.append([None, *HEADER[:6], None, HEADER[6]])
    for day, voucher, account, ansvar, project, text, amount in ROWS:
        ws.append([None, day, voucher, int(account), ansvar, int(project), text, None, float(amount)])
    ws.append([])
    ws.append([None, "Summa", None, None, None, None, None, None, float(TOTAL)])
    return save(wb, "a_titelrader_andra_bladet.xlsx")


def b_english_debit_credit() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "GL"
    ws.append(["Date", "Voucher", "Account", "Cost center", "Project", "Description", "Debit", "Credit"])
    for day, voucher, account, ansvar, project, text, amount in ROWS:
        ws.append([day, voucher, account, ansvar, project, text, float(amount) if amount > 0 else None,
                   float(-amount) if amount < 0 else None])
    ws.append(["Total", None, None, None, None, None, float(sum(r[6] for r in ROWS if r[6] > 0)),
               float(-sum(r[6] for r in ROWS if r[6] < 0))])
    return save(wb, "b_engelska_debet_kredit.xlsx")


def c_period_and_text_amounts() -> bytes:
    """Periods instead of dates, in three spellings; amounts as Swedish text in every way people write them."""
    spellings = [
        sv, lambda a: sv(a, sep=" "), lambda a: sv(a, sep=""),
        lambda a: sv(a, minus="\u2212"), lambda a: sv(a, sep="\u202f"),
        lambda a: f"({sv(-a)})" if a < 0 else sv(a),              # parentheses
        sv, lambda a: sv(a) + " kr",
        lambda a: f"{sv(-a)}-" if a < 0 else sv(a),               # trailing minus
        sv, sv,
    ]
    periods = [lambda d: int(d.strftime("%Y%m")), lambda d: d.strftime("%Y-%m"), lambda d: d.strftime("%Y %m")]
    wb = Workbook()
    ws = wb.active
    ws.title = "Utfall"
    ws.append(["Bokföringsperiod", "Konto", "Kostnadsställe", "Projekt", "Beskrivning", "Utfall"])
    for i, (day, _v, account, ansvar, project, text, amount) in enumerate(ROWS):
        ws.append([periods[i % 3](day), account, ansvar, project, text, spellings[i](amount)])
        for cell in ws[ws.max_row][1:4] + ws[ws.max_row][5:6]:
            cell.data_type = "s"
    ws.append([None, None, None, None, "Totalt", sv(TOTAL)])
    return save(wb, "c_period_och_textbelopp.xlsx")


def d_serial_and_text_dates() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["Transaktionsdatum", "Vernr", "Konto", "Ansvar", "Projekt", "Text", "Belopp"])
    for i, (day, voucher, account, ansvar, project, text, amount) in enumerate(ROWS):
        when: object = [excel_serial(day), day.strftime("%Y%m%d"), day.isoformat()][i % 3]
        ws.append([when, voucher, account, ansvar, project, text, float(amount)])
        ws.cell(ws.max_row, 1).data_type = "n" if i % 3 == 0 else "s"
    ws.append([None, None, None, None, None, None, float(TOTAL)])  # a total row with only the amount
    return save(wb, "d_serienummer_och_textdatum.xlsx")


def csv_text(delimiter: str = ";") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["Huvudbokstransaktioner"])
    writer.writerow(["Utskrivet 2023-10-05"])
    writer.writerow(HEADER)
    for day, voucher, account, ansvar, project, text, amount in ROWS:
        writer.writerow([day.isoformat(), voucher, account, ansvar, project, text, sv(amount, sep=" ")])
    writer.writerow(["Summa", "", "", "", "", "", sv(TOTAL, sep=" ")])
    return out.getvalue()


def e_csv_cp1252() -> bytes:
    content = csv_text().encode("cp1252")
    (HERE / "e_semikolon_cp1252.csv").write_bytes(content)
    return content


def f_csv_utf8_bom() -> bytes:
    # With a comma separator the decimal comma needs quotes, as Excel writes them.
    rows = list(csv.reader(io.StringIO(csv_text()), delimiter=";"))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=",", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow(row)
    content = b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
    (HERE / "f_komma_utf8_bom.csv").write_bytes(content)
    return content


def g_own_headers() -> bytes:
    """Headers no detection knows: the controller maps them by hand."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Export"
    ws.append(["Bokf.dag", "Vnr", "Kto", "Enhet", "Proj", "Ben.", "Netto"])
    for day, voucher, account, ansvar, project, text, amount in ROWS:
        ws.append([day, voucher, account, ansvar, project, text, float(amount)])
    return save(wb, "g_egna_rubriker.xlsx")


def h_macro(workbook: bytes) -> None:
    """A macro-enabled workbook: the same sheets and a vbaProject.bin (never run; we only read values)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"Attribute VB_Name = \"Module1\"\nShell \"calc\"")
    (HERE / "h_makro.xlsm").write_bytes(out.getvalue())


def i_sie() -> bytes:
    """SIE 4 in CP437: a voucher per transaction, balanced against the bank account 1930 (no project)."""
    lines = ["#FLAGGA 0", '#PROGRAM "Raindance" "2023.2"', "#FORMAT PC8", "#GEN 20231005", "#SIETYP 4",
             '#FNAMN "Region Jämtland Härjedalen"', "#RAR 0 20230101 20231231", '#DIM 1 "Ansvar"',
             '#DIM 6 "Projekt"', '#OBJEKT 6 "7301" "Social välfärd"', '#OBJEKT 6 "7302" "Arbetsmarknad"',
             '#KONTO 1930 "Bank"']
    for i, (day, voucher, account, ansvar, project, text, amount) in enumerate(ROWS):
        series, number = voucher[0], voucher[1:]
        lines.append(f'#VER {series} {number} {day:%Y%m%d} "{text}"')
        lines.append("{")
        if i == 0:  # a row with its own date and text, and a correction: removed (#BTRANS), added (#RTRANS)
            lines.append(f'   #BTRANS {account} {{1 "{ansvar}" 6 "{project}"}} 99.00 {day:%Y%m%d} "Felaktig"')
            lines.append(f'   #RTRANS {account} {{1 "{ansvar}" 6 "{project}"}} {amount} {day:%Y%m%d} "Lön jan"')
            lines.append(f'   #TRANS {account} {{1 "{ansvar}" 6 "{project}"}} {amount} {day:%Y%m%d} "Lön jan"')
        else:
            lines.append(f'   #TRANS {account} {{1 "{ansvar}" 6 "{project}"}} {amount}')
        lines.append(f"   #TRANS 1930 {{}} {-amount}")
        lines.append("}")
    content = ("\r\n".join(lines) + "\r\n").encode("cp437")
    (HERE / "i_huvudbok.se").write_bytes(content)
    return content


def refusals(workbook: bytes) -> None:
    try:
        import msoffcrypto
        from msoffcrypto.format.ooxml import OOXMLFile

        encrypted = io.BytesIO()
        OOXMLFile(io.BytesIO(workbook)).encrypt("hemligt", encrypted)
        (HERE / "x_krypterad.xlsx").write_bytes(encrypted.getvalue())
        del msoffcrypto
    except ImportError:
        print("msoffcrypto-tool is not installed: x_krypterad.xlsx kept as it is")
    (HERE / "x_pdf_omdopt.xlsx").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n")
    (HERE / "x_csv_omdopt.xlsx").write_bytes(csv_text().encode("utf-8"))
    wb = Workbook()
    wb.active.title = "Blad1"
    save(wb, "x_tom.xlsx")
    wb = Workbook()
    ws = wb.active
    ws.append(["Verifikationsdatum", "Konto", "Projekt", "Text"])
    ws.append([dt.date(2023, 2, 1), "5011", "7301", "Lön"])
    save(wb, "x_utan_belopp.xlsx")
    wb = Workbook()
    ws = wb.active
    ws.title = "Huvudbok"
    ws.append(["Verifikationsdatum", "Konto", "Projekt", "Text", "Belopp"])
    for i in range(30):  # rows 2–31: every third amount and every fifth date is unreadable
        amount = "12,3,4" if i % 3 == 0 else 100.5
        day: object = "31/13/2023" if i % 5 == 0 else dt.date(2023, 2, 1 + i % 28)
        ws.append([day, "5011", "7301", f"Rad {i + 2}", amount])
        ws.cell(ws.max_row, 5).data_type = "s" if isinstance(amount, str) else "n"
    save(wb, "x_felaktiga_varden.xlsx")
    sie = i_sie().decode("cp437").replace("12345.67", "12 345,67").replace("1234.56", "1234.5.6")
    (HERE / "x_sie_felaktig.se").write_bytes(sie.replace("#VER C 301", "#VER C 301").encode("cp437"))
    unbalanced = i_sie().decode("cp437").replace("#TRANS 1930 {} -999.99", "#TRANS 1930 {} -990.99")
    (HERE / "x_sie_obalanserad.se").write_bytes(unbalanced.encode("cp437"))


def main() -> None:
    HERE.mkdir(exist_ok=True)
    workbook = a_title_rows_second_sheet()
    b_english_debit_credit()
    c_period_and_text_amounts()
    d_serial_and_text_dates()
    e_csv_cp1252()
    f_csv_utf8_bom()
    g_own_headers()
    h_macro(workbook)
    i_sie()
    refusals(workbook)
    print(f"wrote {len(list(HERE.iterdir()))} files to {HERE}")


if __name__ == "__main__":
    main()
