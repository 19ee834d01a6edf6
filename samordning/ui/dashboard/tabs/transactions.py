"""Transaktioner (the roles that see rows: insight and controllers, never the council): every row behind the
figures (§8) with its file and Excel row, filtered, a page at a time, and its export. The rows are read from
the database when shown (a page of them) or exported (streamed); the count and sum of the filter come from the
state's sums (or the database, for a text search) — never from every row."""

from __future__ import annotations

import datetime as dt
import io

import ipywidgets as ipw

from samordning.followup import REASONS
from samordning.names import shown
from samordning.queries import RowFilter, RowSet
from samordning.report.excel import write_selection
from samordning.ui import ROW_READERS
from samordning.ui.dashboard.base import ALL, Tab, button, quarter_area_choices
from samordning.ui.dashboard.html import e, kr, sub, table
from samordning.ui.dashboard.state import State
from samordning.ui.widgets import download_link

PAGE_ROWS = 100


class TransactionsTab(Tab):
    title = "Transaktioner"
    roles = ROW_READERS

    def build(self) -> list[ipw.Widget]:
        style = {"description_width": "initial"}
        self.quarter = ipw.Dropdown(description="Kvartal", style=style)
        self.area = ipw.Dropdown(description="Område", style=style)
        self.account_class = ipw.Dropdown(description="Kontoklass", style=style,
                                          options=[("alla", ALL), *[(f"{c}", c) for c in "1234567890"]])
        self.reason = ipw.Dropdown(description="Rader", style=style, options=[
            ("som räknas som utfall", ""), ("alla", "*"),
            *[(f"utelämnade: {v.lower()}", k) for k, v in REASONS.items()]])
        self.text = ipw.Text(description="Text innehåller", style=style, continuous_update=False)
        self.summary = ipw.HTML()
        self.table = ipw.HTML()
        self.offset = 0
        self.rowset: RowSet | None = None
        self.previous = button("Föregående", icon="chevron-left")
        self.next = button("Nästa", icon="chevron-right")
        self.previous.on_click(self.status.guard(lambda _b: self.turn(-PAGE_ROWS)))
        self.next.on_click(self.status.guard(lambda _b: self.turn(PAGE_ROWS)))
        self.export = button("Exportera urvalet till Excel", icon="download")
        self.export.on_click(self.status.guard(lambda _b: self.export_selection()))
        for w in (self.quarter, self.area, self.account_class, self.reason, self.text):
            w.observe(lambda _c: self.refresh(), names="value")
        return [ipw.HBox([self.quarter, self.area, self.account_class, self.reason],
                         layout=ipw.Layout(flex_flow="row wrap")),
                ipw.HBox([self.text, self.export, self.status.widget]), self.summary, self.table,
                ipw.HBox([self.previous, self.next])]

    def show(self, state: State) -> None:
        quarter_area_choices(self.quarter, self.area, state.agreement)
        self.refresh()

    def set_filter(self, quarter: str | None, area: str | None) -> None:
        """Show the counted rows of a quarter and an area (None: all)."""
        with self.widget.hold_sync():
            self.quarter.value, self.area.value, self.reason.value = quarter or ALL, area or ALL, ""
        self.refresh()

    def where(self) -> RowFilter:
        """The filter the widgets choose."""
        return RowFilter(quarter=self.quarter.value or None, area=self.area.value or None,
                         account_class=self.account_class.value or None,
                         reason=None if self.reason.value == "*" else self.reason.value,
                         text=self.text.value.strip() or None)

    def selection(self) -> RowSet:
        """The rows the filters choose (read when asked for)."""
        assert self.state is not None
        return self.state.rows(self.where())

    def refresh(self) -> None:
        """A new filter: its count and sum, and its first page."""
        if self.state is None:
            return
        self.rowset = self.selection()
        self.offset = 0
        self.status.show("")
        self.show_page()

    def turn(self, by: int) -> None:
        """The previous (``by`` < 0) or next page."""
        if self.rowset is None:
            return
        self.offset = max(0, min(self.offset + by, len(self.rowset) - 1))
        self.offset -= self.offset % PAGE_ROWS
        self.show_page()

    def show_page(self) -> None:
        assert self.state is not None
        assert self.rowset is not None
        count, first = len(self.rowset), self.offset
        rows = self.rowset.page(first, PAGE_ROWS) if count else []
        span = f" – visar rad {first + 1}–{first + len(rows)}" if count > PAGE_ROWS else ""
        self.summary.value = sub(f"<b>{count}</b> rader, summa <b>{kr(self.rowset.total_ore, True)}</b>{span}")
        self.previous.disabled = first == 0
        self.next.disabled = first + PAGE_ROWS >= count
        names = self.state.area_names
        self.table.value = table(
            ["Källa (fil:rad)", "Datum", "Konto", "Ansvar", "Projekt", "Text", "Belopp", "Område / skäl"],
            [[f"{e(shown(r.filename))}:{int(r.excel_row)}", e(r.booking_date or r.period or ""), e(r.account),
              e(r.cost_centre), e(r.project), e(r.text), kr(int(r.amount_ore), True),
              e(names.get(r.area or "", "") if not r.reason else REASONS[r.reason])]
             for r in rows], left={0, 5, 7})

    def export_selection(self) -> None:
        assert self.state is not None
        rows = self.selection()
        out = io.BytesIO()
        write_selection(iter(rows), out, self.state.area_names)  # streamed from the database as written
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
        self.status.show(download_link(out.getvalue(), f"transaktioner-{stamp}.xlsx",
                                       f"Spara {len(rows)} rader som Excel"))
