"""The quarterly follow-up's one rule in plain Python: integer öre in, integer öre out, no pandas.

Advance, withheld, actual, variance, cumulative balance and utilisation per quarter (and area) are computed
here and only here. :mod:`samordning.followup` turns these rows into the frames the dashboard and the report
show (``advances``, ``quarterly``, ``quarter_records``); ``samordning quarters`` prints them directly, so it
starts without importing pandas. The advance of a quarter (§6) is the registered payment where one is
registered, else the plan, minus what was withheld in that quarter (§10; a release adds it back in the quarter
it is released in).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from samordning.agreement import Agreement, quarter_of

ADVANCE_COLUMNS = ("quarter", "due", "advance_ore", "planned_ore", "registered_ore", "gross_ore", "withheld_ore",
                   "source")
QUARTER_COLUMNS = ("quarter", "area", "planned_ore", "advance_ore", "withheld_ore", "source", "actual_ore",
                   "variance_ore", "balance_ore", "utilisation")


def quarter_of_period(period: object) -> str | None:
    """``"2023-05"`` → ``"2023Q2"``; None for what is not a period."""
    text = str(period)
    if len(text) < 7 or not text[:4].isdigit() or not text[5:7].isdigit() or not 1 <= int(text[5:7]) <= 12:
        return None
    return f"{text[:4]}Q{(int(text[5:7]) - 1) // 3 + 1}"


def missing(value: object) -> bool:
    """None, or NaN/NaT (what pandas reads for an SQL NULL): the only values not equal to themselves."""
    return value is None or value != value  # noqa: PLR0124


def _day(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def quarter_within(agreement: Agreement, day: object) -> str:
    """The quarter of a date, moved into the validity period (a date before it counts in the first quarter,
    after it in the last)."""
    quarter = quarter_of(_day(day))
    return min(max(quarter, agreement.quarters[0]), agreement.quarters[-1])


def withheld_net(agreement: Agreement, withholdings: Iterable[tuple[str, int, object, object]]
                 ) -> dict[tuple[str, str], int]:
    """Net öre withheld per (quarter, area key) — positive: held back in that quarter, negative: released in it.
    ``withholdings``: (area, amount_ore, withheld_on, released_on) each, ``released_on`` missing when not
    released."""
    net = {(q, a.key): 0 for q in agreement.quarters for a in agreement.areas}
    for area, amount_ore, withheld_on, released_on in withholdings:
        net[(quarter_within(agreement, withheld_on), area)] += int(amount_ore)  # KeyError for an unknown area
        if not missing(released_on):
            net[(quarter_within(agreement, released_on), area)] -= int(amount_ore)
    return net


@dataclass(frozen=True, slots=True)
class Advance:
    """A quarter's advance (§6): the plan, the registered amount (None where nothing is registered), the gross
    advance (registered, else planned), what was withheld (net of releases) and the advance the follow-up uses
    (gross − withheld)."""

    quarter: str
    due: dt.date | None
    advance_ore: int
    planned_ore: int
    registered_ore: int | None
    gross_ore: int
    withheld_ore: int
    source: str                       # "registrerad" or "plan"


def planned(agreement: Agreement) -> list[tuple[str, dt.date | None, int]]:
    """The planned advances (§6) per quarter of the validity period: quarter, first due date, öre."""
    plan = dict.fromkeys(agreement.quarters, 0)
    due: dict[str, dt.date] = {}
    for advance in agreement.advances:
        quarter = quarter_of(advance.due)
        if quarter in plan:
            plan[quarter] += agreement.advance_ore(advance)
            due.setdefault(quarter, advance.due)
    return [(q, due.get(q), ore) for q, ore in plan.items()]


def advances(agreement: Agreement, registered: Mapping[str, int], net: Mapping[tuple[str, str], int]
             ) -> list[Advance]:
    """Per quarter of the plan: ``registered`` (öre registered per quarter, only the quarters with a payment)
    where there is any, else the plan, minus ``net`` (:func:`withheld_net`) summed over the areas."""
    held: dict[str, int] = {}
    for (quarter, _area), ore in net.items():
        held[quarter] = held.get(quarter, 0) + ore
    rows = []
    for quarter, due, plan_ore in planned(agreement):
        is_registered = quarter in registered
        gross = int(registered[quarter]) if is_registered else plan_ore
        withheld = held.get(quarter, 0)
        rows.append(Advance(quarter, due, gross - withheld, plan_ore, int(registered[quarter]) if is_registered
                            else None, gross, withheld, "registrerad" if is_registered else "plan"))
    return rows


@dataclass(frozen=True, slots=True)
class QuarterRow:
    """A row of the quarterly table: variance = advance − actual; balance = advances so far − actuals so far
    (per area when ``area`` is set); utilisation = actual / advance (NaN without an advance)."""

    quarter: str
    area: str | None
    planned_ore: int
    advance_ore: int
    withheld_ore: int
    source: str
    actual_ore: int
    variance_ore: int
    balance_ore: int
    utilisation: float


def quarter_rows(agreement: Agreement, plan: list[Advance], net: Mapping[tuple[str, str], int],
                 actual: Mapping[object, int], *, by_area: bool = False) -> list[QuarterRow]:
    """The quarterly table. ``actual``: counted öre per quarter, or per (quarter, area key) with ``by_area``;
    an area's advance is its share of the quarter's gross advance minus what was withheld from that area."""
    keys = [a.key for a in agreement.areas]
    rows, balance = [], {}
    for adv in plan:
        if by_area:
            gross, plans = agreement.area_shares_ore(adv.gross_ore), agreement.area_shares_ore(adv.planned_ore)
            parts = [(k, plans[k], gross[k] - net[(adv.quarter, k)], net[(adv.quarter, k)]) for k in keys]
        else:
            parts = [(None, adv.planned_ore, adv.advance_ore, adv.withheld_ore)]
        for area, planned_ore, advance_ore, withheld_ore in parts:
            actual_ore = int(actual.get((adv.quarter, area) if by_area else adv.quarter, 0))
            variance = advance_ore - actual_ore
            balance[area] = balance.get(area, 0) + variance
            rows.append(QuarterRow(adv.quarter, area, planned_ore, advance_ore, withheld_ore, adv.source, actual_ore,
                                   variance, balance[area], actual_ore / advance_ore if advance_ore > 0 else math.nan))
    return rows


def quarter_record(agreement: Agreement, row: QuarterRow, *, with_area: bool) -> dict[str, object]:
    """A row of the quarterly table as a JSON-ready record (``samordning quarters --json``; a finalized report's
    figures). Amounts are JSON numbers of kronor: the shortest repr of ``öre / 100`` is the exact two-decimal
    amount for any sum a ledger holds (below 2**53 öre), so the JSON text is exact to the öre."""
    record: dict[str, object] = {"quarter": row.quarter}
    if with_area:
        record["area"] = agreement.area(str(row.area)).name
    record.update(advance=row.advance_ore / 100, advance_source=row.source, planned=row.planned_ore / 100,
                  withheld=row.withheld_ore / 100, actual=row.actual_ore / 100, variance=row.variance_ore / 100,
                  balance=row.balance_ore / 100,
                  utilisation=None if missing(row.utilisation) else round(float(row.utilisation), 4))
    return record
