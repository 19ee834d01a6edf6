"""The portfolio: every agreement in the store with its version in force and where its follow-up stands — status,
period, compensation, advances and actual so far, utilisation, projected repayment, the amount withheld now, the
next report due and the number of the agreement's own findings. The figures are the engine's
(:class:`samordning.figures.Figures`: sums computed in the database), each with its agreement's version in force."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from samordning.agreement import Agreement
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
    advanced_ore: int              # advances due by the newest month with data (less what is withheld)
    actual_ore: int
    repayment_ore: int             # projected (never negative)
    withheld_ore: int              # withholdings not released
    findings: int
    next_report: str | None        # the quarter whose report (§7) is due next; None when every quarter is reported
    next_report_end: str | None    # that quarter's last day (ISO)

    @property
    def utilisation(self) -> float | None:
        return self.actual_ore / self.advanced_ore if self.advanced_ore else None


# What the portfolio may be sorted by: key → (Swedish label, the value sorted on; missing values last).
SORT_KEYS: dict[str, str] = {
    "id": "Avtal", "status": "Status", "start": "Giltighetstid", "compensation": "Ersättning",
    "actual": "Utfall hittills", "utilisation": "Nyttjandegrad", "repayment": "Prognostiserad återbetalning",
    "withheld": "Innehållet", "next_report": "Nästa rapport", "findings": "Iakttagelser",
}


def _sort_value(entry: Entry, key: str) -> object:
    return {"id": entry.id, "status": entry.status, "start": entry.start, "compensation": entry.compensation_ore,
            "actual": entry.actual_ore, "utilisation": entry.utilisation, "repayment": entry.repayment_ore,
            "withheld": entry.withheld_ore, "next_report": entry.next_report_end, "findings": entry.findings}[key]


def sort_entries(entries: Iterable[Entry], key: str = "id", *, descending: bool = False) -> list[Entry]:
    """The entries ordered by one of :data:`SORT_KEYS` (ties by id); a missing value (no utilisation, no report
    due) goes last either way."""
    if key not in SORT_KEYS:
        raise ValueError(key)
    ordered = sorted(entries, key=lambda e: e.id)
    present = [e for e in ordered if _sort_value(e, key) is not None]
    missing = [e for e in ordered if _sort_value(e, key) is None]
    return sorted(present, key=lambda e: _sort_value(e, key), reverse=descending) + missing  # type: ignore[arg-type,return-value]


def next_report(agreement: Agreement, reported: Iterable[str]) -> str | None:
    """The quarter whose report is due next: the one after the latest quarter with a finalized report in force
    (reports run through a quarter), else the agreement's first quarter; None when the last one is reported."""
    done = [q for q in reported if q in agreement.quarters]
    if not done:
        return agreement.quarters[0]
    index = agreement.quarters.index(max(done)) + 1
    return agreement.quarters[index] if index < len(agreement.quarters) else None


def quarter_end(quarter: str) -> dt.date:
    year, q = int(quarter[:4]), int(quarter[-1])
    return dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) - dt.timedelta(days=1)


def portfolio(store: Store, only: Iterable[str] | None = None) -> list[Entry]:
    """One entry per stored agreement (``only`` those ids, when given), by id."""
    wanted = None if only is None else set(only)
    entries = []
    for v in in_force(store):
        if wanted is not None and v.agreement_id not in wanted:
            continue
        a = v.agreement
        figures = {f.key: f.ore for f in Figures.load(store, a).key_figures()}
        held = store.withholdings(a.id)
        reports = store.final_reports(a.id)
        due = next_report(a, reports.loc[reports["replaced_by"].isna(), "quarter"])
        entries.append(Entry(
            id=a.id, title=a.short_title or a.title, version=v.number, status=v.status,
            start=a.validity.start.isoformat(), end=a.validity.end.isoformat(), compensation_ore=a.compensation_ore,
            advanced_ore=figures["advanced"], actual_ore=figures["actual"], repayment_ore=figures["repayment"],
            withheld_ore=sum(withheld(held, area.key) for area in a.areas), findings=len(v.findings),
            next_report=due, next_report_end=None if due is None else quarter_end(due).isoformat()))
    return entries
