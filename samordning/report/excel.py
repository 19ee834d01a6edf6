"""The report as an Excel workbook for the economists: real numbers, a sheet per part, ready to print.

Written with xlsxwriter in its ``constant_memory`` mode: each row goes to the sheet's file as it is written, so
the *Transaktioner* and *Utelämnade* sheets stream from the database in chunks and memory stays flat in the
number of rows, and the time is linear in it (openpyxl, used before, kept every cell and looked the last row
up after each append: quadratic). xlsxwriter is the fastest well-kept pure-Python writer of xlsx files and
writes the number formats, frozen and filtered headers and print settings we need.

Number formats are written in Excel's invariant notation (``#,##0.00`` with comma grouping and point
decimals); Excel shows them with the reader's locale, so a Swedish Excel displays ``1 329 750,00 kr``.
Amounts are written as the float ``öre / 100``, whose text in the file (16 significant digits) is the exact
amount to the öre for any sum a ledger holds. Text from uploads is always stored as text, never as a formula:
the workbook is opened with ``strings_to_formulas`` off and every string is written as a string, so a cell
starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return stays text.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from math import isnan
from typing import IO

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from samordning.agreement import quarter_label
from samordning.followup import REASONS, WHOLE_PERIOD
from samordning.localtime import local_iso
from samordning.names import shown
from samordning.queries import Row
from samordning.report import EconomicReport

KR = '#,##0.00 "kr"'
KR_WHOLE = '#,##0 "kr"'
PERCENT = "0 %"
DATE = "yyyy-mm-dd"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
WORKBOOK_OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                    "strings_to_numbers": False, "default_date_format": DATE}
TRANSACTION_HEAD = ["Fil", "Blad", "Rad", "Datum", "Period", "Konto", "Ansvar", "Projekt", "Verifikation", "Text",
                    "Belopp", "Kvartal", "Område"]
SELECTION_HEAD = ["Fil", "Blad", "Rad", "Datum", "Period", "Konto", "Ansvar", "Projekt", "Verifikation", "Text",
                  "Belopp", "Område", "Utelämnad"]


def kr(ore: int) -> float:
    """Öre as kronor for a cell: the float's 16-digit text is the exact two-decimal amount."""
    return int(ore) / 100


class Book:
    """A workbook written sheet by sheet and row by row (xlsxwriter, constant memory)."""

    def __init__(self, out: IO[bytes] | str) -> None:
        self.wb = xlsxwriter.Workbook(out, WORKBOOK_OPTIONS)
        self.head = self.wb.add_format({"bold": True, "bg_color": "#E8ECF1", "text_wrap": True, "valign": "top"})
        self.title = self.wb.add_format({"bold": True, "font_size": 14})
        self.wrap = self.wb.add_format({"text_wrap": True, "valign": "top"})
        self._formats: dict[str, object] = {}

    def number_format(self, code: str) -> object:
        if code not in self._formats:
            self._formats[code] = self.wb.add_format({"num_format": code})
        return self._formats[code]

    def sheet(self, title: str, head: Sequence[str], rows: Iterable[Sequence[object]], *,
              formats: Mapping[int, str] | None = None, widths: Sequence[int] | None = None,
              intro: Sequence[str] = (), wrap: Sequence[int] = ()) -> Worksheet:
        """A table sheet: optional intro lines, a bold frozen header with autofilter, a number format per
        column (1-based, as Excel counts), widths, and A4 landscape printing fitted to the width with the
        header repeated on every page. ``rows`` may be a generator: each row is written as it comes."""
        ws = self.wb.add_worksheet(title)
        for i, width in enumerate(widths or [18] * len(head)):
            code = (formats or {}).get(i + 1)
            fmt = self.number_format(code) if code else (self.wrap if i + 1 in wrap else None)
            ws.set_column(i, i, width, fmt)
        for i, line in enumerate(intro):
            ws.write_string(i, 0, line, self.title if i == 0 and title == "Återrapportering" else None)
        header = len(intro) + 1 if intro else 0
        for col, text in enumerate(head):
            ws.write_string(header, col, text, self.head)
        last = write_rows(ws, header + 1, rows)
        ws.freeze_panes(header + 1, 0)
        ws.autofilter(header, 0, max(last, header + 1), len(head) - 1)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(header)
        ws.set_footer("&C&P / &N")
        return ws

    def close(self) -> None:
        self.wb.close()


