"""The follow-up computed in the database: the classification of a ledger row as SQL, sums grouped in SQL, and
rows streamed in chunks — so no command holds the whole ledger in memory.

The classification is built from the agreement's data (validity months, cost account classes, the code
mapping of the areas) and applies the same rules in the same order as :func:`samordning.followup.classify`:
a total row of the export, outside the validity period, not a cost account, no area mapping — the first that
matches is the reason; a row with none counts. ``tests/test_engine.py`` holds the two equal on every fixture,
on SQLite and PostgreSQL.

:func:`summary` is the small frame every figure is computed from: one row per upload, month, area, account
class and reason with its row count and sum. Its columns are those of classified rows (``period``,
``quarter``, ``area``, ``reason``, ``amount_ore``), so the follow-up's functions (quarterly table, forecast,
key figures) run on it unchanged: one rule for each figure, whether it reads rows or sums.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import sqlalchemy as sa

from samordning import mapping
from samordning.agreement import Agreement
from samordning.lazy import pandas as pd
from samordning.quarters import quarter_of_period
from samordning.schema import ROW_COLUMNS, ledger_rows, payments, upload_months, uploads, withholdings

CHUNK_ROWS = 5_000  # rows fetched at a time: a few MB whatever the size of the ledger


def in_force_condition(rows: sa.Table = ledger_rows) -> sa.ColumnElement[bool]:
    """A row is in force when its upload still holds the row's month (a newer upload of the month replaces it);
    a row without a period is in force while its upload holds any month."""
    active_month = sa.exists().where(upload_months.c.upload_id == rows.c.upload_id,
                                     upload_months.c.period == rows.c.period,
                                     upload_months.c.replaced_by.is_(None))
    any_active = sa.exists().where(upload_months.c.upload_id == rows.c.upload_id,
                                   upload_months.c.replaced_by.is_(None))
    return sa.or_(active_month, sa.and_(rows.c.period.is_(None), any_active))


def area_expression(agreement: Agreement, rows: sa.FromClause = ledger_rows,
                    code: sa.ColumnElement[str] | None = None) -> sa.ColumnElement[str]:
    """The key of the area a row's code maps to (§4), NULL when none: the agreement's rules (exact, range,
    prefix, "*") as a CASE, built by :mod:`samordning.mapping` — the same rules :func:`~samordning.followup.classify`
    applies in pandas. ``code``: the code the mapping reads (trimmed), when not :func:`mapping.code_expression`
    of ``rows`` (the sums per code carry it as a column of their own)."""
    if code is None:
        code = mapping.code_expression(agreement.mapping.dimension, rows)
    return mapping.area_case([(a.key, a.codes) for a in agreement.areas], code)


def account_class(rows: sa.FromClause = ledger_rows) -> sa.ColumnElement[str]:
    """The account class: the first character of the account number."""
    return sa.func.substr(sa.func.trim(rows.c.account), 1, 1)


def reason_expression(agreement: Agreement, rows: sa.FromClause = ledger_rows,
                      code: sa.ColumnElement[str] | None = None) -> sa.ColumnElement[str]:
    """Why a row does not count ('' when it does), in :data:`samordning.followup.REASONS`' order. Nested so
    that a NULL period or code falls to its reason (``NULL IN (…)`` is not true). ``code``: as for
    :func:`area_expression`."""
    mapped = sa.case((area_expression(agreement, rows, code).is_(None), "no_area"), else_="")
    cost = sa.case((account_class(rows).in_(agreement.accounts.cost_classes), mapped), else_="not_cost")
    period = sa.case((rows.c.period.in_(agreement.months), cost), else_="outside_period")
    return sa.case((rows.c.row_kind == "total", "total"), else_=period)


def _agreement_rows(agreement: Agreement) -> sa.ColumnElement[bool]:
    return ledger_rows.c.upload_id.in_(sa.select(uploads.c.id).where(uploads.c.agreement_id == agreement.id))


# -- sums ------------------------------------------------------------------------------------------------

def _mapped_column(agreement: Agreement) -> sa.ColumnElement[str]:
    """What the sums group by for the mapping: a named column as stored (so the covering index serves it), or
    :func:`mapping.code_expression` of a SIE dimension, labelled ``mapped_code``."""
    dimension = agreement.mapping.dimension
    if mapping.sie_dimension(dimension) is None:
        return ledger_rows.c[dimension]
    return mapping.code_expression(dimension, ledger_rows).label("mapped_code")


class Group(NamedTuple):
    """Rows and their sum in öre for one upload, month, area, account class and reason (:func:`summary_groups`)."""

    upload_id: int
    period: str | None
    area: str | None                  # only where the rows count (reason '')
    account_class: str
    reason: str
    rows: int
    amount_ore: int
    in_force: bool
    quarter: str | None


def summary_groups(engine: sa.Engine, agreement: Agreement, *, in_force_only: bool = True) -> list[Group]:
    """Rows and sums per upload, month, area, account class and reason, computed in the database: a few groups
    per upload and month, whatever the size of the ledger, in plain Python (:func:`summary` is their frame).

    ``area`` is set only where the rows count, as :func:`~samordning.followup.classify` sets it; rows of replaced
    months are left out unless ``in_force_only`` is False. Sorted by upload, month, reason and area (None first).
    """
    # First the sums per stored code (the index of migration 0005 covers them in this order for the project
    # column: read in order, no sort; a SIE dimension, "sie:N", is read from the table), then the classification
    # of those few groups and the sums per class.
    dimension = _mapped_column(agreement)
    codes = list(dict.fromkeys([ledger_rows.c.upload_id, ledger_rows.c.period, ledger_rows.c.row_kind,
                                ledger_rows.c.account, dimension]))
    per_code = (sa.select(*codes, sa.func.count().label("n"), sa.func.sum(ledger_rows.c.amount_ore).label("ore"))
                .where(_agreement_rows(agreement)).group_by(*codes).subquery())
    code = sa.func.trim(per_code.c[dimension.name])
    reason = reason_expression(agreement, per_code, code).label("reason")
    area = area_expression(agreement, per_code, code).label("area")
    klass = account_class(per_code).label("account_class")
    query = (sa.select(per_code.c.upload_id, per_code.c.period, area, klass, reason,
                       sa.func.sum(per_code.c.n).label("rows"), sa.func.sum(per_code.c.ore).label("amount_ore"))
             .group_by(per_code.c.upload_id, per_code.c.period, area, klass, reason))
    months = (sa.select(upload_months.c.upload_id, upload_months.c.period)
              .join(uploads, uploads.c.id == upload_months.c.upload_id)
              .where(uploads.c.agreement_id == agreement.id, upload_months.c.replaced_by.is_(None)))
    with engine.connect() as conn:
        found = conn.execute(query).all()
        active = set(conn.execute(months).all())
    active_uploads = {u for u, _ in active}
    groups = []
    for upload_id, period, area_key, klass_key, why, n, ore in found:
        in_force = (upload_id, period) in active if period is not None else upload_id in active_uploads
        if in_force or not in_force_only:  # PostgreSQL sums bigint as numeric: int() makes them öre again
            groups.append(Group(int(upload_id), period, area_key if why == "" else None, klass_key, why, int(n),
                                int(ore), in_force, None if period is None else quarter_of_period(period)))
    groups.sort(key=lambda g: (g.upload_id, g.period is not None, g.period or "", g.reason, g.area is not None,
                               g.area or ""))
    return groups


def summary(engine: sa.Engine, agreement: Agreement, *, in_force_only: bool = True) -> pd.DataFrame:
    """:func:`summary_groups` as the small frame every figure of the dashboard and the report is computed from.

    Columns: ``upload_id``, ``period`` (None for rows without one), ``area``, ``account_class``, ``reason``,
    ``rows``, ``amount_ore`` (int64), ``in_force`` and ``quarter``; the columns of classified rows, so the
    follow-up's functions (quarterly table, forecast, key figures) run on it unchanged.
    """
    frame = pd.DataFrame(summary_groups(engine, agreement, in_force_only=in_force_only), columns=list(Group._fields))
    frame = frame.astype({"upload_id": "int64", "period": object, "area": object, "rows": "int64",
                          "amount_ore": "int64", "in_force": bool})
    for name in ("period", "area"):  # None where missing, never NaN (NaN is truthy, and not JSON)
        frame[name] = frame[name].where(frame[name].notna(), None)
    return frame


def counted_by_quarter(groups: Sequence[Group], *, by_area: bool = False) -> dict[object, int]:
    """Öre counted as actual per quarter (or per (quarter, area) with ``by_area``), from :func:`summary_groups`:
    what ``followup.quarterly`` groups from a frame of classified rows or sums."""
    actual: dict[object, int] = {}
    for g in groups:
        if g.reason == "" and g.quarter is not None:
            key = (g.quarter, g.area) if by_area else g.quarter
            actual[key] = actual.get(key, 0) + g.amount_ore
    return actual


def registered_by_quarter(engine: sa.Engine, agreement_id: str) -> dict[str, int]:
    """Öre of the registered payments per quarter (only the quarters with a payment)."""
    query = (sa.select(payments.c.quarter, sa.func.sum(payments.c.amount_ore))
             .where(payments.c.agreement_id == agreement_id).group_by(payments.c.quarter))
    with engine.connect() as conn:
        return {quarter: int(ore) for quarter, ore in conn.execute(query)}


def withholding_records(engine: sa.Engine, agreement_id: str) -> list[tuple[str, int, object, object]]:
    """Each withholding as (area, amount_ore, withheld_on, released_on), in the order they were made."""
    query = (sa.select(withholdings.c.area, withholdings.c.amount_ore, withholdings.c.withheld_on,
                       withholdings.c.released_on)
             .where(withholdings.c.agreement_id == agreement_id).order_by(withholdings.c.id))
    with engine.connect() as conn:
        return [(area, int(ore), withheld_on, released_on)
                for area, ore, withheld_on, released_on in conn.execute(query)]


# -- rows, streamed --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RowFilter:
    """Which rows: those in force (or every row of one upload, in force or not), optionally of a quarter, an
    area, an account class, a reason ('' for the rows that count; None for all), up to a month, and whose text
    holds a string (any case)."""

    upload_id: int | None = None
    quarter: str | None = None
    area: str | None = None
    reason: str | None = None
    through: str | None = None        # "YYYY-MM": rows of that month or earlier, and rows without a period
    dated_or_total: bool = False      # leave out rows without a period unless they are total rows
    left_out: bool = False            # only the rows left out (any reason)
    account_class: str | None = None  # the first character of the account
    text: str | None = None           # the row's text contains this, in any case


ROW_FIELDS = ("upload_id", "filename", *ROW_COLUMNS, "area", "reason", "in_force")


def _row_query(agreement: Agreement, where: RowFilter, *, in_ledger_order: bool = False) -> sa.Select:
    """``in_ledger_order``: for the first rows in ledger order (a page) — the join is written so that SQLite
    walks the ledger in its own order and stops at the page's end, instead of finding every row through the
    upload's index and sorting them all first (``+ 0`` keeps the index out; PostgreSQL plans it alike)."""
    reason = reason_expression(agreement)
    area = sa.case((reason == "", area_expression(agreement)), else_=sa.null())
    in_force = in_force_condition()
    upload_id = ledger_rows.c.upload_id + 0 if in_ledger_order else ledger_rows.c.upload_id
    query = (sa.select(ledger_rows.c.upload_id, uploads.c.filename, *[ledger_rows.c[c] for c in ROW_COLUMNS],
                       area.label("area"), reason.label("reason"), in_force.label("in_force"))
             .join(uploads, uploads.c.id == upload_id)
             .where(uploads.c.agreement_id == agreement.id))
    query = query.where(ledger_rows.c.upload_id == where.upload_id) if where.upload_id is not None \
        else query.where(in_force)
    if where.quarter is not None:
        query = query.where(ledger_rows.c.period.in_(quarter_months(where.quarter)))
    if where.area is not None:
        query = query.where(area == where.area)
    if where.reason is not None:
        query = query.where(reason == where.reason)
    if where.through is not None:
        query = query.where(sa.or_(ledger_rows.c.period.is_(None), ledger_rows.c.period <= where.through))
    if where.left_out:
        query = query.where(reason != "")
    if where.account_class is not None:
        query = query.where(account_class() == where.account_class)
    if where.text is not None:  # lower() is Unicode-aware on SQLite too (the store registers Python's)
        query = query.where(sa.func.lower(ledger_rows.c.text).contains(where.text.lower(), autoescape=True))
    if where.dated_or_total:
        query = query.where(sa.or_(ledger_rows.c.period.is_not(None), ledger_rows.c.row_kind == "total"))
    return query


