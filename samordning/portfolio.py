"""The portfolio: every agreement in the store with its version in force and where its follow-up stands — status,
period, compensation, advances and actual so far, utilisation, projected repayment (§6 of RUN/305/2022's kind),
the amount withheld now, the number of the agreement's own findings. The figures are the engine's
(:class:`samordning.figures.Figures`), computed with each agreement's version in force."""

from __future__ import annotations

from dataclasses import dataclass

from samordning.agreements import in_force
from samordning.figures import Figures
from samordning.followup import withheld
from samordning.store import Store


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    title: str
    version: int
    status: str
    start: str
    end: str
    compensation_ore: int
    advanced_ore: int              # advances due by the newest month with data
    actual_ore: int
    repayment_ore: int             # projected (never negative)
    withheld_ore: int              # withholdings not released
    findings: int

    @property
    def utilisation(self) -> float | None:
        return self.actual_ore / self.advanced_ore if self.advanced_ore else None


def portfolio(store: Store) -> list[Entry]:
    """One entry per stored agreement, by id."""
    entries = []
    for v in in_force(store):
        a = v.agreement
        figures = {f.key: f.ore for f in Figures.load(store, a).key_figures()}
        held = store.withholdings(a.id)
        entries.append(Entry(
            id=a.id, title=a.short_title or a.title, version=v.number, status=v.status,
            start=a.validity.start.isoformat(), end=a.validity.end.isoformat(), compensation_ore=a.compensation_ore,
            advanced_ore=figures["advanced"], actual_ore=figures["actual"], repayment_ore=figures["repayment"],
            withheld_ore=sum(withheld(held, area.key) for area in a.areas), findings=len(v.findings)))
    return entries
