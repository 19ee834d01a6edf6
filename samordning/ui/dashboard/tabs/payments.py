"""Betalningar och tvist: advances invoiced and paid, amounts withheld in a dispute (§10), and a what-if for
everyone; controllers register payments and withholdings."""

from __future__ import annotations

import ipywidgets as ipw
import pandas as pd

from samordning.agreement import quarter_label
from samordning.errors import SamordningError
from samordning.followup import WhatIf, what_if, withheld, withholding_cap
from samordning.money import format_kr, parse_kr
from samordning.rules import amount as allowed_amount
from samordning.ui.dashboard.base import (
    STYLE,
    Form,
    Tab,
    area_options,
    button,
    date_field,
    heading,
    quarter_options,
    read_date,
    row,
    set_options,
)
from samordning.ui.dashboard.html import e, kr, message, smd, sub, table
from samordning.ui.dashboard.state import State


def payments_html(s: State) -> str:
    plan = s.quarters.set_index("quarter")["planned_ore"]
    if not len(s.payments):
        return sub("Inga betalningar registrerade; uppföljningen använder planen i avtalsfilen.")
    return table(["Kvartal", "Enligt plan", "Fakturanummer", "Fakturerad", "Betald", "Belopp", "Registrerad av"],
                 [[e(quarter_label(p.quarter)), kr(int(plan.get(p.quarter, 0))), e(p.invoice_no),
                   e(p.invoiced_on or "–"), e(p.paid_on or "–"), kr(int(p.amount_ore)), e(p.by)]
                  for p in s.payments.itertuples()])


def withholdings_html(s: State) -> str:
    a, w = s.agreement, s.withholdings
    if not len(w):
        return sub("Ingen ersättning är innehållen. Tak per område vid tvist: "
                   + ", ".join(f"{e(x.name)} {kr(withholding_cap(a, x.key))}" for x in a.areas)
                   + f" ({e(a.dispute.clause)}).")
    return table(["Område", "Belopp", "Skäl", "Från", "Registrerat av", "Släppt", f"Tak ({e(a.dispute.clause)})"],
                 [[e(s.area_names.get(r.area, r.area)), kr(int(r.amount_ore)), e(r.reason), e(r.withheld_on),
                   e(r.by), released(r), kr(withholding_cap(a, r.area))] for r in w.itertuples()])


def released(r: object) -> str:
    """When a withholding was released, and by whom (nobody was recorded before migration 0007)."""
    on = getattr(r, "released_on", None)
    if on is None or pd.isna(on):
        return "–"
    by = getattr(r, "released_by", None)
    return e(on) + (f" av {e(by)}" if isinstance(by, str) and by else "")


def exact(ore: int) -> str:
    """An amount with its öre when it has any (a cap passed by 0,01 kr is not passed by "0 kr")."""
    return kr(ore, ore % 100 != 0)


def what_if_html(w: WhatIf, area_name: str) -> str:
    verdict = ("ryms inom taket" if w.within_cap else
               f"överskrider taket med {exact(w.over_cap_ore)} och skulle avvisas")
    return smd(
        f'<div class="message {"ok" if w.within_cap else "error"}">Att hålla inne {exact(w.amount_ore)} för '
        f'{e(area_name)} {verdict} (tak {exact(w.cap_ore)}, {e(w.cap_clause)}; redan innehållet '
        f'{exact(w.held_ore)}).<br>Kvarstående medel hos utföraren blir {kr(w.unspent_after_ore)} i stället för '
        f'{kr(w.unspent_ore)}; prognostiserad återbetalning ({e(w.repayment_clause)}) blir '
        f'{kr(w.repayment_after_ore)} i stället för {kr(w.repayment_ore)}. Avtalet anger inte hur innehållen '
        f'ersättning regleras ({e(w.cap_clause)}).</div>')


class PaymentForm(Form):
    def build(self) -> list[ipw.Widget]:
        self.quarter = ipw.Dropdown(description="Kvartal", style=STYLE)
        self.amount = ipw.Text(description="Belopp (kr)", style=STYLE)
        self.invoice = ipw.Text(description="Fakturanummer", style=STYLE)
        self.invoiced = date_field("Fakturerad")
        self.paid = date_field("Betald")
        add = button("Registrera betalning", button_style="primary")
        add.on_click(self.status.guard(lambda _b: self.add()))
        return [heading("Registrera betalning av förskott"), row(self.quarter, self.amount, self.invoice),
                row(self.invoiced, self.paid, add), self.status.widget]

    def render(self, state: State) -> None:
        set_options(self.quarter, quarter_options(state.agreement))

    def add(self) -> None:
        if not self.invoice.value.strip():
            raise SamordningError("Ange fakturanummer.")
        amount, invoiced, paid = parse_kr(self.amount.value), read_date(self.invoiced), read_date(self.paid)
        self.ctx.actions.run(lambda: self.ctx.store.add_payment(
            agreement_id=self.ctx.current().agreement.id, quarter=self.quarter.value, amount_ore=amount,
            invoice_no=self.invoice.value.strip(), invoiced_on=invoiced, paid_on=paid,
            user=self.ctx.user), self.status.show, "Betalningen är registrerad.")


