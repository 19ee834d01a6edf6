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

import pandas as pd
import sqlalchemy as sa

from samordning import mapping
from samordning.agreement import Agreement
from samordning.followup import quarter_of_period
from samordning.schema import ROW_COLUMNS, ledger_rows, upload_months, uploads

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


def area_expression(agreement: Agreement, rows: sa.FromClause = ledger_rows) -> sa.ColumnElement[str]:
    """The key of the area a row's code maps to (§4), NULL when none: the agreement's rules (exact, range,
    prefix, "*") as a CASE, built by :mod:`samordning.mapping` — the same rules :func:`~samordning.followup.classify`
    applies in pandas."""
    return mapping.area_expression(agreement.mapping.dimension, [(a.key, a.codes) for a in agreement.areas], rows)


def account_class(rows: sa.FromClause = ledger_rows) -> sa.ColumnElement[str]:
    """The account class: the first character of the account number."""
    return sa.func.substr(sa.func.trim(rows.c.account), 1, 1)


def reason_expression(agreement: Agreement, rows: sa.FromClause = ledger_rows) -> sa.ColumnElement[str]:
    """Why a row does not count ('' when it does), in :data:`samordning.followup.REASONS`' order. Nested so
    that a NULL period or code falls to its reason (``NULL IN (…)`` is not true)."""
    mapped = sa.case((area_expression(agreement, rows).is_(None), "no_area"), else_="")
    cost = sa.case((account_class(rows).in_(agreement.accounts.cost_classes), mapped), else_="not_cost")
    period = sa.case((rows.c.period.in_(agreement.months), cost), else_="outside_period")
    return sa.case((rows.c.row_kind == "total", "total"), else_=period)


def _agreement_rows(agreement: Agreement) -> sa.ColumnElement[bool]:
    return ledger_rows.c.upload_id.in_(sa.select(uploads.c.id).where(uploads.c.agreement_id == agreement.id))


# -- sums ------------------------------------------------------------------------------------------------

def summary(engine: sa.Engine, agreement: Agreement, *, in_force_only: bool = True) -> pd.DataFrame:
    """Rows and sums per upload, month, area, account class and reason, computed in the database.

    Columns: ``upload_id``, ``period`` (None for rows without one), ``quarter``, ``area`` (only where the row
    counts, as :func:`~samordning.followup.classify` sets it), ``account_class``, ``reason``, ``rows``,
    ``amount_ore`` (int64) and ``in_force``. Rows of replaced months are left out unless ``in_force_only`` is
    False. The frame is small (a few rows per upload and month), whatever the size of the ledger.
    """
    # First the sums per stored code (an index covers them in this order for the default dimension: read in
    # order, no sort), then the classification of those few groups and the sums per class.
    dimension = ledger_rows.c[agreement.mapping.dimension]
    codes = list(dict.fromkeys([ledger_rows.c.upload_id, ledger_rows.c.period, ledger_rows.c.row_kind,
                                ledger_rows.c.account, dimension]))
    per_code = (sa.select(*codes, sa.func.count().label("n"), sa.func.sum(ledger_rows.c.amount_ore).label("ore"))
                .where(_agreement_rows(agreement)).group_by(*codes).subquery())
    reason = reason_expression(agreement, per_code).label("reason")
    area = area_expression(agreement, per_code).label("area")
    klass = account_class(per_code).label("account_class")
    query = (sa.select(per_code.c.upload_id, per_code.c.period, area, klass, reason,
                       sa.func.sum(per_code.c.n).label("rows"), sa.func.sum(per_code.c.ore).label("amount_ore"))
             .group_by(per_code.c.upload_id, per_code.c.period, area, klass, reason))
    months = (sa.select(upload_months.c.upload_id, upload_months.c.period)
              .join(uploads, uploads.c.id == upload_months.c.upload_id)
              .where(uploads.c.agreement_id == agreement.id, upload_months.c.replaced_by.is_(None)))
    with engine.connect() as conn:
        groups = conn.execute(query).all()
        active = conn.execute(months).all()
    frame = pd.DataFrame(groups, columns=["upload_id", "period", "area", "account_class", "reason", "rows",
                                          "amount_ore"])
    frame["rows"] = [int(v) for v in frame["rows"]]
    frame = frame.astype({"upload_id": "int64", "rows": "int64", "period": object, "area": object})
    frame["amount_ore"] = [int(v) for v in frame["amount_ore"]]  # PostgreSQL sums bigint as numeric
    frame["amount_ore"] = frame["amount_ore"].astype("int64")
    frame["period"] = frame["period"].where(frame["period"].notna(), None)
    active_pairs = set(active)
    active_uploads = {u for u, _ in active}
    frame["in_force"] = pd.Series([(u, p) in active_pairs if p is not None else u in active_uploads
                                   for u, p in zip(frame["upload_id"], frame["period"], strict=True)],
                                  index=frame.index, dtype=bool)
    frame["quarter"] = frame["period"].map(lambda p: None if p is None else quarter_of_period(p))
    frame["area"] = frame["area"].where(frame["reason"] == "", None)
    if in_force_only:
        frame = frame.loc[frame["in_force"]]
    return frame.sort_values(["upload_id", "period", "reason", "area"], na_position="first",
                             kind="stable").reset_index(drop=True)


# -- rows, streamed --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RowFilter:
    """Which rows: those in force (or every row of one upload, in force or not), optionally of a quarter, an
    area, a reason ('' for the rows that count; None for all) and up to a month."""

    upload_id: int | None = None
    quarter: str | None = None
    area: str | None = None
    reason: str | None = None
    through: str | None = None        # "YYYY-MM": rows of that month or earlier, and rows without a period
    dated_or_total: bool = False      # leave out rows without a period unless they are total rows
    left_out: bool = False            # only the rows left out (any reason)


ROW_FIELDS = ("upload_id", "filename", *ROW_COLUMNS, "area", "reason", "in_force")


def _row_query(agreement: Agreement, where: RowFilter) -> sa.Select:
    reason = reason_expression(agreement)
    area = sa.case((reason == "", area_expression(agreement)), else_=sa.null())
    in_force = in_force_condition()
    query = (sa.select(ledger_rows.c.upload_id, uploads.c.filename, *[ledger_rows.c[c] for c in ROW_COLUMNS],
                       area.label("area"), reason.label("reason"), in_force.label("in_force"))
             .join(uploads, uploads.c.id == ledger_rows.c.upload_id)
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
            yield [Row(*values[:-1], bool(values[-1]), _quarter(values[5])) for values in part]  # type: ignore[misc]


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

    def frame(self) -> pd.DataFrame:
        """Every row as a frame: for tests and small selections only."""
        return rows_frame(self.chunks())
