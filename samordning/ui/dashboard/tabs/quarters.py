"""Kvartal: advance against actual per quarter, for all areas or one, as IBCS charts and a table, and the way
from a quarter to what lies behind it: its rows, or in the council's view its sums per month and account class."""

from __future__ import annotations

import ipywidgets as ipw
import plotly.graph_objects as go

from samordning.followup import WHOLE_PERIOD, yearly
from samordning.money import format_percent
from samordning.ui import charts
from samordning.ui.dashboard.base import ALL, Tab, area_options, button, quarter_options, set_options
from samordning.ui.dashboard.html import e, kr, smd, sub, table
from samordning.ui.dashboard.state import State
from samordning.ui.fragments import quarter_table_html
from samordning.ui.widgets import chart

HIDDEN = "smd-hidden"


def years_html(s: State, area: str | None) -> str:
    """An agreement over several calendar years: each year and the whole period (empty for one year)."""
    a = s.agreement
    if len({q[:4] for q in a.quarters}) < 2:
        return ""
    rows = [[f"Hela perioden {a.validity.start}–{a.validity.end}" if r.year == WHOLE_PERIOD else e(r.year),
             kr(r.advance_ore), kr(r.actual_ore), kr(r.variance_ore), kr(r.balance_ore),
             "–" if r.utilisation != r.utilisation else format_percent(r.utilisation)]
            for r in yearly(s.quarter_table(area)).itertuples()]
    return table(["År", "Förskott", "Utfall", "Avvikelse", "Kvarstående vid slutet", "Nyttjandegrad"], rows)


def chart_cell(widget: ipw.Widget) -> ipw.Box:
    """A grid cell that lets its chart shrink to the cell (a grid item is otherwise as wide as its content,
    and plotly then keeps its default 700 px and overlaps the neighbour)."""
    cell = ipw.Box([widget], layout=ipw.Layout(min_width="0", width="100%", overflow="hidden"))
    cell.add_class("smd-chart-cell")
    return cell


def figures(s: State, area: str) -> tuple[go.Figure, go.Figure]:
    """The quarter and balance charts of an area (``ALL``: every area), built once per state."""
    def build() -> tuple[go.Figure, go.Figure]:
        table = s.quarter_table(area or None)
        name = s.area_names.get(area, "alla områden")
        return (charts.quarter_figure(table, f"{charts.QUARTER_TITLE} – {name}"),
                charts.balance_figure(table, f"Kvarstående medel – {name}"))
    return s.cached(("quarter charts", area), build)


class QuartersTab(Tab):
    title = "Kvartal"

    def build(self) -> list[ipw.Widget]:
        self.area = ipw.Dropdown(description="Område:", layout=ipw.Layout(width="420px"),
                                 style={"description_width": "70px"})
        # The charts of every area filter, drawn when the tab is first shown (a FigureWidget makes the browser
        # load plotly.js, ~5 MB, which the first page, Översikt, does not need) and stacked: choosing an area
        # shows its charts, which are drawn already, instead of redrawing one chart (a redraw takes 50-150 ms
        # in the browser; a swap is a repaint).
        self.boxes: dict[str, tuple[ipw.Box, ipw.Box]] = {}  # each chart in a box (the box takes CSS classes)
        self.stacks = [ipw.Box([ipw.HTML("Laddar diagram …")]), ipw.Box()]
        for stack in self.stacks:
            stack.add_class("smd-stack")
        self.table = ipw.HTML()
        self.years = ipw.HTML()
        self.note = ipw.HTML()
        rows = self.ctx.role.sees_rows
        self.drill_quarter = ipw.Dropdown(description="Rader för:" if rows else "Månader för:",
                                          style={"description_width": "initial"}, layout=ipw.Layout(width="300px"))
        drill = button("Visa transaktionerna" if rows else "Visa per månad och kontoklass", icon="list")
        drill.on_click(self.status.guard(lambda _b: self.ctx.drill(self.drill_quarter.value, self.area.value)))
        self.area.observe(lambda _c: self.refresh(), names="value")
        charts_box = ipw.GridBox([chart_cell(stack) for stack in self.stacks], layout=ipw.Layout(
            width="100%", grid_template_columns="repeat(auto-fit, minmax(520px, 1fr))", grid_gap="12px"))
        return [ipw.HBox([self.area]), self.note, charts_box, self.table, ipw.HBox([self.drill_quarter, drill]),
                self.years, self.status.widget]

    @property
    def charts(self) -> dict[str, tuple[go.FigureWidget, go.FigureWidget]]:
        """Each filter choice's quarter and balance charts."""
        return {key: (q.children[0], b.children[0]) for key, (q, b) in self.boxes.items()}

    @property
    def chart(self) -> go.FigureWidget:
        """The quarter chart on show (of the chosen area)."""
        return self.boxes[self.area.value][0].children[0]

    def show(self, state: State) -> None:
        keys = [ALL, *[a.key for a in state.agreement.areas]]
        for key in keys:  # built once, updated in place when the data changes
            pair = figures(state, key)
            if key in self.boxes:
                for box, figure in zip(self.boxes[key], pair, strict=True):
                    charts.update_in_place(box.children[0], figure)
            else:
                self.boxes[key] = (ipw.Box([chart(pair[0])]), ipw.Box([chart(pair[1])]))
        self.boxes = {key: self.boxes[key] for key in keys}  # another agreement: its own areas only
        for i, stack in enumerate(self.stacks):
            wanted = [self.boxes[key][i] for key in keys]
            if list(stack.children) != wanted:
                stack.children = wanted
        set_options(self.area, area_options(state.agreement, "Alla områden"))
        set_options(self.drill_quarter, quarter_options(state.agreement, "alla kvartal"))
        self.refresh()

    def refresh(self) -> None:
        s = self.state
        if s is None:
            return
        for key, pair in self.boxes.items():
            for widget in pair:
                if key == self.area.value:
                    widget.remove_class(HIDDEN)
                else:
                    widget.add_class(HIDDEN)
        a = s.agreement
        self.table.value = smd(quarter_table_html(s.quarter_table(self.area.value or None), sources=s.sources)) + sub(
            f"Förskott enligt avtalsfilens plan ({e(a.compensation.clause)}), registrerade betalningar där sådana "
            f"finns. Avvikelse = förskott − utfall; kvarstående medel återbetalas vid avtalets slut "
            f"({e(a.compensation.repayment_clause)}).")
        self.years.value = years_html(s, self.area.value or None)
        self.note.value = ("" if self.area.value == ALL else
                           sub("Områdets förskott är avtalets förskott × områdets andel, som är ett antagande "
                               "tills bilaga 1 finns."))
