"""Områden: each area's figures, its §10 cap, and the controllers' reporting back on the assignment (§7)."""

from __future__ import annotations

from typing import Any

import ipywidgets as ipw
import pandas as pd
import plotly.graph_objects as go

from samordning.agreement import quarter_label
from samordning.errors import SamordningError
from samordning.followup import withholding_cap
from samordning.localtime import local_time
from samordning.money import format_percent
from samordning.ui import charts
from samordning.ui.dashboard.base import Form, Tab, area_options, button, heading, quarter_options, row, set_options
from samordning.ui.dashboard.html import e, kr, section, smd, sub, table
from samordning.ui.dashboard.state import State
from samordning.ui.dashboard.tabs.quarters import chart_cell
from samordning.ui.widgets import chart


def _same_target(frame: pd.DataFrame, area: object, quarter: object) -> pd.Series:
    """The rows of a frame of narratives about this area and quarter (None: the whole agreement, the whole time)."""
    return ((frame["area"].isna() if area is None or pd.isna(area) else frame["area"] == area)
            & (frame["quarter"].isna() if quarter is None or pd.isna(quarter) else frame["quarter"] == quarter))


def _versions(earlier: pd.DataFrame, n: Any) -> str:
    """", 2 tidigare versioner" when a text has replaced others (they are kept, like the comments)."""
    same = int(_same_target(earlier, n.area, n.quarter).sum())
    return f", {same} tidigare {'version' if same == 1 else 'versioner'}" if same else ""


def narratives_html(s: State) -> str:
    """What was done in each area and in the whole agreement (§7), beside the area's own figures: a card per
    area with its advance, actual and utilisation so far, and the current text per quarter."""
    a = s.agreement
    current = s.narratives[s.narratives["current"]]
    earlier = s.narratives[~s.narratives["current"]]
    totals = s.area_totals
    order = {q: i for i, q in enumerate(a.quarters)}
    cards = []
    for key, name in [(None, "Hela avtalet"), *[(area.key, area.name) for area in a.areas]]:
        mine = current[current["area"].isna() if key is None else current["area"] == key]
        mine = mine.sort_values("quarter", key=lambda q: q.map(lambda v: -1 if pd.isna(v) else order.get(v, 99)))
        part = totals if key is None else totals.loc[[key]]
        advance, actual = int(part["advance_ore"].sum()), int(part["actual_ore"].sum())
        figures = (f'<div class="sub">Förskott hittills {kr(advance)} · utfall {kr(actual)} · nyttjandegrad '
                   f'{e(format_percent(actual / advance if advance else None))}</div>')
        texts = "".join(
            f'<div><b>{e(quarter_label(n.quarter) if isinstance(n.quarter, str) else "Hela avtalstiden")}</b> '
            f'<span class="sub">{e(n.author)}, {local_time(n.at)}'
            f'{_versions(earlier, n)}</span><div class="text">{e(n.text)}</div></div>'
            for n in mine.itertuples())
        cards.append(f'<div class="card" data-area="{e(key or "")}"><h3>{e(name)}</h3>{figures}'
                     f'{texts or "<div class=sub>Ingen återrapportering ännu.</div>"}</div>')
    return smd(f'<div class="narratives">{"".join(cards)}</div>')


def areas_table_html(s: State) -> str:
    """Per area: share, compensation, advance and actual so far, balance, utilisation and the §10 cap."""
    a = s.agreement
    shares = a.area_shares_ore(a.compensation_ore)
    rows = []
    for area, totals in zip(a.areas, s.area_totals.itertuples(), strict=True):
        advance, actual = int(totals.advance_ore), int(totals.actual_ore)
        share = format_percent(float(area.share)) + ("" if area.share_confirmed else
                                                     ' <span class="badge warn">antagande</span>')
        rows.append([e(area.name), share, kr(shares[area.key], True), kr(advance, True), kr(actual, True),
                     kr(advance - actual, True),
                     e(format_percent(actual / advance if advance else None)), kr(withholding_cap(a, area.key))])
    return table(
        ["Område", f"Andel ({e(a.areas[0].clause)})", f"Ersättning ({e(a.compensation.clause)})",
         "Förskott hittills", "Utfall", "Kvarstående", "Nyttjandegrad",
         f"Högst innehållet vid tvist ({e(a.dispute.clause)})"], rows) + sub(
        f'Tak vid tvist: {e(format_percent(float(a.dispute.withholding_cap)))} av den ersättning som avser '
        f'området ({e(a.dispute.clause)}). Andelarna kommer från avtalsfilen; där de är markerade som antagande '
        'vilar alla belopp per område på antagandet.')


