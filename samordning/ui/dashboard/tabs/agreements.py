"""Avtal: the portfolio (every agreement this view may show and where its follow-up stands; sortable; one click
opens an agreement), the versions of the agreement shown (what each change fixed or introduced), and for
controllers the form that creates or changes an agreement (:mod:`.agreement_form`)."""

from __future__ import annotations

import ipywidgets as ipw

from samordning.agreement import quarter_label
from samordning.agreements import versions
from samordning.localtime import local_time
from samordning.money import format_percent
from samordning.portfolio import SORT_KEYS, Entry, portfolio, sort_entries
from samordning.ui.dashboard.base import STYLE, Tab, button, heading, row
from samordning.ui.dashboard.html import e, kr, smd, table, whole
from samordning.ui.dashboard.state import State
from samordning.ui.dashboard.tabs.agreement_form import AgreementForm

HEAD = ["Avtal", "Version", "Giltighetstid", "Ersättning", "Förskott hittills", "Utfall hittills", "Nyttjandegrad",
        "Återbetalning (prognos)", "Innehållet", "Nästa rapport", "Iakttagelser"]


def portfolio_html(entries: list[Entry], shown: str) -> str:
    rows = [[f'<div style="min-width: 9em"><b style="white-space: nowrap">{e(p.id)}</b>'
             + (" (visas)" if p.id == shown else "") + f'<br><span class="sub">{e(p.title)}</span></div>',
             f'<span style="white-space: nowrap">v{p.version} {e(p.status)}</span>',
             f"{p.start}–{p.end}", kr(p.compensation_ore), kr(p.advanced_ore), kr(p.actual_ore),
             "–" if p.utilisation is None else format_percent(p.utilisation), kr(p.repayment_ore), kr(p.withheld_ore),
             "alla rapporterade" if p.next_report is None else f"{whole(quarter_label(p.next_report))} "
             f"{whole(f'(efter {p.next_report_end})')}", str(p.findings)] for p in entries]
    return f'<div class="smd-wrap-head" style="overflow-x: auto">{table(HEAD, rows, left={0, 1, 2, 9})}</div>'


def changes_html(lines: list[str]) -> str:
    """A version's changed fields, one per line (the difference of the content, not of the text)."""
    if not lines:
        return '<div class="sub">Samma innehåll som versionen före (bara kommentarer eller layout skiljer).</div>'
    items = "".join(f"<li><code>{e(line)}</code></li>" for line in lines)
    return f'<div class="sub">Ändrade fält:</div><ul class="smd-field-changes">{items}</ul>'


def versions_html(s: State) -> str:
    items = []
    for v in reversed(versions(s.store, s.agreement.id)):
        signed = f" {v.signed_on}" if v.signed_on else ""
        changes = "".join(f"<li>åtgärdad: [{e(f['clause'])}] {e(f['title'])}</li>" for f in v.fixed)
        changes += "".join(f"<li>ny: [{e(f['clause'])}] {e(f['title'])}</li>" for f in v.introduced)
        diff = changes_html(v.diff.splitlines()) if v.number > 1 else ""
        items.append(f'<div class="comment"><b>Version {v.number}</b> · {e(v.status)}{signed} '
                     f'<span class="sub">{e(v.by)}, {local_time(v.at)}</span>'
                     f'{"<br>" + e(v.reason) if v.reason else ""}<ul>{changes}</ul>{diff}</div>')
    return smd("".join(items))


class AgreementsTab(Tab):
    title = "Avtal"
    portfolio_title = "Alla avtal"
    form_kinds = (AgreementForm,)

    def build(self) -> list[ipw.Widget]:
        self.sort = ipw.Dropdown(description="Sortera efter", options=[(v, k) for k, v in SORT_KEYS.items()],
                                 value="id", style=STYLE, layout=ipw.Layout(width="360px"))
        self.descending = ipw.Checkbox(description="Störst/senast först", value=False, indent=False,
                                       layout=ipw.Layout(width="220px"))
        for control in (self.sort, self.descending):
            control.observe(self.status.guard(lambda _c: self.show_portfolio()), names="value")
        update = button("Uppdatera", tooltip="Läs avtalen och deras siffror på nytt ur databasen")
        update.on_click(self.status.guard(lambda _b: self.refresh()))
        self.portfolio = ipw.HTML()
        self.portfolio.add_class("smd-portfolio")
        self.open_buttons = ipw.HBox(layout=ipw.Layout(flex_flow="row wrap"))
        self.open_buttons.add_class("smd-open-agreements")
        self.versions = ipw.HTML()
        self.versions.add_class("smd-versions")
        return [heading(self.portfolio_title, "Varje avtal med den version som gäller; siffrorna följer den. Nästa "
                        "rapport: kvartalet efter det senaste med en fastställd rapport (§7)."),
                row(self.sort, self.descending, update), self.portfolio, self.open_buttons, self.status.widget,
                heading("Versioner av det visade avtalet"), self.versions,
                *(f.widget for f in self.forms)]

    def show(self, state: State) -> None:
        self.show_portfolio()
        self.versions.value = versions_html(state)

    def shown_again(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """The portfolio read again from the store (agreements and versions other pages or processes stored since;
        sums computed by the database), and the agreement shown reloaded if it changed."""
        if self.ctx.refresh():
            return  # the page reloaded the state and rendered this tab from it
        self.ctx.current().memo.pop("portfolio", None)
        self.show(self.ctx.current())

    def entries(self) -> list[Entry]:
        state = self.ctx.current()
        return state.cached("portfolio", lambda: portfolio(state.store, self.ctx.shown()))

    def show_portfolio(self) -> None:
        shown = self.ctx.current().agreement.id
        entries = sort_entries(self.entries(), str(self.sort.value), descending=bool(self.descending.value))
        self.portfolio.value = portfolio_html(entries, shown)
        buttons = []
        for entry in entries:
            b = button(f"Öppna {entry.id}", disabled=entry.id == shown)
            b.on_click(self.status.guard(lambda _b, i=entry.id: self.ctx.open(i)))
            buttons.append(b)
        self.open_buttons.children = buttons
