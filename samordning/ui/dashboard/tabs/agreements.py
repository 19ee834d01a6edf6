"""Avtal: the portfolio (every stored agreement and where its follow-up stands), the versions of the agreement
shown (what each change fixed or introduced), and for controllers an editor that saves a new version."""

from __future__ import annotations

import ipywidgets as ipw

from samordning.agreements import save_version, version, versions
from samordning.localtime import local_time
from samordning.money import format_percent
from samordning.portfolio import portfolio
from samordning.ui.dashboard.base import Form, Tab, button, heading
from samordning.ui.dashboard.html import e, kr, smd, table
from samordning.ui.dashboard.state import State


def portfolio_html(s: State) -> str:
    rows = [[f"<b>{e(p.id)}</b>" + (" (visas)" if p.id == s.agreement.id else ""), e(p.title), f"v{p.version}",
             e(p.status), f"{p.start}–{p.end}", kr(p.compensation_ore), kr(p.advanced_ore), kr(p.actual_ore),
             "–" if p.utilisation is None else format_percent(p.utilisation), kr(p.repayment_ore),
             kr(p.withheld_ore), str(p.findings)] for p in portfolio(s.store)]
    return table(["Avtal", "Namn", "Version", "Status", "Giltighetstid", "Ersättning", "Förskott hittills",
                  "Utfall hittills", "Nyttjandegrad", "Prognostiserad återbetalning", "Innehållet", "Iakttagelser"],
                 rows, left=5)


def versions_html(s: State) -> str:
    items = []
    for v in reversed(versions(s.store, s.agreement.id)):
        signed = f" {v.signed_on}" if v.signed_on else ""
        changes = "".join(f"<li>åtgärdad: [{e(f['clause'])}] {e(f['title'])}</li>" for f in v.fixed)
        changes += "".join(f"<li>ny: [{e(f['clause'])}] {e(f['title'])}</li>" for f in v.introduced)
        diff = f"<details><summary>Ändringar</summary><pre>{e(v.diff)}</pre></details>" if v.diff else ""
        items.append(f'<div class="comment"><b>Version {v.number}</b> · {e(v.status)}{signed} '
                     f'<span class="sub">{e(v.by)}, {local_time(v.at)}</span>'
                     f'{"<br>" + e(v.reason) if v.reason else ""}<ul>{changes}</ul>{diff}</div>')
    return smd("".join(items))


class AgreementForm(Form):
    """Edit the agreement's TOML text and save it as a new version (validated like a file)."""

    def build(self) -> list[ipw.Widget]:
        self.text = ipw.Textarea(layout=ipw.Layout(width="100%", height="420px"))
        self.text.add_class("smd-editor")
        self.reason = ipw.Text(description="Skäl till ändringen", style={"description_width": "initial"},
                               layout=ipw.Layout(width="640px"))
        save = button("Spara ny version", button_style="primary")
        save.on_click(self.status.guard(lambda _b: self.save()))
        return [heading("Ändra avtalet", "Sparas som en ny version; den tidigare finns kvar. En undertecknad "
                        "version ändras bara med ett skäl."), self.text, self.reason, ipw.HBox([save]),
                self.status.widget]

    def render(self, state: State) -> None:
        self.text.value = version(state.store, state.agreement.id).text

    def save(self) -> None:
        def write() -> str:
            saved, new = save_version(self.ctx.store, self.text.value, name="avtalstexten", user=self.ctx.user,
                                      reason=self.reason.value)
            return (f"Version {saved.number} av {saved.agreement_id} är sparad." if new
                    else "Texten är densamma som gällande version; ingen ny version.")

        self.ctx.actions.run(write, self.status.show, lambda said: said)
        self.reason.value = ""


class AgreementsTab(Tab):
    title = "Avtal"
    form_kinds = (AgreementForm,)

    def build(self) -> list[ipw.Widget]:
        self.portfolio = ipw.HTML()
        self.versions = ipw.HTML()
        return [heading("Alla avtal", "Varje avtal med den version som gäller; siffrorna följer den."),
                self.portfolio, heading("Versioner av det visade avtalet"), self.versions,
                *(f.widget for f in self.forms)]

    def show(self, state: State) -> None:
        self.portfolio.value = portfolio_html(state)
        self.versions.value = versions_html(state)