class NarrativeForm(Form):
    """Writing the reporting back for an area (or the whole agreement) and a quarter (or the whole time)."""

    def build(self) -> list[ipw.Widget]:
        self.target = ipw.Dropdown(description="Gäller", style={"description_width": "initial"},
                                   layout=ipw.Layout(width="360px"))
        self.quarter = ipw.Dropdown(description="Kvartal", style={"description_width": "initial"},
                                    layout=ipw.Layout(width="260px"))
        self.text = ipw.Textarea(placeholder="Vad har gjorts, resultat mot uppdraget, vad är försenat och varför …",
                                 layout=ipw.Layout(width="100%", max_width="900px", height="140px"))
        self.text.add_class("smd-editor")
        save = button("Spara återrapportering", button_style="primary")
        save.on_click(self.status.guard(lambda _b: self.save()))
        for w in (self.target, self.quarter):
            w.observe(lambda _c: self.load_text(), names="value")
        return [heading("Skriv återrapportering", "Texten går in i rapportens första del. Den gällande texten för "
                        "området och kvartalet visas här för redigering; när den sparas ersätter den den gällande, "
                        "och tidigare versioner sparas."),
                row(self.target, self.quarter), self.text, ipw.HBox([save]), self.status.widget]

    def render(self, state: State) -> None:
        set_options(self.target, area_options(state.agreement, "Hela avtalet"))
        set_options(self.quarter, quarter_options(state.agreement, "hela avtalstiden"))
        self.load_text()

    def current(self) -> str:
        """The text in force for the chosen area and quarter ("" if none)."""
        s = self.tab.state
        if s is None:
            return ""
        n = s.narratives[s.narratives["current"]]
        n = n[_same_target(n, self.target.value or None, self.quarter.value or None)]
        return str(n["text"].iloc[-1]) if len(n) else ""

    def load_text(self) -> None:
        self.text.value = self.current()

    def save(self) -> None:
        text = self.text.value.strip()
        if not text:
            raise SamordningError("Skriv återrapporteringen först.")
        if text == self.current().strip():
            raise SamordningError("Texten är oförändrad; inget har sparats.")
        target = self.target.label.replace("\u00a0", " ")
        self.ctx.actions.run(
            lambda: self.ctx.store.add_comment(agreement_id=self.ctx.current().agreement.id, text=text,
                                               author=self.ctx.user, quarter=self.quarter.value or None,
                                               area=self.target.value or None, kind="narrative"),
            self.status.show, f"Återrapporteringen för {target} är sparad.")


class AreasTab(Tab):
    title = "Områden"
    form_kinds = (NarrativeForm,)

    def build(self) -> list[ipw.Widget]:
        self.chart: ipw.Widget = ipw.HTML("Laddar diagram …")  # drawn when first shown, as in Kvartal
        self.cell = chart_cell(self.chart)
        self.table, self.heading, self.narratives = ipw.HTML(), ipw.HTML(), ipw.HTML()
        return [self.cell, self.table, self.heading, self.narratives, *(f.widget for f in self.forms)]

    def show(self, state: State) -> None:
        a = state.agreement
        self.heading.value = section(
            f"Återrapportering av uppdraget ({a.report.clause})",
            "Vad som har gjorts inom varje område, resultat mot uppdraget och vad som är försenat – "
            "skrivet av controllerna, bredvid områdets siffror.")
        self.narratives.value = narratives_html(state)
        figure = charts.area_figure(state.quarters_by_area, state.area_names)
        if not isinstance(self.chart, go.FigureWidget) or len(self.chart.data) != len(figure.data):
            self.chart = chart(figure)
            self.cell.children = [self.chart]
        else:
            charts.update_in_place(self.chart, figure)
        self.table.value = areas_table_html(state)
