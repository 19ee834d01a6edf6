"""The fast paths of the import read and store exactly what the general ones do: a column parsed once per
distinct cell, an amount column of numbers in one numpy pass, and the bulk insert that rebuilds the ledger's
indexes (issue 19). Timings are in bench/bench_import.py, not here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from samordning import ledger_insert
from samordning.ingest.values import as_code, by_distinct, parse_dates, read_amounts
from samordning.store import Store


def _code(values: pd.Series) -> tuple[pd.Series]:
    return (as_code(values),)


def test_cells_that_are_equal_but_read_differently_are_not_counted_as_one() -> None:
    # True == 1.0 and hash alike, so counting distinct cells would read every True as "1": the column is
    # checked cell by cell and read as it is.
    cells = pd.Series([1.0, True, "0412", None, 7301.0] * 200, dtype=object)
    (got,) = by_distinct(cells, _code)
    assert got.tolist() == ["1", "True", "0412", "", "7301"] * 200
    assert got.tolist() == as_code(cells).tolist()


def test_a_column_read_once_per_distinct_cell_is_read_as_cell_by_cell() -> None:
    cells = pd.Series([" 5011 ", "5411", None, float("nan"), 6110.0, "5011"] * 300, dtype=object,
                      index=pd.RangeIndex(5, 1805))
    (got,) = by_distinct(cells, _code)
    assert got.index.equals(cells.index)
    assert got.tolist() == as_code(cells).tolist() == ["5011", "5411", "", "", "6110", "5011"] * 300
    days = pd.Series([dt.date(2023, 2, 15), "2023-03-01", None, "31/02", 45000.0] * 300, dtype=object)
    for fast, whole in zip(by_distinct(days, parse_dates), parse_dates(days), strict=True):
        assert fast.equals(whole)


def test_amounts_that_are_all_numbers_read_as_the_general_path_reads_them() -> None:
    numbers = [1.005, -12.345, 0.1 + 0.2, None, float("nan"), float("inf"), -float("inf"), 1e12, 1e12 + 0.01,
               -1e12 - 0.01, 123456.78, 0.0, -0.0, 1e300]
    fast = read_amounts(pd.Series(numbers, dtype=object))
    # one text cell sends the whole column down the general path (type by type)
    general = read_amounts(pd.Series([*numbers, "12,50"], dtype=object))
    for got, want in zip(fast, general, strict=True):
        assert got.tolist() == want.iloc[:-1].tolist()
    amount, bad, too_large = fast
    assert amount.iloc[:3].tolist() == [100, -1234, 30]  # rounded to öre as before (half to even)
    assert bad.tolist()[5:7] == [True, True] and amount.iloc[5] == 0  # an infinity: unreadable
    assert too_large.tolist()[8:10] == [True, True] and too_large.iloc[7] == np.False_
    assert pd.isna(amount.iloc[3]) and pd.isna(amount.iloc[4]) and not bad.iloc[3]  # blank


def _ledger_indexes(engine: sa.engine.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                                         "tbl_name = 'ledger_rows' AND sql IS NOT NULL").all())


def _rows(count: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame({
        "sheet": "Huvudbok", "excel_row": np.arange(start + 5, start + 5 + count),
        "booking_date": [dt.date(2023, 1 + i % 12, 1) for i in range(count)],
        "period": [f"2023-{1 + i % 12:02d}" for i in range(count)], "account": "5011", "cost_centre": "0410",
        "activity": "", "project": [str(7300 + i % 5) for i in range(count)], "counterpart": "",
        "voucher": [f"V{start + i}" for i in range(count)], "text": "Lön",
        "amount_ore": np.arange(count, dtype="int64") * 101 - 5000, "row_kind": "data", "dimensions": None})


def test_bulk_insert_keeps_every_row_and_the_ledger_indexes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.open(tmp_path / "s.db")
    rebuilt: list[int] = []
    choose = ledger_insert._indexes_to_rebuild
    monkeypatch.setattr(ledger_insert, "_indexes_to_rebuild",
                        lambda conn, adding: rebuilt.append(len(found := choose(conn, adding))) or found)
    before = _ledger_indexes(store.engine)
    assert before.keys() == {"ix_ledger_rows_sums"}  # its prefixes were dropped (migration 0009)
    # the first upload fills an empty table (indexes rebuilt), the second lands on a table far larger than it
    # (indexes kept and updated); the chunks of the insert are smaller than either
    monkeypatch.setattr(ledger_insert, "CHUNK", 700)
    first, second = _rows(5000), _rows(10, start=5000)
    for n, rows in enumerate((first, second)):
        store.add_upload(agreement_id="a", filename=f"f{n}.xlsx", content=b"x", sha256=f"{n}", user="u",
                         sheet="Huvudbok", header_row=4, rows=rows)
    assert rebuilt == [len(before), 0]
    assert _ledger_indexes(store.engine) == before
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        stored = pd.read_sql("SELECT * FROM ledger_rows ORDER BY id", conn)
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -2000  # set back to SQLite's default
    both = pd.concat([first, second], ignore_index=True)
    assert len(stored) == 5010
    assert stored["amount_ore"].tolist() == both["amount_ore"].tolist()
    assert stored["voucher"].tolist() == both["voucher"].tolist()
    assert stored["booking_date"].tolist() == [d.isoformat() for d in both["booking_date"]]
    assert stored["dimensions"].isna().all() and stored["upload_id"].tolist() == [1] * 5000 + [2] * 10
