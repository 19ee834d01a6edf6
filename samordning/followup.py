"""The quarterly follow-up: which rows count, and advance against actual per quarter and area.

Input is a frame of ledger rows as the importer stores them (one row per transaction, ``amount_ore``
int64, ``period`` "YYYY-MM", the coding columns as text). Amounts stay integer öre throughout; only
ratios (utilisation) are floats. Every figure names the clause that defines it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from samordning.agreement import Agreement, quarter_of
from samordning.mapping import area_of_codes, sie_dimension
from samordning.money import format_kr, share_of

# Why a row does not count, in the order the rules are applied (the first that matches wins).
REASONS: dict[str, str] = {
    "total": "Summarad rad i exporten (Summa/Totalt)",
    "outside_period": "Utanför avtalets giltighetstid",
    "not_cost": "Inte ett kostnadskonto",
    "no_area": "Ingen koppling till något område",
}

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


def quarter_of_period(period: object) -> str | None:
    """``"2023-05"`` → ``"2023Q2"``; None for what is not a period."""
    text = str(period)
    if len(text) < 7 or not text[:4].isdigit() or not text[5:7].isdigit() or not 1 <= int(text[5:7]) <= 12:
        return None
    return f"{text[:4]}Q{(int(text[5:7]) - 1) // 3 + 1}"


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
    """The planned advances (§6) per quarter of the validity period, in öre."""
    plan = dict.fromkeys(agreement.quarters, 0)
    due: dict[str, dt.date] = {}
    for advance in agreement.advances:
        quarter = quarter_of(advance.due)
        if quarter in plan:
            plan[quarter] += agreement.advance_ore(advance)
            due.setdefault(quarter, advance.due)
    return pd.DataFrame({
        "quarter": list(plan),
        "due": [due.get(q) for q in plan],
        "advance_ore": pd.array(list(plan.values()), dtype="int64"),
    })


# -- the quarterly table ------------------------------------------------------------------------

def advances(agreement: Agreement, payments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per quarter: the planned advance, the registered (invoiced/paid) amount where any is registered, and
    the advance the follow-up uses — the registered amount where it exists, the plan elsewhere (``source``)."""
    plan = advance_plan(agreement)
    registered = pd.Series(dtype="int64")
    if payments is not None and len(payments):
        registered = payments.groupby("quarter")["amount_ore"].sum().astype("int64")
    has = plan["quarter"].isin(registered.index).to_numpy()
    plan["planned_ore"] = plan["advance_ore"]
    plan["registered_ore"] = plan["quarter"].map(registered).astype("Int64")
    plan["advance_ore"] = plan["registered_ore"].where(has, plan["planned_ore"]).astype("int64")
    plan["source"] = ["registrerad" if h else "plan" for h in has]
    return plan


