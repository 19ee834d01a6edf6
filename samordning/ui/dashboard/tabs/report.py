"""Rapport (§7): make the report for download, see its sign-offs, fetch a finalized one; controllers sign it
and finalize it as presented to samverkansrådet. The Excel report carries the rows behind the figures (sheets
*Transaktioner* and *Utelämnade*): a role that does not see rows (the council) is offered, and can fetch, only
the PDF and HTML reports, which hold sums only."""

from __future__ import annotations

import json
from pathlib import Path

import ipywidgets as ipw
import pandas as pd

from samordning.agreement import quarter_label
from samordning.errors import SamordningError
from samordning.report import MIME, finalize
from samordning.ui import Role
from samordning.ui.dashboard.base import (
    STYLE,
    Form,
    Status,
    Tab,
    button,
    date_field,
    heading,
    quarter_options,
    read_date,
    row,
    set_options,
)
from samordning.ui.dashboard.html import e, kr, sub, table, whole
from samordning.ui.dashboard.state import State
from samordning.ui.document import renderer, report_file
from samordning.ui.widgets import download_link

FORMATS = [("PDF (för samverkansrådet)", ".pdf"), ("Excel (med transaktionerna)", ".xlsx"),
           ("HTML (en fil, för intranätet)", ".html")]
WITH_ROWS = {".xlsx"}  # the report formats that carry ledger rows

def _stored_actual(figures: str) -> str:
    """The actual of a finalized report's stored figures (as presented: computed with its agreement version)."""
    return kr(round(sum(r["actual"] for r in json.loads(figures)) * 100))


def formats_for(role: Role) -> list[tuple[str, str]]:
    """The report formats a role may make and fetch: without rows for a role that does not see them."""
    return [(label, suffix) for label, suffix in FORMATS if role.sees_rows or suffix not in WITH_ROWS]


def may_fetch(role: Role, filename: str) -> bool:
    return role.sees_rows or Path(filename).suffix.lower() not in WITH_ROWS


def finals_html(f: pd.DataFrame, role: Role) -> str:
    rows = [[str(int(r.id)), e(quarter_label(r.quarter)), e(pd.Timestamp(r.presented_on).date()),
             e(r.filename) + ("" if may_fetch(role, r.filename) else
                              ' <span class="badge">med rader: i insynsvyn och controllervyn</span>'),
             f'<code title="{e(r.sha256)}">{e(r.sha256[:16])}…</code>', whole(r.by),
             "–" if r.version is None or pd.isna(r.version) else f"v{int(r.version)}", _stored_actual(r.figures),
             e(f"ersatt av nr {int(r.replaced_by)}" if pd.notna(r.replaced_by) else "gäller")]
            for r in f.itertuples()]
    return (table(["Nr", "Kvartal", "Presenterad", "Fil", "sha256", "Fastställd av", "Avtalsversion",
                   "Utfall i rapporten", "Status"], rows, left={1, 3, 4, 5, 6, 8})
            if rows else sub("Ingen rapport är fastställd ännu."))


class SignoffForm(Form):
    """A party's sign-off in the report of the quarter chosen in the tab."""

    tab: ReportTab

    def build(self) -> list[ipw.Widget]:
        self.party = ipw.Dropdown(description="Part", style=STYLE, layout=ipw.Layout(width="420px"))
        self.name = ipw.Text(description="Namn", style=STYLE)
        self.role_title = ipw.Text(description="Befattning", style=STYLE)
        self.date = date_field("Datum")
        sign = button("Spara underskrift", icon="pencil")
        sign.on_click(self.status.guard(lambda _b: self.sign()))
        return [heading("Underskrifter", "Namn, befattning och datum för varje part i rapporten för kvartalet ovan. "
                        "Lämnas de tomma får rapporten linjer att skriva under på papper."),
                row(self.party, self.name, self.role_title, self.date, sign), self.status.widget]

    def render(self, state: State) -> None:
        set_options(self.party, [(f"{p.name} ({p.role})", p.role) for p in state.agreement.parties])

    def sign(self) -> None:
        if not self.name.value.strip():
            raise SamordningError("Skriv namnet på den som skriver under.")
        quarter, party, signed_on = self.tab.quarter.value, self.party.label, read_date(self.date)
        self.ctx.actions.run(lambda: self.ctx.store.add_signoff(
            agreement_id=self.ctx.current().agreement.id, quarter=quarter, party_role=self.party.value,
            name=self.name.value.strip(), title=self.role_title.value.strip(), signed_on=signed_on,
            user=self.ctx.user), self.status.show,
            f"Underskriften för {party} i rapporten för {quarter_label(quarter)} är sparad.")