def write_rows(ws: Worksheet, first: int, rows: Iterable[Sequence[object]]) -> int:
    """Write rows from row index ``first`` on; returns the index of the last row written (``first - 1`` if none).
    Strings are always strings; None is a blank cell; the column's format applies to numbers and dates."""
    # xlsxwriter's undecorated writers, which its own write_row calls: the public ones first check each call for
    # "A1" notation, a fifth of the time of a sheet of a million rows (the public ones where they are missing).
    write_string, write_number, write_datetime = (getattr(ws, f"_{name}", getattr(ws, name)) for name in
                                                  ("write_string", "write_number", "write_datetime"))
    r = first - 1
    for r, row in enumerate(rows, start=first):
        for c, value in enumerate(row):
            kind = value.__class__
            if kind is str:
                if value:
                    write_string(r, c, value)
            elif kind is float:
                if not isnan(value):
                    write_number(r, c, value)
            elif kind is int or kind is Decimal:
                write_number(r, c, value)
            elif kind is dt.date or kind is dt.datetime:
                write_datetime(r, c, value)
            elif value is None or value is pd.NaT:
                continue
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, (int, float)):  # numpy scalars
                if not isnan(value):
                    write_number(r, c, float(value))
            elif isinstance(value, dt.date):
                write_datetime(r, c, value)
            else:
                write_string(r, c, str(value))
    return r


def _stamp(value: object) -> str:
    """A stored time (UTC) as data: Europe/Stockholm with its offset, ``2023-10-02T14:05:00+02:00`` — the same
    clock as the dashboard and the PDF, and unambiguous to a program that reads the sheet."""
    return local_iso(value)


