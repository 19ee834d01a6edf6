"""The verdict: one sentence and one picture that say how much of the money is used, what is left, what will be
paid back and whether anything is withheld — the first thing on Översikt, read from the back of the room.

The picture is plain HTML (bars on one scale, each with its label and amount as text), not a plotly chart: it is
in the page before the widgets connect, it needs no plotly.js, and its text is its own text alternative.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from samordning.agreement import Agreement
from samordning.followup import Figure, Forecast, figure
from samordning.money import format_kr, format_percent

NBSP = "\u00a0"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The figures the verdict speaks of, in öre (all from the key figures and the forecast: one rule)."""

    as_of: str | None
    compensation: int
    advanced: int          # advances so far, withholdings subtracted
    actual: int
    unspent: int
    forecast: int
    advances_total: int    # every advance of the plan (or registered), withholdings subtracted
    repayment: int
    overspend: int
    withheld: int          # withheld now, all areas
    withheld_note: str     # per area
    remaining_months: int
    repayment_clause: str
    dispute_clause: str

    @classmethod
    def of(cls, a: Agreement, figures: list[Figure], fc: Forecast) -> Verdict:
        held = next((f for f in figures if f.key == "withheld"), None)
        return cls(as_of=fc.as_of, compensation=figure(figures, "compensation"),
                   advanced=figure(figures, "advanced"), actual=figure(figures, "actual"),
                   unspent=figure(figures, "unspent"), forecast=fc.forecast_ore,
                   advances_total=fc.planned_advances_ore, repayment=fc.repayment_ore, overspend=fc.overspend_ore,
                   withheld=held.ore if held else 0, withheld_note=held.note if held else "",
                   remaining_months=fc.remaining_months, repayment_clause=a.compensation.repayment_clause,
                   dispute_clause=a.dispute.clause)


def _kr(ore: int) -> str:
    return format_kr(ore, nbsp=True)


def sentence(v: Verdict) -> str:
    """The verdict in words (plain text)."""
    if v.as_of is None:
        return (f"Inget utfall är inläst ännu. Förskotten enligt planen är {_kr(v.advances_total)} av ersättningen "
                f"{_kr(v.compensation)}.")
    used = format_percent(v.actual / v.advanced if v.advanced > 0 else None)
    left = (f"{_kr(v.unspent)} återstår" if v.unspent >= 0
            else f"utfallet är {_kr(-v.unspent)} större än förskotten")
    words = [f"Till och med {v.as_of} har {_kr(v.actual)} av förskotten på {_kr(v.advanced)} använts ({used}); "
             f"{left}."]
    if v.overspend:
        words.append(f"Prognosen överskrider förskotten med {_kr(v.overspend)}; avtalet reglerar inte "
                     "överskridanden.")
    elif v.remaining_months:
        words.append(f"Med samma takt betalas {_kr(v.repayment)} tillbaka när avtalet slutar "
                     f"({v.repayment_clause}).")
    else:
        words.append(f"Hela avtalstiden har utfall: {_kr(v.repayment)} ska betalas tillbaka ({v.repayment_clause}).")
    words.append(f"{_kr(v.withheld)} är innehållet ({v.withheld_note}, {v.dispute_clause})." if v.withheld
                 else "Ingen ersättning är innehållen.")
    return " ".join(words)


def _bar(label: str, span: tuple[int, int], scale: int, *, amount: int, css: str, note: str = "") -> str:
    lo, hi = sorted(span)
    left, width = 100 * max(lo, 0) / scale, 100 * (hi - max(lo, 0)) / scale
    extra = f' <span class="v-note">{escape(note)}</span>' if note else ""
    return (f'<div class="v-label">{escape(label)}</div>'
            f'<div class="v-track" aria-hidden="true"><div class="v-bar {css}" '
            f'style="left:{left:.2f}%;width:{max(width, 0.3):.2f}%"></div></div>'
            f'<div class="v-amount">{escape(_kr(amount))}{extra}</div>')


def picture(v: Verdict) -> str:
    """The money from compensation to repayment as bars on one scale, like a waterfall: the advances, the part
    of them used, what is left of them, and (at the end) what goes back."""
    scale = max(v.compensation, v.advanced + v.withheld, v.forecast, v.actual, 1)
    bars = [_bar("Ersättning enligt avtalet", (0, v.compensation), scale, amount=v.compensation, css="v-frame")]
    bars.append(_bar("Förskott hittills", (0, v.advanced), scale, amount=v.advanced, css="v-advance"))
    if v.withheld:
        bars.append(_bar("Innehållet", (v.advanced, v.advanced + v.withheld), scale, amount=v.withheld, css="v-held",
                         note=v.dispute_clause))
    bars.append(_bar("Utfall hittills", (0, v.actual), scale, amount=v.actual, css="v-actual"))
    bars.append(_bar("Kvarstående medel", (v.actual, v.advanced), scale, amount=v.unspent,
                     css="v-left" if v.unspent >= 0 else "v-over"))
    if v.remaining_months:
        bars.append(_bar("Prognos till avtalets slut", (0, v.forecast), scale, amount=v.forecast, css="v-forecast"))
    bars.append(_bar("Prognostiserad återbetalning" if v.remaining_months else "Återbetalning",
                     (v.forecast, v.advances_total), scale, amount=v.repayment if not v.overspend else -v.overspend,
                     css="v-left" if not v.overspend else "v-over", note=v.repayment_clause))
    return f'<div class="verdict-bars">{"".join(bars)}</div>'


def verdict_html(v: Verdict) -> Markup:
    """The sentence above the picture."""
    return Markup(f'<section class="verdict" aria-label="Läget i korthet"><p class="verdict-text">'
                  f'{escape(sentence(v))}</p>{picture(v)}</section>')


def distinct(figures: list[Figure], keys: tuple[str, ...]) -> list[Figure]:
    """The figures of ``keys`` in that order, two with the same amount shown once: ``"Kvarstående medel =
    prognostiserad återbetalning"`` (when no month remains the two are the same number)."""
    chosen: list[Figure] = []
    for key in keys:
        f = next((x for x in figures if x.key == key), None)
        if f is None:
            continue
        same = next((i for i, c in enumerate(chosen) if c.ore == f.ore), None)
        if same is None:
            chosen.append(f)
        else:
            c = chosen[same]
            chosen[same] = Figure(c.key, f"{c.label} = {f.label[0].lower()}{f.label[1:]}", c.ore, c.clause,
                                  f"{c.note}; {f.note}")
    return chosen


COUNCIL_CARDS = ("advanced", "actual", "unspent", "repayment", "withheld")
