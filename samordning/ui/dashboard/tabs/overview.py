"""Översikt: the verdict (one sentence, one picture), the key figures with their clauses, what they rest on, the
forecast and the agreement's findings, folded."""

from __future__ import annotations

import ipywidgets as ipw

from samordning.check import Finding
from samordning.followup import left_out_summary
from samordning.localtime import local_time
from samordning.names import shown
from samordning.ui import Role
from samordning.ui.dashboard.base import Tab
from samordning.ui.dashboard.html import CSS, e, header_html, message, role_html, smd, sub
from samordning.ui.dashboard.state import State
from samordning.ui.fragments import cards_html, forecast_html
from samordning.ui.verdict import COUNCIL_CARDS, Verdict, distinct, verdict_html


def findings_html(findings: list[Finding]) -> str:
    """The agreement's findings, folded under a heading with their count (a <details> opens by keyboard too)."""
    items = "".join(f'<li><span class="clause">{e(f.clause)}</span><b>{e(f.title)}</b><br>'
                    f'<span class="sub">{e(f.detail)}</span></li>' for f in findings)
    return smd(f'<details class="findings"><summary><h2>Avtalets egna motsägelser och luckor ({len(findings)})'
               f'</h2></summary><ul class="findings">{items}</ul></details>')


def provenance_html(s: State) -> str:
    if s.uploads.empty:
        return message("Inga exporter är inlästa ännu. En controller laddar upp dem under Uppladdning "
                       "(eller kör samordning demo / samordning import FIL).")
    left = left_out_summary(s.sums)
    left_text = "; ".join(f"{r.rows} {'rad' if r.rows == 1 else 'rader'} ({e(r.label.lower())})"
                          for r in left.itertuples()) or "inga"
    in_force = s.uploads[s.uploads["status"] != "ersatt"]
    newest = s.uploads.iloc[-1]
    return sub(f'Senaste utfall: <b>{e(s.forecast.as_of or "–")}</b>. Underlag: {len(in_force)} gällande '
               f'exporter, senast {e(shown(newest.filename))} (uppladdning {int(newest.id)}, '
               f'{local_time(newest.uploaded_at)}, {e(newest.uploaded_by)}). Rader som inte räknas som utfall: '
               f'{left_text}.')


def overview_parts(s: State) -> tuple[str, str, str, str]:
    """The tab's four parts as HTML: the verdict with the key figures, provenance, forecast, findings."""
    verdict = verdict_html(Verdict.of(s.agreement, s.figures, s.forecast))
    cards = cards_html(distinct(s.figures, COUNCIL_CARDS))
    return (smd(f'{verdict}<div class="big">{cards}</div>'), provenance_html(s),
            smd(forecast_html(s.forecast, "sub")), findings_html(s.findings))


class OverviewTab(Tab):
    title = "Översikt"

    def build(self) -> list[ipw.Widget]:
        self.cards, self.provenance, self.forecast, self.findings = (ipw.HTML() for _ in range(4))
        return [self.cards, self.provenance, self.forecast, self.findings]

    def show(self, state: State) -> None:
        parts = overview_parts(state)
        for widget, value in zip((self.cards, self.provenance, self.forecast, self.findings), parts, strict=True):
            widget.value = value


def static_overview_html(s: State, role: Role, titles: list[str], selected: int = 0, panel: str | None = None) -> str:
    """The start tab as plain HTML, rendered by Voilà into the page itself: the figures are readable before the
    widgets have connected to the kernel (about half a second sooner), and the live view hides this copy as soon
    as it is drawn (its stylesheet carries ``.smd-static {display: none}``). ``panel``: the start tab's HTML when it
    is not the overview (the portfolio)."""
    bar = "".join(f'<span class="{"on" if i == selected else ""}">{e(t)}</span>' for i, t in enumerate(titles))
    return (f'{CSS}<div class="smd-static">{header_html(s.agreement)}{role_html(role, s.agreement)}'
            f'<div class="smd smd-fake-tabs">{bar}</div><div class="smd-fake-panel">'
            f'{"".join(overview_parts(s)) if panel is None else panel}</div></div>')