def _utilisation(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def _title_lines(r: EconomicReport) -> list[str]:
    a = r.agreement
    return [
        r.title,
        f"Avtal (dnr) {a.id}: {a.title}",
        " · ".join(f"{p.name} ({p.role})" for p in a.parties),
        f"Giltighetstid {a.validity.start} – {a.validity.end} ({a.validity.clause}); rapporten omfattar "
        f"{r.period_start} – {r.period_end}; upprättad {r.made_on}"
        + (f"; fastställd, presenterad för samverkansrådet {r.presented_on}" if r.presented_on else ""),
        "Belopp i kronor. Förskott enligt avtalets plan där inga betalningar är registrerade.",
    ]


def _figure_sheets(book: Book, r: EconomicReport) -> None:
    """The sheets of figures: narratives, key figures, changes, quarters, areas, account classes, forecast."""
    a, names = r.agreement, r.area_names
    book.sheet("Återrapportering", ["Område", "Kvartal", "Återrapportering av uppdraget", "Av", "Tid"],
               [[names.get(x.area, "Hela uppdraget") if x.area else "Hela uppdraget",
                 quarter_label(x.quarter) if x.quarter else "", x.text, x.author, _stamp(x.at)]
                for x in r.narratives.itertuples()],
               widths=[30, 12, 100, 16, 18], wrap=[3],
               intro=[*_title_lines(r), f"Återrapportering av uppdraget ({a.report.clause})"])
    book.sheet("Sammanfattning", ["Nyckeltal", "Belopp", "Paragraf", "Förklaring"],
               [[f.label, kr(f.ore), f.clause, f.note] for f in r.figures],
               formats={2: KR_WHOLE}, widths=[34, 18, 10, 70])
    if r.since is not None:
        book.sheet("Ändringar", ["Kvartal", "Område", "Uppgift", "Tidigare", "Nu", "Skillnad", "Orsak"],
                   [[quarter_label(c.quarter), c.area, c.what, kr(c.old_ore), kr(c.new_ore),
                     kr(c.new_ore - c.old_ore), "; ".join(c.causes)] for c in r.changes],
                   formats={4: KR, 5: KR, 6: KR}, widths=[12, 30, 12, 18, 18, 18, 60],
                   intro=[f"Ändringar sedan den fastställda rapporten nr {r.since.id} "
                          f"({quarter_label(r.since.quarter)}, presenterad {r.since.presented_on}, "
                          f"sha256 {r.since.sha256})"])
    book.sheet("Kvartal", ["Kvartal", "Förskott enligt plan", "Förskott i uppföljningen", "Källa", "Utfall",
                           "Avvikelse", "Kvarstående medel", "Nyttjandegrad"],
               [[quarter_label(q.quarter), kr(q.planned_ore), kr(q.advance_ore), q.source, kr(q.actual_ore),
                 kr(q.variance_ore), kr(q.balance_ore), _utilisation(q.utilisation)]
                for q in r.quarters.itertuples()],
               formats={2: KR, 3: KR, 5: KR, 6: KR, 7: KR, 8: PERCENT}, widths=[12, 20, 22, 12, 18, 18, 20, 14])
    _years_sheet(book, r)
    book.sheet("Områden", ["Kvartal", "Område", "Förskott", "Utfall", "Avvikelse", "Kvarstående medel",
                           "Nyttjandegrad", "Tak vid tvist (§10)"],
               [[quarter_label(q.quarter), names[q.area], kr(q.advance_ore), kr(q.actual_ore), kr(q.variance_ore),
                 kr(q.balance_ore), _utilisation(q.utilisation), kr(r.caps[q.area])]
                for q in r.quarters_by_area.itertuples()],
               formats={3: KR, 4: KR, 5: KR, 6: KR, 7: PERCENT, 8: KR}, widths=[12, 32, 18, 18, 18, 20, 14, 20])
    book.sheet("Kontoklasser", ["Kvartal", "Personal", "Övriga kostnader", "Summa"],
               [[quarter_label(c.quarter), kr(c.personnel_ore), kr(c.other_ore), kr(c.total_ore)]
                for c in r.account_classes.itertuples()],
               formats={2: KR, 3: KR, 4: KR}, widths=[12, 20, 20, 20],
               intro=[f"Personal = kontoklass {', '.join(a.accounts.personnel_classes)} ({a.accounts.basis}); "
                      f"vakanser syns som lägre personalkostnader ({a.vacancies.clause})."])
    f = r.forecast
    book.sheet("Prognos", ["Uppgift", "Värde"], [
        ["Senaste månad med utfall", f.as_of or "–"],
        ["Utfall hittills", kr(f.actual_ore)],
        ["Genomsnitt per månad", kr(f.monthly_average_ore)],
        ["Återstående månader", f.remaining_months],
        ["Prognos till avtalets slut", kr(f.forecast_ore)],
        ["Förskott enligt plan", kr(f.planned_advances_ore)],
        [f"Prognostiserad återbetalning ({f.clause})", kr(f.repayment_ore)],
        ["Prognostiserat överskridande", kr(f.overspend_ore)],
    ], formats={2: KR}, widths=[44, 20])


def _years_sheet(book: Book, r: EconomicReport) -> None:
    """*Per år*: for an agreement over several calendar years, each year of the covered quarters and the whole period
    so far — the report's own table (:attr:`EconomicReport.years`, as the HTML and the PDF show it)."""
    years = r.years
    if years is None:
        return
    book.sheet("Per år", ["År", "Förskott enligt plan", "Förskott i uppföljningen", "Utfall", "Avvikelse",
                          "Kvarstående vid slutet", "Nyttjandegrad"],
               [[f"Hela perioden {r.period_start}–{r.period_end}" if y.year == WHOLE_PERIOD else y.year,
                 kr(y.planned_ore), kr(y.advance_ore), kr(y.actual_ore), kr(y.variance_ore), kr(y.balance_ore),
                 _utilisation(y.utilisation)] for y in years.itertuples()],
               formats={2: KR, 3: KR, 4: KR, 5: KR, 6: KR, 7: PERCENT}, widths=[34, 20, 22, 18, 18, 22, 14],
               intro=["Per år och för hela perioden: summor av kvartalen som rapporten omfattar; kvarstående medel "
                      "vid årets (periodens) slut."])


def _record_sheets(book: Book, r: EconomicReport) -> None:
    """Withholdings, comments, findings, uploads — then the rows, streamed, and the sign-offs."""
    a, names = r.agreement, r.area_names
    book.sheet("Innehållande", ["Område", "Belopp", "Skäl", "Från", "Släppt", f"Tak ({a.dispute.clause})"],
               [[names.get(w.area, w.area), kr(w.amount_ore), w.reason, w.withheld_on, w.released_on,
                 kr(w.cap_ore)] for w in r.withholdings.itertuples()]
               or [[names[k], kr(0), "inget innehållet", None, None, kr(v)] for k, v in r.caps.items()],
               formats={2: KR, 6: KR}, widths=[32, 16, 40, 12, 12, 18])
    book.sheet("Kommentarer", ["Kvartal", "Område", "Kommentar", "Av", "Tid"],
               [[quarter_label(c.quarter) if c.quarter else "Hela avtalet", names.get(c.area, "") if c.area else "",
                 c.text, c.author, _stamp(c.at)] for c in r.comments.itertuples()],
               widths=[14, 30, 80, 16, 18])
    book.sheet("Avtalets brister", ["Paragraf", "Iakttagelse", "Förklaring"],
               [[f.clause, f.title, f.detail] for f in r.findings], widths=[12, 60, 100])
    book.sheet("Underlag", ["Uppladdning", "Fil", "sha256", "Av", "Tid", "Månader", "Status"],
               [[int(u.id), u.filename, u.sha256, u.uploaded_by, _stamp(u.uploaded_at), ", ".join(u.periods),
                 u.status] for u in r.uploads.itertuples()],
               widths=[12, 32, 68, 14, 18, 30, 14])
    book.sheet("Transaktioner", TRANSACTION_HEAD, transaction_cells(r.transactions.chunks(), names),
               formats={4: DATE, 11: KR}, widths=[28, 12, 8, 12, 10, 8, 10, 10, 14, 44, 16, 10, 28],
               intro=[f"Raderna bakom utfallet ({a.insight.clause}); summa {len(r.transactions)} rader. "
                      "Utelämnade rader finns på bladet Utelämnade."])
    book.sheet("Underskrifter", ["Part", "Roll", "Namn", "Befattning", "Datum"],
               [[p.name, p.role, *(([str(r.signoffs[p.role]["name"]), str(r.signoffs[p.role]["title"]),
                                     r.signoffs[p.role]["signed_on"]]) if p.role in r.signoffs else ["", "", None])]
                for p in a.parties], formats={5: DATE}, widths=[40, 14, 30, 30, 14])
    book.sheet("Utelämnade", ["Fil", "Blad", "Rad", "Period", "Konto", "Text", "Belopp", "Skäl"],
               ((shown(x.filename), x.sheet, x.excel_row, x.period, x.account, x.text, x.amount_ore / 100,
                 REASONS[x.reason])
                for chunk in r.left_out.chunks() for x in chunk),
               formats={7: KR}, widths=[28, 12, 8, 10, 8, 44, 16, 44])


def transaction_cells(chunks: Iterable[list[Row]], names: Mapping[str, str]) -> Iterable[tuple[object, ...]]:
    """The *Transaktioner* sheet's cells of streamed rows."""
    for chunk in chunks:
        for x in chunk:
            yield (shown(x.filename), x.sheet, x.excel_row, x.booking_date, x.period, x.account, x.cost_centre,
                   x.project, x.voucher, x.text, x.amount_ore / 100, x.quarter, names.get(x.area) if x.area else None)


def write_report(r: EconomicReport, out: IO[bytes] | str) -> None:
    """Write the report's workbook to a binary file or a path, streaming the rows from the database."""
    book = Book(out)
    _figure_sheets(book, r)
    _record_sheets(book, r)
    book.close()


def write_xlsx(r: EconomicReport) -> bytes:
    """The report's workbook as bytes (the file, not the rows, is held in memory)."""
    out = io.BytesIO()
    write_report(r, out)
    return out.getvalue()


# -- a selection of rows (the dashboard's export) ----------------------------------------------------------

def write_selection(rows: Iterable[Row], out: IO[bytes] | str, area_names: Mapping[str, str] | None = None) -> None:
    """A selection of rows as a one-sheet workbook, written as the rows come (an iterator of rows read from the
    database in chunks keeps memory flat)."""
    names = area_names or {}
    book = Book(out)
    book.sheet("Transaktioner", SELECTION_HEAD,
               ((shown(x.filename), x.sheet, x.excel_row, x.booking_date, x.period, x.account, x.cost_centre, x.project,
                 x.voucher, x.text, x.amount_ore / 100, names.get(x.area, x.area) if x.area else None,
                 REASONS.get(x.reason) if x.reason else None) for x in rows),
               formats={4: DATE, 11: KR}, widths=[28, 12, 8, 12, 10, 8, 10, 10, 14, 44, 16, 28, 36])
    book.close()
