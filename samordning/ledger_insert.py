"""Ledger rows written in bulk: an upload's rows inserted inside its writing transaction.

The rows go through the driver's own ``executemany`` in chunks of :data:`CHUNK` rows, as plain tuples (no
per-row dicts, no SQL compilation), so memory stays bounded however large the file; a driver error still
passes SQLAlchemy's ``handle_error`` (a full disk becomes a Swedish refusal).

On SQLite, inside the import's transaction (BEGIN IMMEDIATE: no other writer, readers keep their snapshot):

- the page cache is raised to :data:`SQLITE_CACHE_KIB` for the insert (SQLite's default 2 MB spills index pages
  to the WAL again and again), and set back afterwards;
- when the table holds no more than :data:`REBUILD_RATIO` × the new rows, the ledger's secondary indexes are
  dropped and created again after the insert: sorting the rows once is cheaper than updating a six-column
  index row by row. The DDL is part of the transaction, so a crash or a refusal rolls it back with the rows.

Journal mode and synchronous stay as the store sets them (WAL; synchronous FULL: a committed upload survives
a power cut). PostgreSQL gets the chunked ``executemany`` only: dropping an index there would lock readers out.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from samordning.lazy import numpy as np
from samordning.lazy import pandas as pd
from samordning.schema import STORED_COLUMNS

CHUNK = 50_000                           # rows per executemany
SQLITE_CACHE_KIB = 256 * 1024            # the import's page cache on SQLite (a bound, used only as needed)
REBUILD_RATIO = 2                        # rebuild the indexes when stored rows ≤ this × the new rows


def insert_rows(conn: sa.engine.Connection, upload_id: int, rows: pd.DataFrame) -> None:
    """Insert an upload's ledger rows (the :data:`~samordning.schema.STORED_COLUMNS` of ``rows``)."""
    sqlite = conn.dialect.name == "sqlite"
    columns = _columns(rows, sqlite)
    if columns["dimensions"] is None:  # no row has any: the column's NULL default, not a parameter per row
        del columns["dimensions"]
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    # the upload's id (an int from the database) is written into the statement, not bound on every row
    sql = (f"INSERT INTO ledger_rows (upload_id, {', '.join(columns)}) "
           f"VALUES ({int(upload_id)}, {', '.join([marker] * len(columns))})")
    if not sqlite:
        _insert(conn, sql, list(columns.values()), len(rows))
        return
    cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    try:
        indexes = _indexes_to_rebuild(conn, len(rows))
        for name, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        _insert(conn, sql, list(columns.values()), len(rows))
        for _, create in indexes:
            conn.exec_driver_sql(create)
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(cache)}")


def _insert(conn: sa.engine.Connection, sql: str, columns: list[np.ndarray], count: int) -> None:
    for start in range(0, count, CHUNK):
        conn.exec_driver_sql(sql, list(zip(*[column[start:start + CHUNK].tolist() for column in columns],
                                           strict=True)))


def _indexes_to_rebuild(conn: sa.engine.Connection, adding: int) -> list[tuple[str, str]]:
    """The ledger's secondary indexes (name, CREATE statement) when the table is small beside what is added
    (its largest id bounds its row count, read from the end of the table), else none."""
    stored = conn.exec_driver_sql("SELECT max(id) FROM ledger_rows").scalar() or 0
    if stored > REBUILD_RATIO * adding:
        return []
    found = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                                 "tbl_name = 'ledger_rows' AND sql IS NOT NULL").all()
    return [(str(name), str(create)) for name, create in found]


def _columns(rows: pd.DataFrame, sqlite: bool) -> dict[str, np.ndarray | None]:
    """Each stored column as an array whose ``tolist()`` gives what the driver binds: Python ints and
    strings, None for a missing value, a booking date as ISO text on SQLite (as SQLAlchemy's Date stores it
    there), SIE dimensions as JSON text (NULL for a row without any; None for the column when no row has
    any)."""
    out: dict[str, np.ndarray | None] = {}
    for name in STORED_COLUMNS:
        column = rows.get(name)
        if name == "dimensions":
            out[name] = _dimensions(column)
        elif column.dtype.kind in "iu":  # type: ignore[union-attr]
            out[name] = column.to_numpy()  # type: ignore[union-attr]
        elif name == "booking_date" and sqlite:
            out[name] = _per_distinct(column, lambda d: d.isoformat())  # type: ignore[arg-type]
        else:
            values = column.to_numpy(dtype=object)  # type: ignore[union-attr]
            missing = pd.isna(values)
            if missing.any():
                values = values.copy()
                values[missing] = None
            out[name] = values
    return out


def _per_distinct(column: pd.Series, convert: object) -> np.ndarray:
    """``convert`` applied once per distinct value of a column (None stays None), mapped back to every row."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    distinct = np.empty(len(uniques) + 1, dtype=object)
    distinct[:-1] = [convert(v) for v in np.asarray(uniques, dtype=object)]  # type: ignore[operator]
    distinct[-1] = None  # code -1: a missing value
    return distinct[codes]


def _dimensions(column: pd.Series | None) -> np.ndarray | None:
    """Each row's SIE dimensions as JSON text (None for a row without any), or None when no row has any."""
    if column is None:
        return None
    found = [(i, json.dumps(d, ensure_ascii=False)) for i, d in enumerate(column.tolist()) if d and isinstance(d, dict)]
    if not found:
        return None
    out = np.full(len(column), None, dtype=object)
    for i, text in found:
        out[i] = text
    return out
