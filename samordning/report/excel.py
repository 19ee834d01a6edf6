"""The report as an Excel workbook for the economists: real numbers, a sheet per part, ready to print.

Number formats are written in Excel's invariant notation (``#,##0.00`` with comma grouping and point
decimals); Excel shows them with the reader's locale, so a Swedish Excel displays ``1 329 750,00 kr``.
Text from uploads is always stored as text, never as a formula (a cell starting with ``=``, ``+``, ``-``
or ``@`` would otherwise run when the file is opened).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from samordning.agreement import quarter_label
from samordning.followup import REASONS
from samordning.report import Report

KR = '#,##0.00 "kr"'
KR_WHOLE = '#,##0 "kr"'
PERCENT = "0 %"
HEAD = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="E8ECF1")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def kr(ore: int) -> Decimal:
    """Öre as exact kronor for a cell (openpyxl writes a Decimal as a number)."""
    return Decimal(int(ore)) / 100


def _text(cell: object) -> None:
    value = cell.value  # type: ignore[attr-defined]
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell.data_type = "s"  # type: ignore[attr-defined]


def _sheet(wb: Workbook, title: str, head: Sequence[str], rows: Iterable[Sequence[object]], *,
           formats: dict[int, str] | None = None, widths: Sequence[int] | None = None,
           intro: Sequence[str] = ()) -> Worksheet:
    """A table sheet: optional intro lines, a bold frozen header with autofilter, formats per column,
    widths, and A4 landscape printing fitted to the width with the header repeated on every page."""
    ws = wb.create_sheet(title)
    for line in intro:
        ws.append([line])
        _text(ws.cell(ws.max_row, 1))
    if intro:
        ws.append([])
    header_row = ws.max_row + 1 if intro else 1
    ws.append(list(head))
    for cell in ws[header_row]:
        cell.font, cell.fill = HEAD, HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        ws.append(list(row))
        for cell in ws[ws.max_row]:
            _text(cell)
    for column, number_format in (formats or {}).items():
        for (cell,) in ws.iter_rows(min_row=header_row + 1, min_col=column, max_col=column):
            cell.number_format = number_format
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    last = get_column_letter(len(head))
    ws.auto_filter.ref = f"A{header_row}:{last}{max(ws.max_row, header_row + 1)}"
    for i, width in enumerate(widths or [18] * len(head), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.oddFooter.center.text = "&P / &N"
    return ws


def write_xlsx(r: Report) -> bytes:
    a = r.agreement
    names = r.area_names
    wb = Workbook()
    wb.remove(wb.active)

    title_lines = [
        r.title,
        f"Avtal (dnr) {a.id}: {a.title}",
        " · ".join(f"{p.name} ({p.role})" for p in a.parties),
        f"Giltighetstid {a.validity.start} – {a.validity.end} ({a.validity.clause}); rapporten omfattar "
        f"{r.period_start} – {r.period_end}; upprättad {r.made_on}"
        + (f"; fastställd, presenterad för samverkansrådet {r.presented_on}" if r.presented_on else ""),
        "Belopp i kronor. Förskott enligt avtalets plan där inga betalningar är registrerade.",
    ]
    n = r.narratives
    ws = _sheet(wb, "Återrapportering", ["Område", "Kvartal", "Återrapportering av uppdraget", "Av", "Tid"],
                [[names.get(x.area, "Hela uppdraget") if x.area else "Hela uppdraget",
                  quarter_label(x.quarter) if x.quarter else "", x.text, x.author,
                  pd.Timestamp(x.at).strftime("%Y-%m-%d %H:%M")] for x in n.itertuples()],
                widths=[30, 12, 100, 16, 18],
                intro=[*title_lines, f"Återrapportering av uppdraget ({a.report.clause})"])
    ws["A1"].font = Font(bold=True, size=14)
    for (cell,) in ws.iter_rows(min_col=3, max_col=3):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    _sheet(wb, "Sammanfattning", ["Nyckeltal", "Belopp", "Paragraf", "Förklaring"],
           [[f.label, kr(f.ore), f.clause, f.note] for f in r.figures],
           formats={2: KR_WHOLE}, widths=[34, 18, 10, 70])
    if r.since is not None:
        _sheet(wb, "Ändringar", ["Kvartal", "Område", "Uppgift", "Tidigare", "Nu", "Skillnad", "Orsak"],
               [[quarter_label(c.quarter), c.area, c.what, kr(c.old_ore), kr(c.new_ore), kr(c.new_ore - c.old_ore),
                 "; ".join(c.causes)] for c in r.changes],
               formats={4: KR, 5: KR, 6: KR}, widths=[12, 30, 12, 18, 18, 18, 60],
               intro=[f"Ändringar sedan den fastställda rapporten nr {r.since.id} ({quarter_label(r.since.quarter)}, "
                      f"presenterad {r.since.presented_on}, sha256 {r.since.sha256})"])

    _sheet(wb, "Kvartal", ["Kvartal", "Förskott enligt plan", "Förskott i uppföljningen", "Källa", "Utfall",
                           "Avvikelse", "Kvarstående medel", "Nyttjandegrad"],
           [[quarter_label(q.quarter), kr(q.planned_ore), kr(q.advance_ore), q.source, kr(q.actual_ore),
             kr(q.variance_ore), kr(q.balance_ore), None if pd.isna(q.utilisation) else float(q.utilisation)]
            for q in r.quarters.itertuples()],
           formats={2: KR, 3: KR, 5: KR, 6: KR, 7: KR, 8: PERCENT}, widths=[12, 20, 22, 12, 18, 18, 20, 14])
    _sheet(wb, "Områden", ["Kvartal", "Område", "Förskott", "Utfall", "Avvikelse", "Kvarstående medel",
                           "Nyttjandegrad", "Tak vid tvist (§10)"],
           [[quarter_label(q.quarter), names[q.area], kr(q.advance_ore), kr(q.actual_ore), kr(q.variance_ore),
             kr(q.balance_ore), None if pd.isna(q.utilisation) else float(q.utilisation), kr(r.caps[q.area])]
            for q in r.quarters_by_area.itertuples()],
           formats={3: KR, 4: KR, 5: KR, 6: KR, 7: PERCENT, 8: KR}, widths=[12, 32, 18, 18, 18, 20, 14, 20])
    _sheet(wb, "Kontoklasser", ["Kvartal", "Personal", "Övriga kostnader", "Summa"],
           [[quarter_label(c.quarter), kr(c.personnel_ore), kr(c.other_ore), kr(c.total_ore)]
            for c in r.account_classes.itertuples()],
           formats={2: KR, 3: KR, 4: KR}, widths=[12, 20, 20, 20],
           intro=[f"Personal = kontoklass {', '.join(a.accounts.personnel_classes)} ({a.accounts.basis}); "
                  f"vakanser syns som lägre personalkostnader ({a.vacancies.clause})."])
    _sheet(wb, "Prognos", ["Uppgift", "Värde"], [
        ["Senaste månad med utfall", r.forecast.as_of or "–"],
        ["Utfall hittills", kr(r.forecast.actual_ore)],
        ["Genomsnitt per månad", kr(r.forecast.monthly_average_ore)],
        ["Återstående månader", r.forecast.remaining_months],
        ["Prognos till avtalets slut", kr(r.forecast.forecast_ore)],
        ["Förskott enligt plan", kr(r.forecast.planned_advances_ore)],
        [f"Prognostiserad återbetalning ({r.forecast.clause})", kr(r.forecast.repayment_ore)],
        ["Prognostiserat överskridande", kr(r.forecast.overspend_ore)],
    ], formats={2: KR}, widths=[44, 20])
    _sheet(wb, "Innehållande", ["Område", "Belopp", "Skäl", "Från", "Släppt", f"Tak ({a.dispute.clause})"],
           [[names.get(w.area, w.area), kr(w.amount_ore), w.reason, w.withheld_on, w.released_on,
             kr(w.cap_ore)] for w in r.withholdings.itertuples()]
           or [[names[k], kr(0), "inget innehållet", None, None, kr(v)] for k, v in r.caps.items()],
           formats={2: KR, 6: KR}, widths=[32, 16, 40, 12, 12, 18])
    _sheet(wb, "Kommentarer", ["Kvartal", "Område", "Kommentar", "Av", "Tid"],
           [[quarter_label(c.quarter) if c.quarter else "Hela avtalet", names.get(c.area, "") if c.area else "",
             c.text, c.author, pd.Timestamp(c.at).strftime("%Y-%m-%d %H:%M")] for c in r.comments.itertuples()],
           widths=[14, 30, 80, 16, 18])
    _sheet(wb, "Avtalets brister", ["Paragraf", "Iakttagelse", "Förklaring"],
           [[f.clause, f.title, f.detail] for f in r.findings], widths=[12, 60, 100])
    _sheet(wb, "Underlag", ["Uppladdning", "Fil", "sha256", "Av", "Tid", "Månader", "Status"],
           [[int(u.id), u.filename, u.sha256, u.uploaded_by, pd.Timestamp(u.uploaded_at).strftime("%Y-%m-%d %H:%M"),
             ", ".join(u.periods), u.status] for u in r.uploads.itertuples()],
           widths=[12, 32, 68, 14, 18, 30, 14])
    t = r.transactions
    _sheet(wb, "Transaktioner", ["Fil", "Blad", "Rad", "Datum", "Period", "Konto", "Ansvar", "Projekt",
                                 "Verifikation", "Text", "Belopp", "Kvartal", "Område"],
           zip(t["filename"], t["sheet"], t["excel_row"].astype(int), t["booking_date"], t["period"], t["account"],
               t["cost_centre"], t["project"], t["voucher"], t["text"], map(kr, t["amount_ore"]),
               t["quarter"], t["area"].map(names), strict=True),
           formats={11: KR}, widths=[28, 12, 8, 12, 10, 8, 10, 10, 14, 44, 16, 10, 28],
           intro=[f"Raderna bakom utfallet ({a.insight.clause}); summa {len(t)} rader. Utelämnade rader finns "
                  "på bladet Utelämnade."])
    _sheet(wb, "Underskrifter", ["Part", "Roll", "Namn", "Befattning", "Datum"],
           [[p.name, p.role, *(([str(r.signoffs[p.role]["name"]), str(r.signoffs[p.role]["title"]),
                                 r.signoffs[p.role]["signed_on"]]) if p.role in r.signoffs else ["", "", None])]
            for p in a.parties], widths=[40, 14, 30, 30, 14])
    left = r.left_out
    _sheet(wb, "Utelämnade", ["Fil", "Blad", "Rad", "Period", "Konto", "Text", "Belopp", "Skäl"],
           zip(left["filename"], left["sheet"], left["excel_row"].astype(int), left["period"], left["account"],
               left["text"], map(kr, left["amount_ore"]), left["reason"].map(REASONS), strict=True),
           formats={7: KR}, widths=[28, 12, 8, 10, 8, 44, 16, 44])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def selection_xlsx(rows: pd.DataFrame, area_names: dict[str, str] | None = None) -> bytes:
    """A selection of classified ledger rows (the dashboard's *Transaktioner*) as a one-sheet workbook, with the
    same formula guard and exact amounts as the report: each row with its file and Excel row (§8)."""
    names = area_names or {}
    wb = Workbook()
    wb.remove(wb.active)
    _sheet(wb, "Transaktioner", ["Fil", "Blad", "Rad", "Datum", "Period", "Konto", "Ansvar", "Projekt",
                                 "Verifikation", "Text", "Belopp", "Område", "Utelämnad"],
           zip(rows["filename"], rows["sheet"], rows["excel_row"].astype(int), rows["booking_date"], rows["period"],
               rows["account"], rows["cost_centre"], rows["project"], rows["voucher"], rows["text"],
               map(kr, rows["amount_ore"]), [names.get(k, k) for k in rows["area"]],
               [REASONS.get(r) for r in rows["reason"]], strict=True),
           formats={11: KR}, widths=[28, 12, 8, 12, 10, 8, 10, 10, 14, 44, 16, 28, 36])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
