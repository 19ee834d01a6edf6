"""The agreement check: rules over an agreement file that list its own inconsistencies and gaps.

Each rule reads only the file, so a changed plan or a second agreement gives other findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

from samordning.agreement import Agreement
from samordning.money import format_kr, format_percent


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    clause: str
    title: str
    detail: str
    amount_ore: int | None = None


Rule = Callable[[Agreement], Iterator[Finding]]


def advances_cover_compensation(a: Agreement) -> Iterator[Finding]:
    """The advances dated inside the validity period should add up to the compensation."""
    inside = sum(a.advance_ore(x) for x in a.advances if a.in_validity(x.due))
    gap = a.compensation_ore - inside
    if gap == 0:
        return
    c = a.compensation
    per_year = c.installments_per_year
    clauses = f"{c.clause} mot {a.validity.clause}"
    if gap > 0:
        needed = Fraction(1) / c.installment_fraction if c.installment_fraction else None
        planned = sum(1 for x in a.advances if a.in_validity(x.due))
        detail = (
            f"Ersättningen är {format_kr(a.compensation_ore)} ({c.clause}), men förskotten med förfallodag inom "
            f"giltighetstiden {a.validity.start}–{a.validity.end} ({a.validity.clause}) är {planned} st och "
            f"summerar till {format_kr(inside)}."
        )
        if needed is not None and needed.denominator == 1:
            detail += (
                f" {c.clause} anger förskott om {c.installment_fraction} av ersättningen, {per_year} gånger årligen, "
                f"alltså {needed} förskott, men giltighetstiden rymmer {len(a.quarters)} kvartal."
            )
        detail += " Parterna behöver komma överens om när och om resten betalas."
        yield Finding("advances_cover_compensation", clauses,
                      f"{format_kr(gap)} av ersättningen saknar förskottsdatum inom giltighetstiden", detail, gap)
    else:
        yield Finding("advances_cover_compensation", clauses,
                      f"Förskotten inom giltighetstiden överstiger ersättningen med {format_kr(-gap)}",
                      f"Förskotten summerar till {format_kr(inside)} men ersättningen är "
                      f"{format_kr(a.compensation_ore)} ({c.clause}).", -gap)


def advances_inside_validity(a: Agreement) -> Iterator[Finding]:
    for x in a.advances:
        if not a.in_validity(x.due):
            yield Finding("advances_inside_validity", f"{x.clause} mot {a.validity.clause}",
                          f"Förskott med förfallodag {x.due} ligger utanför giltighetstiden",
                          f"Förskottet om {format_kr(a.advance_ore(x))} förfaller {x.due}, utanför "
                          f"{a.validity.start}–{a.validity.end}.", a.advance_ore(x))


def area_shares_confirmed(a: Agreement) -> Iterator[Finding]:
    assumed = [area for area in a.areas if not area.share_confirmed]
    if assumed:
        shares = ", ".join(f"{area.name} {format_percent(float(area.share))}" for area in assumed)
        annexes = [x.name for x in a.annexes if x.referenced_in == assumed[0].clause and not x.available]
        source = f"; den hör till {annexes[0]}, som saknas" if annexes else ""
        yield Finding("area_shares_confirmed", assumed[0].clause,
                      "Fördelningen av ersättningen mellan områdena är ett antagande",
                      f"Fördelningen anges inte i avtalstexten{source}. Antagen fördelning: {shares}. "
                      "Alla belopp per område vilar på antagandet.")
    total = sum((area.share for area in a.areas), Fraction(0))
    if total < 1:
        rest = a.compensation_ore - sum(a.area_shares_ore(a.compensation_ore).values())
        yield Finding("area_shares_complete", a.areas[0].clause,
                      f"{format_kr(rest)} av ersättningen hör inte till något område",
                      f"Områdenas andelar summerar till {format_percent(float(total))}.", rest)


def annexes_available(a: Agreement) -> Iterator[Finding]:
    for annex in a.annexes:
        if not annex.available:
            yield Finding("annexes_available", annex.referenced_in, f"{annex.name} saknas",
                          f"{annex.referenced_in} hänvisar till {annex.name}, som inte finns bland handlingarna.")


def settlement_rule_stated(a: Agreement) -> Iterator[Finding]:
    if not a.dispute.settlement_rule.strip():
        yield Finding("settlement_rule_stated", a.dispute.clause,
                      "Regel för hur innehållen ersättning regleras saknas",
                      f"{a.dispute.clause} säger att överenskommelsen ska ange hur innehållen ersättning regleras, "
                      "men ingen paragraf gör det. Verktyget registrerar innehållna belopp och när de släpps, "
                      f"högst {format_percent(float(a.dispute.withholding_cap))} av områdets ersättning.")


def insight_recipient_is_party(a: Agreement) -> Iterator[Finding]:
    names = {p.name.casefold() for p in a.parties}
    if a.insight.recipient.casefold() not in names:
        commissioner = a.party("beställare").name
        yield Finding("insight_recipient_is_party", a.insight.clause,
                      f"Insyn ges till \u201d{a.insight.recipient}\u201d, som inte är part",
                      f"{a.insight.clause} ger insyn till \u201d{a.insight.recipient}\u201d, men beställaren är "
                      f"{commissioner}.")


def agreement_signed(a: Agreement) -> Iterator[Finding]:
    if a.status == "utkast":
        yield Finding("agreement_signed", a.status_clause, "Avtalet är ett utkast",
                      "Avtalstexten är inte undertecknad och kan ändras innan den tecknas.")
    if not a.signing.date.strip():
        yield Finding("signing_date", a.signing.clause, "Datum för undertecknande saknas",
                      f"{a.signing.clause} har inget datum för tecknandet.")


def contacts_named(a: Agreement) -> Iterator[Finding]:
    missing = [label for label, name in (("utföraren", a.contacts.performer),
                                         ("beställaren", a.contacts.commissioner)) if not name.strip()]
    if missing:
        yield Finding("contacts_named", a.contacts.clause, "Kontaktpersoner saknas",
                      f"{a.contacts.clause} namnger ingen kontaktperson för {' eller '.join(missing)}.")


RULES: tuple[Rule, ...] = (
    advances_cover_compensation,
    advances_inside_validity,
    area_shares_confirmed,
    annexes_available,
    settlement_rule_stated,
    insight_recipient_is_party,
    agreement_signed,
    contacts_named,
)


def check(agreement: Agreement) -> list[Finding]:
    """All findings for an agreement, in rule order."""
    return [finding for rule in RULES for finding in rule(agreement)]