class WithholdingForm(Form):
    def build(self) -> list[ipw.Widget]:
        self.area = ipw.Dropdown(description="Område", style=STYLE)
        self.amount = ipw.Text(description="Belopp (kr)", style=STYLE)
        self.reason = ipw.Text(description="Skäl", style=STYLE, layout=ipw.Layout(width="420px"))
        self.date = date_field("Från", today=True)
        self.cap = ipw.HTML()
        add = button("Registrera innehållande", button_style="warning")
        self.area.observe(lambda _c: self.show_cap(), names="value")
        add.on_click(self.status.guard(lambda _b: self.add()))
        return [heading("Registrera innehållen ersättning"), row(self.area, self.amount, self.date), self.reason,
                self.cap, add, self.status.widget]

    def render(self, state: State) -> None:
        set_options(self.area, area_options(state.agreement))
        self.show_cap()

    def show_cap(self) -> None:
        s = self.tab.state
        if s is None or self.area.value is None:
            return
        cap, held = withholding_cap(s.agreement, self.area.value), withheld(s.withholdings, self.area.value)
        self.cap.value = sub(f"Tak för området: {kr(cap)} ({e(s.agreement.dispute.clause)}); redan innehållet: "
                             f"{kr(held)}; kvar att hålla inne: {kr(cap - held)}.")

    def add(self) -> None:
        if not self.reason.value.strip():
            raise SamordningError("Ange skälet till att ersättning hålls inne.")
        a, area, amount = self.ctx.current().agreement, self.area.value, parse_kr(self.amount.value)
        on = read_date(self.date, required=True)
        self.ctx.actions.run(lambda: self.ctx.store.add_withholding(
            agreement_id=a.id, area=area, amount_ore=amount, reason=self.reason.value.strip(),
            withheld_on=on, cap_ore=withholding_cap(a, area),
            clause=a.dispute.clause, user=self.ctx.user), self.status.show, "Innehållandet är registrerat.")


class ReleaseForm(Form):
    """Releasing a withholding on a date: the amount counts again in the quarter of that date (the one rule)."""

    def build(self) -> list[ipw.Widget]:
        self.pick = ipw.Dropdown(description="Innehållande", style=STYLE, layout=ipw.Layout(width="560px"))
        self.date = date_field("Släpps den", today=True)
        self.release = button("Släpp innehållandet", button_style="primary")
        self.release.on_click(self.status.guard(lambda _b: self.do_release()))
        return [heading("Släpp innehållen ersättning", "När tvisten är löst betalas det innehållna beloppet ut; "
                        "det räknas då som förskott i kvartalet då det släpps."),
                row(self.pick, self.date, self.release), self.status.widget]

    def render(self, state: State) -> None:
        w = state.withholdings
        held = w[w["released_on"].isna()] if len(w) else w
        set_options(self.pick, [(f"Nr {int(r.id)}: {state.area_names.get(r.area, r.area)}, "
                                 f"{format_kr(int(r.amount_ore), exact=True)}, från {r.withheld_on} ({r.reason})",
                                 int(r.id)) for r in held.itertuples()])
        self.release.disabled = not self.pick.options

    def do_release(self) -> None:
        if self.pick.value is None:
            raise SamordningError("Det finns inget innehållet belopp att släppa.")
        chosen, on = int(self.pick.value), read_date(self.date, required=True)
        self.ctx.actions.run(lambda: self.ctx.store.release_withholding(self.ctx.current().agreement.id, chosen, on,
                                                                              user=self.ctx.user),
                             self.status.show, f"Innehållande nr {chosen} är släppt den {on}.")


class PaymentsTab(Tab):
    title = "Betalningar och tvist"
    form_kinds = (PaymentForm, WithholdingForm, ReleaseForm)

    def build(self) -> list[ipw.Widget]:
        self.payments, self.withholdings, self.whatif = ipw.HTML(), ipw.HTML(), ipw.HTML()
        # What-if: a dispute over an area, before anything is registered.
        self.whatif_area = ipw.Dropdown(description="Omtvistat område", style=STYLE)
        self.whatif_amount = ipw.Text(description="Belopp att hålla inne (kr)", value="500 000", style=STYLE,
                                      continuous_update=False)
        for w in (self.whatif_area, self.whatif_amount):
            w.observe(lambda _c: self.show_what_if(), names="value")
        return [heading("Förskott: fakturerade och betalda"), self.payments,
                heading("Innehållen ersättning (§10)"), self.withholdings,
                heading("Tänk om: tvist om ett område", "Visar taket och vad ett innehållande skulle betyda, utan "
                        "att något sparas."),
                ipw.HBox([self.whatif_area, self.whatif_amount]), self.whatif, *(f.widget for f in self.forms)]

    def show(self, state: State) -> None:
        self.payments.value = payments_html(state)
        self.withholdings.value = withholdings_html(state)
        set_options(self.whatif_area, area_options(state.agreement))
        self.show_what_if()

    def show_what_if(self) -> None:
        s = self.state
        if s is None or self.whatif_area.value is None:
            return
        try:
            amount = allowed_amount(parse_kr(self.whatif_amount.value), "beloppet")
        except SamordningError as exc:
            self.whatif.value = message(exc.message, "error")
            return
        w = what_if(s.agreement, self.whatif_area.value, amount, payments=s.payments, withholdings=s.withholdings,
                    fc=s.forecast)
        self.whatif.value = what_if_html(w, s.area_names[w.area])