def quarter_months(quarter: str) -> list[str]:
    """``"2023Q2"`` → ``["2023-04", "2023-05", "2023-06"]``."""
    year, q = quarter[:4], int(quarter[-1])
    return [f"{year}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]


@dataclass(frozen=True, slots=True)
class Row:
    """A ledger row as the views, the CLI and the report's sheets show it."""

    upload_id: int
    filename: str
    sheet: str
    excel_row: int
    booking_date: object              # datetime.date or None
    period: str | None
    account: str
    cost_centre: str
    activity: str
    project: str
    counterpart: str
    voucher: str
    text: str
    amount_ore: int
    row_kind: str
    area: str | None
    reason: str
    in_force: bool
    quarter: str | None


@cache
def _quarter(period: str | None) -> str | None:
    return None if period is None else quarter_of_period(period)


def stream_rows(engine: sa.Engine, agreement: Agreement, where: RowFilter = RowFilter(),
                chunk_rows: int = CHUNK_ROWS) -> Iterator[list[Row]]:
    """The rows of ``where`` in ledger order, a chunk at a time (a server-side cursor on PostgreSQL; SQLite's
    cursor steps through the result as it is fetched), so memory stays flat in the size of the ledger."""
    query = _row_query(agreement, where).order_by(ledger_rows.c.id)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(query)
        for part in result.partitions():
            yield [_row(values) for values in part]


def _row(values: Sequence[object]) -> Row:
    return Row(*values[:-1], bool(values[-1]), _quarter(values[5]))  # type: ignore[arg-type, misc]


def page(engine: sa.Engine, agreement: Agreement, where: RowFilter, offset: int, limit: int) -> list[Row]:
    """``limit`` rows of ``where`` from the ``offset``-th on, in ledger order: what a view shows at a time."""
    query = _row_query(agreement, where, in_ledger_order=True).order_by(ledger_rows.c.id).offset(offset).limit(limit)
    with engine.connect() as conn:
        return [_row(values) for values in conn.execute(query)]


def count_and_sum(engine: sa.Engine, agreement: Agreement, where: RowFilter = RowFilter()) -> tuple[int, int]:
    """How many rows ``where`` selects and their sum in öre, computed in the database."""
    inner = _row_query(agreement, where).subquery()
    query = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(inner.c.amount_ore), 0))
    with engine.connect() as conn:
        count, total = conn.execute(query).one()
    return int(count), int(total)


