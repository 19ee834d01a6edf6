"""Choosing the sheet, the header row and the columns by hand, for an export detection does not understand
(part of *Uppladdning*); the choice is saved with the import and used for the next file of the same layout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as ipw

from samordning.ingest import recognised
from samordning.ui.dashboard.base import ALL, button, heading, row, set_options
from samordning.ui.dashboard.html import e, table

FIELDS = {"booking_date": "Datum", "period": "Period", "amount": "Belopp", "debit": "Debet", "credit": "Kredit",
          "account": "Konto", "cost_centre": "Ansvar", "activity": "Verksamhet", "project": "Projekt",
          "counterpart": "Motpart", "voucher": "Verifikation", "text": "Text"}


def column_name(i: int) -> str:
    return chr(65 + i) if i < 26 else str(i + 1)


def guess_header(rows: list[list[str]]) -> int:
    """The header row (Excel's numbering) a person would point at, when detection found none it could use: the
    row naming the most columns we know (Belopp, Konto, Datum …), else the first row with two or more filled
    cells (a title row above the table has one), else row 1."""
    known = [sum(1 for c in r if c and recognised(c)) for r in rows]
    if known and max(known) > 0:
        return known.index(max(known)) + 1
    return next((n for n, r in enumerate(rows, start=1) if sum(1 for c in r if c) >= 2), 1)


class ColumnMapping:
    """The mapping panel: hidden until a file needs it; ``reread`` is called with the chosen options."""

    def __init__(self, reread: Callable[[dict[str, Any]], None], guard: Callable[..., Any]) -> None:
        self.preview: dict[str, list[list[str]]] = {}
        style = {"description_width": "initial"}
        self.sheet = ipw.Dropdown(description="Blad", style=style, layout=ipw.Layout(width="300px"))
        self.header = ipw.BoundedIntText(description="Rubrikrad (radnummer i Excel)", value=1, min=1, max=40,
                                         style=style, layout=ipw.Layout(width="260px"))
        self.shown = ipw.HTML()
        self.fields = {name: ipw.Dropdown(description=label, style={"description_width": "110px"},
                                          layout=ipw.Layout(width="330px"))
                       for name, label in FIELDS.items()}
        self.sheet.observe(lambda _c: self.guess(), names="value")
        self.header.observe(lambda _c: self.fill(), names="value")
        again = button("Läs filen med dessa val", icon="refresh", button_style="info")
        again.on_click(guard(lambda _b: reread(self.options())))
        self.widget = ipw.VBox([
            heading("Blad och kolumner", "Välj bladet och raden med rubrikerna, och vilken kolumn som är vad. "
                    "Belopp (eller Debet och Kredit) och Datum (eller Period) behövs. Kopplingen sparas och "
                    "används för nästa fil med samma rubriker."),
            row(self.sheet, self.header), self.shown,
            ipw.GridBox(list(self.fields.values()), layout=ipw.Layout(
                grid_template_columns="repeat(auto-fill, minmax(340px, 1fr))")), ipw.HBox([again])],
            layout=ipw.Layout(display="none"))

    @property
    def is_open(self) -> bool:
        return self.widget.layout.display != "none"

    def close(self) -> None:
        self.widget.layout.display = "none"

    def open(self, preview: dict[str, list[list[str]]], sheet: str | None = None, header_row: int | None = None,
             columns: dict[str, str] | None = None) -> None:
        """Show the file's sheets (``preview``: the first rows of each), preselecting what was read before, or else
        the header row the file's cells suggest (:func:`guess_header`)."""
        self.preview = preview
        set_options(self.sheet, [(n, n) for n in preview])
        if sheet is not None:
            self.sheet.value = sheet
        self.header.value = header_row if header_row is not None else guess_header(
            self.preview.get(self.sheet.value or "", []))
        self.fill(columns)
        self.widget.layout.display = "flex"

    def guess(self) -> None:
        """Another sheet: its own header row."""
        self.header.value = guess_header(self.preview.get(self.sheet.value or "", []))
        self.fill()

    def fill(self, current: dict[str, str] | None = None) -> None:
        """Each field's choices are the cells of the chosen header row; a cell named like a field is preselected."""
        rows = self.preview.get(self.sheet.value or "", [])
        first = self.header.value
        header = rows[first - 1] if 0 < first <= len(rows) else []
        near = [(n, r) for n, r in enumerate(rows[:first + 3], start=1) if n >= max(1, first - 3)]
        width = max((len(r) for _, r in near), default=0)
        self.shown.value = table(
            ["Rad", *[column_name(i) for i in range(width)]],
            [[f"<b>{n}</b>" if n == first else str(n), *[e(c[:30]) for c in r], *[""] * (width - len(r))]
             for n, r in near], left=set(range(width + 1))) if near else ""
        cells = [c for c in header if c]
        for name, dropdown in self.fields.items():
            guess = (current or {}).get(name) or next((c for c in cells if recognised(c) == name), ALL)
            set_options(dropdown, [("–", ALL), *[(c, c) for c in cells]])
            dropdown.value = guess if guess in cells else ALL

    def options(self) -> dict[str, Any]:
        """The reader's options for the choices made: sheet, header row, columns."""
        return {"sheet": self.sheet.value, "header_row": self.header.value,
                "columns": {name: d.value for name, d in self.fields.items() if d.value}}
