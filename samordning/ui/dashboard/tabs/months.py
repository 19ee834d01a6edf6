"""Månader: the actual per month and account class, for a quarter and an area. Sums only, computed from the
state's sums (never from rows): this is what the council gets in place of *Transaktioner*, and where the way
from a quarter leads in its view. A view with rows (insight, controllers) has the same table, and a way on to
the rows behind it."""

from __future__ import annotations

import ipywidgets as ipw
import pandas as pd

from samordning.agreement import Agreement, quarter_label
from samordning.followup import counted, left_out_summary
from samordning.queries import quarter_months
from samordning.ui.dashboard.base import ALL, Tab, button, quarter_area_choices
from samordning.ui.dashboard.html import e, kr, smd, sub, table
from samordning.ui.dashboard.state import State

MONTH_NAMES = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
               "november", "december")


def month_label(month: str) -> str:
    """``"2023-02"`` → ``"februari 2023"``."""
    return f"{MONTH_NAMES[int(month[5:7]) - 1]} {month[:4]}"


def class_label(a: Agreement, klass: str) -> str:
    return f"Klass {klass}" + (" (personal)" if klass in a.accounts.personnel_classes else "")


def months_of(a: Agreement, quarter: str | None) -> list[str]:
    """The months of the validity period, of one quarter or all."""
    first, last = a.validity.start.strftime("%Y-%m"), a.validity.end.strftime("%Y-%m")
    return [m for q in ([quarter] if quarter else a.quarters) for m in quarter_months(q) if first <= m <= last]


def month_class_table(s: State, quarter: str | None, area: str | None) -> pd.DataFrame:
    """Per month (rows) and cost account class (columns) the actual in öre, with ``total_ore`` and ``has_data``
    (whether any export in force covers the month, counted or not: a month without one is unknown, not 0 kr)."""
    a = s.agreement
    used = counted(s.sums)
    if area:
        used = used[used["area"] == area]
    sums = used.groupby(["period", "account_class"])["amount_ore"].sum()
    months = months_of(a, quarter)
    covered = set(s.sums["period"].dropna())
    frame = pd.DataFrame({"month": months}, dtype=object)
    for klass in a.accounts.cost_classes:
        frame[klass] = [int(sums.get((m, klass), 0)) for m in months]
    frame["total_ore"] = frame[list(a.accounts.cost_classes)].sum(axis=1).astype("int64")
    frame["has_data"] = [m in covered for m in months]
    return frame


def month_table_html(s: State, quarter: str | None, area: str | None) -> str:
    """The table: amounts to the öre, so that the months add up to the sum below them and to *Kvartal*."""
    a = s.agreement
    frame = month_class_table(s, quarter, area)
    classes = list(a.accounts.cost_classes)
    rows = [[e(month_label(r["month"])), *([kr(int(r[c]), True) for c in classes] + [kr(int(r["total_ore"]), True)]
                                          if r["has_data"] else ["–"] * (len(classes) + 1))]
            for _, r in frame.iterrows()]
    foot = ["Summa", *[kr(int(frame[c].sum()), True) for c in classes], kr(int(frame["total_ore"].sum()), True)]
    return table(["Månad", *[e(class_label(a, c)) for c in classes], "Summa"], rows, foot=foot)


def left_out_html(s: State, quarter: str | None) -> str:
    """How many rows of the months shown do not count, per reason (a count and a sum, never the rows)."""
    sums = s.sums if quarter is None else s.sums[s.sums["quarter"] == quarter]
    left = left_out_summary(sums)
    if sums.empty:
        return sub("Ingen export är inläst för perioden ännu.")
    if left.empty:
        return sub("Alla rader under perioden räknas som utfall.")
    return sub("Rader som inte räknas som utfall under perioden: " + "; ".join(
        f"{r.rows} {'rad' if r.rows == 1 else 'rader'} ({e(r.label.lower())}, {kr(int(r.amount_ore), True)})"
        for r in left.itertuples()) + ".")


class MonthsTab(Tab):
    title = "Månader"

    def build(self) -> list[ipw.Widget]:
        style = {"description_width": "initial"}
        self.quarter = ipw.Dropdown(description="Kvartal", style=style)
        self.area = ipw.Dropdown(description="Område", style=style)
        self.table, self.note, self.left = ipw.HTML(), ipw.HTML(), ipw.HTML()
        for w in (self.quarter, self.area):
            w.observe(lambda _c: self.refresh(), names="value")
        shown = [ipw.HBox([self.quarter, self.area], layout=ipw.Layout(flex_flow="row wrap")), self.table,
                 self.note, self.left]
        if self.ctx.role.sees_rows:  # on to the rows behind a month's figures (§8)
            rows = button("Visa transaktionerna", icon="list")
            rows.on_click(self.status.guard(lambda _b: self.ctx.drill(self.quarter.value, self.area.value)))
            shown += [ipw.HBox([rows]), self.status.widget]
        return shown

    def show(self, state: State) -> None:
        quarter_area_choices(self.quarter, self.area, state.agreement)
        self.refresh()

    def set_filter(self, quarter: str | None, area: str | None) -> None:
        """Show a quarter and an area (None: all)."""
        with self.widget.hold_sync():
            self.quarter.value, self.area.value = quarter or ALL, area or ALL
        self.refresh()

    def refresh(self) -> None:
        s = self.state
        if s is None:
            return
        quarter, area = self.quarter.value or None, self.area.value or None
        a = s.agreement
        where = (f"{quarter_label(quarter) if quarter else 'hela avtalstiden'}, "
                 f"{s.area_names[area] if area else 'alla områden'}")
        self.table.value = smd(f"<h2>Utfall per månad och kontoklass – {e(where)}</h2>") + month_table_html(
            s, quarter, area)
        rows_note = ("Raderna bakom summorna finns under Transaktioner." if self.ctx.role.sees_rows else
                     f"Samverkansrådets vy visar summor, inga enskilda rader; raderna bakom varje siffra finns för "
                     f"beställarens insyn ({e(a.insight.clause)}) och för controllerna.")
        self.note.value = sub(
            f"De rader som räknas som utfall: kostnadskonton ({e(a.accounts.basis)}, klass "
            f"{e(', '.join(a.accounts.cost_classes))}) inom avtalstiden, per bokföringsmånad. – betyder att ingen "
            f"export täcker månaden ännu. {rows_note}")
        self.left.value = left_out_html(s, quarter)
