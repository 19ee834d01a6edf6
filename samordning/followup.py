"""The quarterly follow-up: which rows count, and advance against actual per quarter and area.

Input is a frame of ledger rows as the importer stores them (one row per transaction, ``amount_ore``
int64, ``period`` "YYYY-MM", the coding columns as text). Amounts stay integer öre throughout; only
ratios (utilisation) are floats. Every figure names the clause that defines it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from fractions import Fraction

from samordning import quarters as plain
from samordning.agreement import Agreement
from samordning.lazy import numpy as np
from samordning.lazy import pandas as pd
from samordning.mapping import area_of_codes, sie_dimension
from samordning.money import format_kr, share_of
from samordning.quarters import quarter_of_period  # re-exported: the one definition is in quarters
from samordning.vocabulary import REASONS  # re-exported: defined where the parser can read it lightly

CODE_COLUMNS = ("account", "cost_centre", "activity", "project", "counterpart", "voucher", "text")


def classify(rows: pd.DataFrame, agreement: Agreement) -> pd.DataFrame:
    """Add ``quarter``, ``area`` and ``reason`` (empty string when the row counts) to ledger rows.

    A row counts when it lies inside the validity period (§9), is on a cost account
    (the agreement's cost classes) and maps to an area by the agreement's code mapping (§4).
    """
    out = rows.copy()
    # Codes and periods repeat: each distinct value is looked at once and the answer mapped back (fast on
    # hundreds of thousands of rows, where per-row string methods are not).
    period = out["period"].astype(object).where(out["period"].notna(), None)
    in_validity = period.isin(agreement.months).to_numpy(dtype=bool)
    account = out["account"].astype(object).fillna("")
    classes = {a: str(a).strip()[:1] in agreement.accounts.cost_classes for a in pd.unique(account)}
    is_cost = account.map(classes).to_numpy(dtype=bool)
    codes = mapped_codes(out, agreement.mapping.dimension)
    area = codes.map(area_of_codes(pd.unique(codes), {a.key: a.codes for a in agreement.areas}))
    kind = out["row_kind"].astype("string").to_numpy() if "row_kind" in out else np.full(len(out), "data")

    reason = np.select(
        [kind == "total", ~in_validity, ~is_cost, area.isna().to_numpy()],
        ["total", "outside_period", "not_cost", "no_area"],
        default="",
    )
    quarters = {p: quarter_of_period(p) for p in pd.unique(period) if p is not None}
    out["quarter"] = period.map(quarters).astype(object).where(period.notna(), None)
    out["area"] = area.astype(object).where(reason == "", None)
    out["reason"] = reason
    return out


def mapped_codes(rows: pd.DataFrame, dimension: str) -> pd.Series:
    """The codes the agreement's mapping reads: a named column, or a SIE dimension (``"sie:2"``) from the
    rows' kept SIE dimensions (``dimensions``: a dict per row, number → object); "" where a row has none."""
    number = sie_dimension(dimension)
    if number is None:
        return rows[dimension].astype(object).fillna("")
    if "dimensions" not in rows:
        return pd.Series("", index=rows.index, dtype=object)
    return rows["dimensions"].map(lambda d: d.get(number, "") if isinstance(d, dict) else "").astype(object)


def counted(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["reason"] == ""]


def left_out_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows left out, counted and summed per reason, in the order of ``REASONS``. ``rows`` are classified rows, or
    sums of them with their count in a ``rows`` column (:func:`samordning.queries.summary`)."""
    left = rows[rows["reason"] != ""]
    weight = left["rows"] if "rows" in left else pd.Series(1, index=left.index, dtype="int64")
    grouped = pd.DataFrame({"count": weight, "sum": left["amount_ore"]}).groupby(left["reason"]).sum()
    grouped = grouped.reindex([r for r in REASONS if r in grouped.index])
    return pd.DataFrame({
        "reason": grouped.index,
        "label": [REASONS[r] for r in grouped.index],
        "rows": grouped["count"].astype("int64").to_numpy(),
        "amount_ore": grouped["sum"].astype("int64").to_numpy(),
    })


# -- advances -----------------------------------------------------------------------------------

def advance_plan(agreement: Agreement) -> pd.DataFrame:
    """The planned advances (§6) per quarter of the validity period, in öre (:func:`samordning.quarters.planned`)."""
    plan = plain.planned(agreement)
    return pd.DataFrame({
        "quarter": [q for q, _, _ in plan],
        "due": [due for _, due, _ in plan],
        "advance_ore": pd.array([ore for _, _, ore in plan], dtype="int64"),
    })


# -- the quarterly table ------------------------------------------------------------------------

def _withholdings(withholdings: pd.DataFrame | None) -> list[tuple[str, int, object, object]]:
    if withholdings is None or withholdings.empty:
        return []
    return [(w.area, int(w.amount_ore), w.withheld_on, w.released_on) for w in withholdings.itertuples()]


def _registered(payments: pd.DataFrame | None) -> dict[str, int]:
    """Öre registered per quarter, for the quarters with a registered payment."""
    if payments is None or not len(payments):
        return {}
    return {str(q): int(v) for q, v in payments.groupby("quarter")["amount_ore"].sum().items()}


def withheld_by_quarter(agreement: Agreement, withholdings: pd.DataFrame | None) -> pd.Series:
    """The one rule for withholdings (§10) in the follow-up: a withheld amount is compensation the commissioner
    holds back, so it is subtracted from the advance of the quarter it was withheld in, and added back in the
    quarter it is released in (dates outside the validity period count in its first or last quarter).

    Net öre withheld per (quarter, area) — positive: held back in that quarter, negative: released in it.
    """
    net = plain.withheld_net(agreement, _withholdings(withholdings))
    index = pd.MultiIndex.from_tuples(list(net), names=["quarter", "area"])
    return pd.Series(list(net.values()), index=index, dtype="int64")


def advances(agreement: Agreement, payments: pd.DataFrame | None = None,
             withholdings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per quarter: the planned advance, the registered (invoiced/paid) amount where any is registered, what was
    withheld (net of releases, :func:`withheld_by_quarter`), and the advance the follow-up uses: the registered
    amount where it exists, the plan elsewhere (``source``; together ``gross_ore``), minus what was withheld.
    The rule is :func:`samordning.quarters.advances`; this is its frame."""
    rows = plain.advances(agreement, _registered(payments), plain.withheld_net(agreement, _withholdings(withholdings)))
    frame = pd.DataFrame({c: [getattr(r, c) for r in rows] for c in plain.ADVANCE_COLUMNS})
    return frame.astype({**dict.fromkeys(["advance_ore", "planned_ore", "gross_ore", "withheld_ore"], "int64"),
                         "registered_ore": "Int64"})


def quarterly(agreement: Agreement, rows: pd.DataFrame, *, by_area: bool = False,
              payments: pd.DataFrame | None = None, withholdings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per quarter (and area): advance, withheld, actual, variance, cumulative balance and utilisation.

    ``rows`` are classified ledger rows (see :func:`classify`). The advance is :func:`advances`' (the registered
    payment where one is registered, else the plan, minus what was withheld); an area's advance is its share of
    the quarter's advance before withholding, minus what was withheld from that area. Variance = advance −
    actual; balance = advances so far − actuals so far (§6: what is left is paid back at the end).
    The rule is :func:`samordning.quarters.quarter_rows`; this is its frame.
    """
    used = counted(rows)
    actual = used.groupby(["quarter", "area"] if by_area else "quarter")["amount_ore"].sum()
    net = plain.withheld_net(agreement, _withholdings(withholdings))
    plan = plain.advances(agreement, _registered(payments), net)
    table = plain.quarter_rows(agreement, plan, net, actual.to_dict(), by_area=by_area)
    columns = [c for c in plain.QUARTER_COLUMNS if by_area or c != "area"]
    frame = pd.DataFrame({c: [getattr(r, c) for r in table] for c in columns})
    ints = ["planned_ore", "advance_ore", "withheld_ore", "actual_ore", "variance_ore", "balance_ore"]
    return frame.astype({**dict.fromkeys(ints, "int64"), "utilisation": float})


# -- forecast and key figures -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Forecast:
    """Forecast to the end of the agreement (§6): actual so far plus the monthly average of the
    elapsed months times the remaining months; the projected repayment is the planned advances minus
    the forecast. A negative repayment is an overspend, which the agreement does not regulate."""

    as_of: str | None          # newest month with counted data, "YYYY-MM"
    elapsed_months: int
    remaining_months: int
    actual_ore: int
    monthly_average_ore: int
    forecast_ore: int
    planned_advances_ore: int
    repayment_ore: int          # never negative
    overspend_ore: int          # forecast beyond the advances, 0 if none
    clause: str


def data_month(agreement: Agreement, rows: pd.DataFrame) -> str | None:
    """The newest month of the validity period that has counted rows."""
    months = counted(rows)["period"]
    return str(months.max()) if len(months) else None


def forecast(agreement: Agreement, rows: pd.DataFrame, as_of: str | None = None,
             payments: pd.DataFrame | None = None, *, plan: pd.DataFrame | None = None,
             withholdings: pd.DataFrame | None = None) -> Forecast:
    """The forecast (§6) from the rows, against the advances of :func:`advances` (``plan`` when the caller has it)."""
    as_of = as_of or data_month(agreement, rows)
    used = counted(rows)
    plan = advances(agreement, payments, withholdings) if plan is None else plan
    if as_of is None:
        elapsed, actual, average, total = 0, 0, 0, 0
    else:
        elapsed = agreement.months.index(as_of) + 1
        actual = int(used.loc[used["period"] <= as_of, "amount_ore"].sum())
        average = share_of(actual, Fraction(1, elapsed))
        total = actual + share_of(actual, Fraction(len(agreement.months) - elapsed, elapsed))
    base = Forecast(
        as_of=as_of, elapsed_months=elapsed, remaining_months=len(agreement.months) - elapsed, actual_ore=actual,
        monthly_average_ore=average, forecast_ore=total, planned_advances_ore=0, repayment_ore=0, overspend_ore=0,
        clause=agreement.compensation.repayment_clause,
    )
    return against(base, plan)


def against(fc: Forecast, plan: pd.DataFrame) -> Forecast:
    """The forecast set against the advances of ``plan`` (:func:`advances`, withholdings subtracted): projected
    repayment = advances − forecast, never negative; what the forecast passes them by is an overspend."""
    planned = int(plan["advance_ore"].sum())
    return replace(fc, planned_advances_ore=planned, repayment_ore=max(planned - fc.forecast_ore, 0),
                   overspend_ore=max(fc.forecast_ore - planned, 0))


def withholding_cap(agreement: Agreement, area_key: str) -> int:
    """The most that may be withheld in a dispute over an area (§10): the cap × the area's share of
    the compensation."""
    area_compensation = agreement.area_shares_ore(agreement.compensation_ore)[agreement.area(area_key).key]
    return share_of(area_compensation, agreement.dispute.withholding_cap)


@dataclass(frozen=True, slots=True)
class Figure:
    key: str
    label: str
    ore: int
    clause: str
    note: str = ""


def key_figures(agreement: Agreement, rows: pd.DataFrame | None, payments: pd.DataFrame | None = None,
                withholdings: pd.DataFrame | None = None, *, fc: Forecast | None = None,
                plan: pd.DataFrame | None = None) -> list[Figure]:
    """The overview's key figures, each with the clause it rests on.

    "So far" means up to the newest month with data: the advances due by then, the actuals booked by then.
    Advances are :func:`advances`' — the registered payments where there are any, the plan elsewhere, minus what
    was withheld (§10) — for *Förskott hittills*, *Kvarstående medel* and the projected repayment alike. ``fc``
    and ``plan`` pass the forecast and :func:`advances` when the caller has them already (then ``rows`` is
    not read). A figure *Innehållen ersättning* follows when anything is withheld now.
    """
    plan = advances(agreement, payments, withholdings) if plan is None else plan
    if fc is None:
        assert rows is not None, "key_figures needs the rows or their forecast"
        fc = forecast(agreement, rows, plan=plan)
    if fc.as_of is None:
        due, note = plan.iloc[0:0], "inga uppgifter om utfall ännu"
    else:
        end_of_month = (pd.Period(fc.as_of, "M").end_time).date()
        due = plan[plan["due"].map(lambda d: d is not None and d <= end_of_month).astype(bool)]
        note = f"till och med {fc.as_of}"
    advanced, registered = int(due["advance_ore"].sum()), int(due["registered_ore"].fillna(0).sum())
    held_back = int(due["withheld_ore"].sum())
    n_registered = int((plan["source"] == "registrerad").sum())
    advance_note = (f"{n_registered} {'registrerat' if n_registered == 1 else 'registrerade'} "
                    f"({format_kr(registered)}), övriga enligt plan" if n_registered else "enligt plan")
    if held_back:
        advance_note += f", minus innehållet {format_kr(held_back)}"
    comp = agreement.compensation
    repayment_note = "förskotten minus prognosen" + (", minus innehållet" if int(plan["withheld_ore"].sum()) else "")
    if fc.overspend_ore:
        repayment_note = (f"prognosen överskrider förskotten med {format_kr(fc.overspend_ore)}; "
                          "överskridande regleras inte i avtalet")
    figures = [
        Figure("compensation", "Ersättning", agreement.compensation_ore, comp.clause, "avtalad ersättning"),
        Figure("advanced", "Förskott hittills", advanced, comp.clause, f"{advance_note}, {note}"),
        Figure("actual", "Utfall hittills", fc.actual_ore, agreement.report.clause, note),
        Figure("unspent", "Kvarstående medel", advanced - fc.actual_ore, comp.repayment_clause,
               "förskott minus utfall"),
        Figure("forecast", "Prognos till avtalets slut", fc.forecast_ore, comp.repayment_clause,
               f"prognos: {fc.elapsed_months} månader utfall, {fc.remaining_months} kvar"),
        Figure("repayment", "Prognostiserad återbetalning", fc.repayment_ore, comp.repayment_clause, repayment_note),
    ]
    held_now = withheld_now(withholdings)
    if held_now:
        names = [agreement.area(k).name for k in held_now]
        figures.append(Figure("withheld", "Innehållen ersättning", sum(held_now.values()), agreement.dispute.clause,
                              names[0] if len(names) == 1 else
                              "; ".join(f"{n} {format_kr(v)}" for n, v in zip(names, held_now.values(), strict=True))))
    return figures


def figure(figures: list[Figure], key: str) -> int:
    """The amount of a key figure (0 when the list has no such figure, e.g. nothing withheld)."""
    return next((f.ore for f in figures if f.key == key), 0)


def quarter_records(agreement: Agreement, table: pd.DataFrame) -> list[dict[str, object]]:
    """The quarterly table as JSON-ready records (``samordning quarters --json``; a finalized report's figures).

    Amounts are JSON numbers of kronor: the shortest repr of ``öre / 100`` is the exact two-decimal amount for
    any sum a ledger holds (below 2**53 öre), so the JSON text is exact to the öre (one record:
    :func:`samordning.quarters.quarter_record`).
    """
    return [plain.quarter_record(agreement, row, with_area="area" in table)  # type: ignore[arg-type]
            for row in table.itertuples()]


# -- per-area totals and the what-if of a dispute ----------------------------------------------------

def area_totals(agreement: Agreement, by_area: pd.DataFrame) -> pd.DataFrame:
    """Advance and actual so far per area (``advance_ore``, ``actual_ore``, indexed by area key, in the
    agreement's order; an area without a row has zeros), from ``quarterly(..., by_area=True)``."""
    sums = by_area.groupby("area", sort=False)[["advance_ore", "actual_ore"]].sum()
    keys = [a.key for a in agreement.areas]
    return sums.reindex(keys, fill_value=0).astype("int64")


def _in_force(withholdings: pd.DataFrame | None) -> pd.DataFrame:
    if withholdings is None or withholdings.empty:
        return pd.DataFrame({"area": [], "amount_ore": []})
    return withholdings[withholdings["released_on"].isna()]


def withheld(withholdings: pd.DataFrame | None, area: str) -> int:
    """What is withheld from an area now (§10): its withholdings not released, in öre."""
    held = _in_force(withholdings)
    return int(held.loc[held["area"] == area, "amount_ore"].sum())


def withheld_now(withholdings: pd.DataFrame | None) -> dict[str, int]:
    """What is withheld now per area key (only the areas with something withheld), in öre."""
    held = _in_force(withholdings)
    return {str(k): int(v) for k, v in held.groupby("area", sort=False)["amount_ore"].sum().items() if v}


@dataclass(frozen=True, slots=True)
class WhatIf:
    """What withholding ``amount_ore`` from an area would mean, before anything is registered: the §10 cap,
    the unspent balance and the projected repayment (§6) with and without it."""

    area: str
    amount_ore: int
    cap_ore: int
    held_ore: int                  # already withheld from the area
    unspent_ore: int               # advances so far − actual so far, today
    unspent_after_ore: int
    repayment_ore: int             # projected repayment, today
    repayment_after_ore: int       # never negative
    cap_clause: str
    repayment_clause: str

    @property
    def within_cap(self) -> bool:
        return self.held_ore + self.amount_ore <= self.cap_ore

    @property
    def over_cap_ore(self) -> int:
        return max(self.held_ore + self.amount_ore - self.cap_ore, 0)


def what_if(agreement: Agreement, area: str, amount_ore: int, *, payments: pd.DataFrame | None,
            withholdings: pd.DataFrame | None, fc: Forecast, on: dt.date | None = None) -> WhatIf:
    """Withholding ``amount_ore`` from ``area`` on ``on`` (today): within the §10 cap or by how much over it, and
    the key figures *Kvarstående medel* and the projected repayment (§6) before and after — computed by the one
    rule (:func:`advances`, :func:`key_figures`) with the withholding added, so that registering it gives exactly
    the figures shown. ``fc`` is the current forecast. The agreement does not say how a withheld amount is
    settled (§10)."""
    columns = ["area", "amount_ore", "withheld_on", "released_on"]
    held = withholdings if withholdings is not None and not withholdings.empty else pd.DataFrame(columns=columns)
    added = pd.concat([held[columns], pd.DataFrame([{"area": area, "amount_ore": amount_ore,
                                                     "withheld_on": on or dt.date.today(), "released_on": None}])],
                      ignore_index=True)
    figures = []
    for w in (held, added):
        plan = advances(agreement, payments, w)
        figures.append(key_figures(agreement, None, payments, w, fc=against(fc, plan), plan=plan))
    before, after = figures
    return WhatIf(
        area=area, amount_ore=amount_ore, cap_ore=withholding_cap(agreement, area),
        held_ore=withheld(withholdings, area), unspent_ore=figure(before, "unspent"),
        unspent_after_ore=figure(after, "unspent"), repayment_ore=figure(before, "repayment"),
        repayment_after_ore=figure(after, "repayment"),
        cap_clause=agreement.dispute.clause, repayment_clause=agreement.compensation.repayment_clause,
    )


# -- per year and for the whole period -----------------------------------------------------------------

WHOLE_PERIOD = "hela perioden"


def yearly(table: pd.DataFrame) -> pd.DataFrame:
    """The quarterly table (:func:`quarterly`, with or without areas) per calendar year and for the whole period
    (``year`` = :data:`WHOLE_PERIOD`, last): planned and used advance, actual and variance summed, the balance at the
    end of the year (of the period), utilisation = actual / advance."""
    keys = ["year", "area"] if "area" in table else ["year"]
    frame = table.assign(year=table["quarter"].str[:4])
    sums = ["planned_ore", "advance_ore", "actual_ore", "variance_ore"]
    years = frame.groupby(keys, sort=True).agg({**dict.fromkeys(sums, "sum"), "balance_ore": "last"})
    whole = frame.assign(year=WHOLE_PERIOD).groupby(keys, sort=False).agg(
        {**dict.fromkeys(sums, "sum"), "balance_ore": "last"})
    out = pd.concat([years, whole]).reset_index()
    out[[*sums, "balance_ore"]] = out[[*sums, "balance_ore"]].astype("int64")
    out["utilisation"] = (out["actual_ore"] / out["advance_ore"].where(out["advance_ore"] != 0)).astype(float)
    return out


def year_records(agreement: Agreement, table: pd.DataFrame) -> list[dict[str, object]]:
    """:func:`yearly`'s table as JSON-ready records (amounts as exact JSON numbers of kronor, as
    :func:`quarter_records`)."""
    records = []
    for row in table.itertuples():
        record: dict[str, object] = {"year": row.year}
        if "area" in table:
            record["area"] = agreement.area(row.area).name
        record.update(advance=row.advance_ore / 100, planned=row.planned_ore / 100, actual=row.actual_ore / 100,
                      variance=row.variance_ore / 100, balance=row.balance_ore / 100,
                      utilisation=None if pd.isna(row.utilisation) else round(float(row.utilisation), 6))
        records.append(record)
    return records