def rows_frame(chunks: Sequence[list[Row]] | Iterator[list[Row]]) -> pd.DataFrame:
    """Streamed rows as a classified frame (for tests and small selections only: it holds every row)."""
    records = [r for chunk in chunks for r in chunk]
    frame = pd.DataFrame(records, columns=[*ROW_FIELDS, "quarter"])
    frame["amount_ore"] = frame["amount_ore"].astype("int64")
    return frame


class RowSet:
    """The rows of a filter, read when asked for: its count and sum come from the database (once), its rows a
    chunk at a time. What a report holds instead of its rows (there may be millions)."""

    def __init__(self, engine: sa.Engine, agreement: Agreement, where: RowFilter = RowFilter(),
                 totals: tuple[int, int] | None = None) -> None:
        """``totals``: the count and sum when the caller knows them already (from :func:`summary`)."""
        self.engine, self.agreement, self.where = engine, agreement, where
        self._count_sum: tuple[int, int] | None = totals

    def _totals(self) -> tuple[int, int]:
        if self._count_sum is None:
            self._count_sum = count_and_sum(self.engine, self.agreement, self.where)
        return self._count_sum

    def __len__(self) -> int:
        return self._totals()[0]

    @property
    def total_ore(self) -> int:
        return self._totals()[1]

    def chunks(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[list[Row]]:
        return stream_rows(self.engine, self.agreement, self.where, chunk_rows)

    def __iter__(self) -> Iterator[Row]:
        for chunk in self.chunks():
            yield from chunk

    def page(self, offset: int, limit: int) -> list[Row]:
        """``limit`` rows from the ``offset``-th on."""
        return page(self.engine, self.agreement, self.where, offset, limit)

    def frame(self) -> pd.DataFrame:
        """Every row as a frame: for tests and small selections only."""
        return rows_frame(self.chunks())