def quarterly(agreement: Agreement, rows: pd.DataFrame, *, by_area: bool = False,
              payments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per quarter (and area): advance, actual, variance, cumulative balance and utilisation.

    ``rows`` are classified ledger rows (see :func:`classify`). The advance is the registered payment where
    one is registered, else the plan (column ``source``). Variance = advance − actual;
    balance = advances so far − actuals so far (§6: what is left is paid back at the end).
    """
    plan = advances(agreement, payments)
    used = counted(rows)
    if by_area:
        keys = [a.key for a in agreement.areas]
        index = pd.MultiIndex.from_product([agreement.quarters, keys], names=["quarter", "area"])

        def per_area(column: str) -> pd.Series:
            return pd.Series([agreement.area_shares_ore(int(ore))[k] for ore in plan[column] for k in keys],
                             index=index, dtype="int64")

        advance, planned = per_area("advance_ore"), per_area("planned_ore")
        source = pd.Series([s for s in plan["source"] for _ in keys], index=index)
        actual = used.groupby(["quarter", "area"])["amount_ore"].sum()
    else:
        index = pd.Index(agreement.quarters, name="quarter")
        advance = pd.Series(plan["advance_ore"].to_numpy(), index=index, dtype="int64")
        planned = pd.Series(plan["planned_ore"].to_numpy(), index=index, dtype="int64")
        source = pd.Series(plan["source"].to_numpy(), index=index)
        actual = used.groupby("quarter")["amount_ore"].sum()
    actual = actual.reindex(index, fill_value=0).astype("int64")
    table = pd.DataFrame({"planned_ore": planned, "advance_ore": advance, "source": source,
                          "actual_ore": actual}, index=index)
    table["variance_ore"] = table["advance_ore"] - table["actual_ore"]
    group = table.groupby(level="area") if by_area else table
    table["balance_ore"] = group["variance_ore"].cumsum().astype("int64")
    table["utilisation"] = (table["actual_ore"] / table["advance_ore"].where(table["advance_ore"] != 0)).astype(float)
    return table.reset_index()


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
             payments: pd.DataFrame | None = None, *, plan: pd.DataFrame | None = None) -> Forecast:
    as_of = as_of or data_month(agreement, rows)
    used = counted(rows)
    planned = int((advances(agreement, payments) if plan is None else plan)["advance_ore"].sum())
    if as_of is None:
        elapsed, actual, average, total = 0, 0, 0, 0
    else:
        elapsed = agreement.months.index(as_of) + 1
        actual = int(used.loc[used["period"] <= as_of, "amount_ore"].sum())
        average = share_of(actual, Fraction(1, elapsed))
        total = actual + share_of(actual, Fraction(len(agreement.months) - elapsed, elapsed))
    remaining = len(agreement.months) - elapsed
    return Forecast(
        as_of=as_of, elapsed_months=elapsed, remaining_months=remaining, actual_ore=actual,
        monthly_average_ore=average, forecast_ore=total, planned_advances_ore=planned,
        repayment_ore=max(planned - total, 0), overspend_ore=max(total - planned, 0),
        clause=agreement.compensation.repayment_clause,
    )


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


def key_figures(agreement: Agreement, rows: pd.DataFrame, payments: pd.DataFrame | None = None, *,
                fc: Forecast | None = None, plan: pd.DataFrame | None = None) -> list[Figure]:
    """The overview's key figures, each with the clause it rests on.

    "So far" means up to the newest month with data: the advances due by then, the actuals booked by then.
    Advances are the registered payments where there are any, the plan elsewhere. ``fc`` and ``plan`` pass
    the forecast and :func:`advances` when the caller has them already.
    """
    plan = advances(agreement, payments) if plan is None else plan
    fc = forecast(agreement, rows, payments=payments, plan=plan) if fc is None else fc
    if fc.as_of is None:
        advanced, registered, note = 0, 0, "inga uppgifter om utfall ännu"
    else:
        end_of_month = (pd.Period(fc.as_of, "M").end_time).date()
        due = plan[plan["due"].map(lambda d: d is not None and d <= end_of_month).astype(bool)]
        advanced = int(due["advance_ore"].sum())
        registered = int(due["registered_ore"].fillna(0).sum())
        note = f"till och med {fc.as_of}"
    n_registered = int((plan["source"] == "registrerad").sum())
    advance_note = (f"{n_registered} {'registrerat' if n_registered == 1 else 'registrerade'} "
                    f"({format_kr(registered)}), övriga enligt plan, {note}"
                    if n_registered else f"enligt plan, {note}")
    comp = agreement.compensation
    repayment_note = f"prognos: {fc.elapsed_months} månader utfall, {fc.remaining_months} kvar"
    if fc.overspend_ore:
        repayment_note = (f"prognosen överskrider förskotten med {format_kr(fc.overspend_ore)}; "
                          "överskridande regleras inte i avtalet")
    return [
        Figure("compensation", "Ersättning", agreement.compensation_ore, comp.clause, "avtalad ersättning"),
        Figure("advanced", "Förskott hittills", advanced, comp.clause, advance_note),
        Figure("actual", "Utfall hittills", fc.actual_ore, agreement.report.clause, note),
        Figure("unspent", "Kvarstående medel", advanced - fc.actual_ore, comp.repayment_clause,
               "förskott minus utfall"),
        Figure("forecast", "Prognos till avtalets slut", fc.forecast_ore, comp.repayment_clause, repayment_note),
        Figure("repayment", "Prognostiserad återbetalning", fc.repayment_ore, comp.repayment_clause,
               "förskott enligt plan minus prognos"),
    ]


def quarter_records(agreement: Agreement, table: pd.DataFrame) -> list[dict[str, object]]:
    """The quarterly table as JSON-ready records (``samordning quarters --json``; a finalized report's figures).

    Amounts are JSON numbers of kronor: the shortest repr of ``öre / 100`` is the exact two-decimal amount for
    any sum a ledger holds (below 2**53 öre), so the JSON text is exact to the öre.
    """
    records = []
    for row in table.itertuples():
        record: dict[str, object] = {"quarter": row.quarter}
        if "area" in table:
            record["area"] = agreement.area(row.area).name
        record.update(advance=row.advance_ore / 100, advance_source=row.source, planned=row.planned_ore / 100,
                      actual=row.actual_ore / 100, variance=row.variance_ore / 100, balance=row.balance_ore / 100,
                      utilisation=None if pd.isna(row.utilisation) else round(float(row.utilisation), 4))
        records.append(record)
    return records


# -- per-area totals and the what-if of a dispute ----------------------------------------------------

def area_totals(agreement: Agreement, by_area: pd.DataFrame) -> pd.DataFrame:
    """Advance and actual so far per area (``advance_ore``, ``actual_ore``, indexed by area key, in the
    agreement's order; an area without a row has zeros), from ``quarterly(..., by_area=True)``."""
    sums = by_area.groupby("area", sort=False)[["advance_ore", "actual_ore"]].sum()
    keys = [a.key for a in agreement.areas]
    return sums.reindex(keys, fill_value=0).astype("int64")


def withheld(withholdings: pd.DataFrame, area: str) -> int:
    """What is withheld from an area now (§10): its withholdings not released, in öre."""
    if withholdings.empty:
        return 0
    held = withholdings.loc[(withholdings["area"] == area) & withholdings["released_on"].isna(), "amount_ore"]
    return int(held.sum())


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


def what_if(agreement: Agreement, area: str, amount_ore: int, *, withholdings: pd.DataFrame, fc: Forecast,
            unspent_ore: int) -> WhatIf:
    """Withholding ``amount_ore`` from ``area``: within the §10 cap or by how much over it; the unspent balance
    (``unspent_ore``, the key figure) and the projected repayment (planned advances − amount − forecast,
    never negative) afterwards. The agreement does not say how a withheld amount is settled (§10)."""
    return WhatIf(
        area=area, amount_ore=amount_ore, cap_ore=withholding_cap(agreement, area),
        held_ore=withheld(withholdings, area), unspent_ore=unspent_ore, unspent_after_ore=unspent_ore - amount_ore,
        repayment_ore=fc.repayment_ore,
        repayment_after_ore=max(fc.planned_advances_ore - amount_ore - fc.forecast_ore, 0),
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
