"""Transaktioner: every row behind the figures (§8) with its file and Excel row, filtered, and its export."""

from __future__ import annotations

import datetime as dt

import ipywidgets as ipw
import pandas as pd

from samordning.followup import REASONS
from samordning.names import shown
from samordning.report.excel import selection_xlsx
from samordning.ui.dashboard.base import ALL, Tab, area_options, button, quarter_options, set_options
from samordning.ui.dashboard.html import e, kr, sub, table
from samordning.ui.dashboard.state import State
from samordning.ui.widgets import download_link

MAX_TABLE_ROWS = 500


class TransactionsTab(Tab):
    title = "Transaktioner"

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
        self.export = button("Exportera urvalet till Excel", icon="download")
        self.export.on_click(self.status.guard(lambda _b: self.export_selection()))
        for w in (self.quarter, self.area, self.account_class, self.reason, self.text):
            w.observe(lambda _c: self.refresh(), names="value")
        return [ipw.HBox([self.quarter, self.area, self.account_class, self.reason],
                         layout=ipw.Layout(flex_flow="row wrap")),
                ipw.HBox([self.text, self.export, self.status.widget]), self.summary, self.table]

    def show(self, state: State) -> None:
        set_options(self.quarter, quarter_options(state.agreement, "alla"))
        set_options(self.area, area_options(state.agreement, "alla"))
        self.refresh()

    def set_filter(self, quarter: str | None, area: str | None) -> None:
        """Show the counted rows of a quarter and an area (None: all)."""
        with self.widget.hold_sync():
            self.quarter.value, self.area.value, self.reason.value = quarter or ALL, area or ALL, ""
        self.refresh()

    def selection(self) -> pd.DataFrame:
        """The rows the filters choose."""
        assert self.state is not None
        rows = self.state.rows
        mask = pd.Series(True, index=rows.index)
        if self.quarter.value:
            mask &= rows["quarter"] == self.quarter.value
        if self.area.value:
            mask &= rows["area"] == self.area.value
        if self.account_class.value:
            mask &= rows["account"].str[:1] == self.account_class.value
        if self.reason.value != "*":
            mask &= rows["reason"] == self.reason.value
        if self.text.value.strip():
            mask &= rows["text"].str.contains(self.text.value.strip(), case=False, regex=False)
        return rows[mask]

    def refresh(self) -> None:
        if self.state is None:
            return
        rows = self.selection()
        self.status.show("")
        self.summary.value = sub(f'<b>{len(rows)}</b> rader, summa <b>{kr(int(rows["amount_ore"].sum()), True)}</b>'
                                 + (f" (visar de första {MAX_TABLE_ROWS}; exportera för alla)"
                                    if len(rows) > MAX_TABLE_ROWS else ""))
        names = self.state.area_names
        self.table.value = table(
            ["Källa (fil:rad)", "Datum", "Konto", "Ansvar", "Projekt", "Text", "Belopp", "Område / skäl"],
            [[f"{e(shown(r.filename))}:{int(r.excel_row)}", e(r.booking_date or r.period or ""), e(r.account),
              e(r.cost_centre), e(r.project), e(r.text), kr(int(r.amount_ore), True),
              e(names.get(r.area, "") if not r.reason else REASONS[r.reason])]
             for r in rows.head(MAX_TABLE_ROWS).itertuples()], left={0, 5, 7})

    def export_selection(self) -> None:
        assert self.state is not None
        rows = self.selection()
        content = selection_xlsx(rows, self.state.area_names)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
        self.status.show(download_link(content, f"transaktioner-{stamp}.xlsx", f"Spara {len(rows)} rader som Excel"))