class FinalizeForm(Form):
    """Storing the report as presented: file, figures, uploads and sha256, never changed afterwards."""

    tab: ReportTab

    def build(self) -> list[ipw.Widget]:
        self.presented = date_field("Presenterad för samverkansrådet", today=True, width="420px")
        self.replace = ipw.Checkbox(description="Ersätter den fastställda rapporten för kvartalet", value=False,
                                    indent=False, layout=ipw.Layout(width="auto"))
        self.finalize = button("Fastställ rapporten", icon="lock", button_style="warning")
        self.finalize.on_click(self.status.guard(lambda _b: self.store()))
        return [heading("Fastställ rapporten", "Sparar rapporten i valt format som den presenterades: filen, "
                        "siffrorna, underlaget och filens sha256. Den ändras aldrig efteråt; senare rapporter visar "
                        "vad som har ändrats sedan dess."),
                row(self.presented, self.replace, self.finalize), self.status.widget]

    def render(self, state: State) -> None:
        self.finalize.disabled = not self.tab.quarter.options

    def store(self) -> None:
        suffix, presented = self.tab.format.value, read_date(self.presented, required=True)
        report_id, _, content = self.ctx.actions.run(
            lambda: finalize(self.ctx.store, self.ctx.current().agreement, presented, quarter=self.tab.quarter.value,
                             suffix=suffix, render=renderer(suffix), user=self.ctx.user, replace=self.replace.value),
            self.status.show, lambda done: f"Rapport nr {done[0]} för {quarter_label(done[1].quarter)} är fastställd "
                                           f"som presenterad {presented}.")
        self.replace.value = False
        filename = self.ctx.current().final_reports.set_index("id").loc[report_id, "filename"]
        self.status.show(self.status.value + download_link(content, filename, f"Spara {filename}", MIME[suffix]))


class ReportTab(Tab):
    title = "Rapport"
    form_kinds = (SignoffForm, FinalizeForm)

    def build(self) -> list[ipw.Widget]:
        self.quarter = ipw.Dropdown(description="Till och med", style=STYLE, layout=ipw.Layout(width="230px"))
        self.format = ipw.Dropdown(description="Format", style=STYLE, layout=ipw.Layout(width="300px"),
                                   options=formats_for(self.ctx.role))
        self.make = button("Skapa rapport", icon="file", button_style="primary")
        self.make.on_click(self.status.guard(lambda _b: self.make_report()))
        self.signed, self.finals = ipw.HTML(), ipw.HTML()
        self.pick = ipw.Dropdown(description="Fastställd rapport", style=STYLE, layout=ipw.Layout(width="420px"))
        self.fetch = button("Hämta", icon="download")
        self.fetched = Status()
        self.fetch.on_click(self.fetched.guard(lambda _b: self.fetch_final()))
        self.quarter.observe(lambda _c: self.show_signoffs(), names="value")
        return [heading("Rapport till beställaren och samverkansrådet",
                        "Först återrapporteringen av uppdraget (skrivs under Områden), sedan den ekonomiska "
                        "rapporten: nyckeltal, kvartal, områden, prognos, innehållande, kommentarer och underlag, "
                        "och sist underskrifterna (§7)."),
                row(self.quarter, self.format, self.make), self.status.widget, self.signed,
                *(f.widget for f in self.forms),
                heading("Fastställda rapporter", "Rapporterna som de presenterades för samverkansrådet; det är dem "
                        "protokollen hänvisar till."),
                self.finals, row(self.pick, self.fetch), self.fetched.widget]

    def show(self, state: State) -> None:
        with_data = state.quarters_with_data
        options = quarter_options(state.agreement, only=with_data)
        chosen = self.quarter.value
        set_options(self.quarter, options)
        if options and chosen not in with_data:  # the newest quarter with data, unless one is chosen
            self.quarter.value = options[-1][1]
        self.make.disabled = not options
        self.status.show("")
        self.fetched.show("")
        f = state.final_reports
        self.finals.value = finals_html(f, self.ctx.role)
        set_options(self.pick, [(f"nr {int(r.id)}: {quarter_label(r.quarter)}, presenterad "
                                 f"{pd.Timestamp(r.presented_on).date()}", int(r.id)) for r in f.itertuples()
                                if may_fetch(self.ctx.role, r.filename)][::-1])
        self.pick.disabled = self.fetch.disabled = not self.pick.options
        self.show_signoffs()

    def show_signoffs(self) -> None:
        s = self.state
        if s is None or not self.quarter.value:
            self.signed.value = ""
            return
        signed = self.ctx.store.signoffs(s.agreement.id, self.quarter.value)

        def who(role: str) -> str:
            if role not in signed:
                return "skrivs under på papper"
            entry = signed[role]
            return ", ".join(e(v) for v in (entry["name"], entry["title"], entry["signed_on"]) if v)
        parts = [f"{e(p.name)}: {who(p.role)}" for p in s.agreement.parties]
        self.signed.value = sub(f'Underskrifter: {"; ".join(parts)}.')

    def make_report(self) -> None:
        self.status.show(sub("Rapporten skapas …"))
        suffix = self.format.value
        if suffix not in {allowed for _, allowed in formats_for(self.ctx.role)}:
            raise SamordningError("Den här vyn visar inga enskilda rader; välj PDF eller HTML.")
        report, content = report_file(self.ctx.store, self.ctx.current().agreement, suffix, self.quarter.value)
        name = report.filename(suffix)
        self.status.show(download_link(content, name, f"Spara {name}", MIME[suffix]))

    def fetch_final(self) -> None:
        filename, content = self.ctx.store.final_report_content(self.ctx.current().agreement.id, self.pick.value)
        if not may_fetch(self.ctx.role, filename):
            raise SamordningError(f"{filename} innehåller enskilda rader och hämtas i insynsvyn eller controllervyn.")
        self.fetched.show(download_link(content, filename, f"Spara {filename}", MIME[Path(filename).suffix]))
