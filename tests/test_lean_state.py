"""The dashboard's lean state (sums computed in the database, rows read a page at a time) shows the same figures
as the old path did (every row in force loaded into pandas and classified): on every fixture of the engine's
tests (the export layouts, the demo exports with a correction, a second agreement), on SQLite and PostgreSQL —
the quarterly tables, key figures, forecast, left-out rows, the sources of each quarter, and the count and sum
of every filter of *Transaktioner*, to the öre."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from test_engine import loaded  # noqa: F401  (every fixture, on SQLite and PostgreSQL)
from test_storage import db_url  # noqa: F401

from samordning.agreement import Agreement
from samordning.followup import REASONS, advances, classify, forecast, key_figures, left_out_summary, quarterly
from samordning.queries import RowFilter, count_and_sum
from samordning.store import Store
from samordning.ui.dashboard.state import State

ROOT = Path(__file__).resolve().parent.parent
PATHS = {"RUN/305/2022": ROOT / "data" / "avtal" / "RUN-305-2022.toml",
         "TEST/7/2024": ROOT / "tests" / "data" / "avtal" / "TEST-7-2024.toml"}


def old_sources(rows: pd.DataFrame) -> dict[str, str]:
    """``State.sources`` as the old path computed it, from every classified row."""
    rows = rows[rows["reason"] == ""]
    pairs = rows[["quarter", "upload_id", "filename"]].dropna(subset=["quarter"]).drop_duplicates()
    return {q: ", ".join(f"{int(p.upload_id)} ({p.filename})" for p in part.sort_values("upload_id").itertuples())
            for q, part in pairs.groupby("quarter")}


def test_lean_state_equals_the_pandas_path(loaded: tuple[Store, Agreement]) -> None:  # noqa: F811
    store, agreement = loaded
    state = State.load(store, PATHS[agreement.id])
    rows = classify(store.rows_in_force(agreement.id), agreement)  # the old path: every row
    payments = store.payments(agreement.id)
    plan = advances(agreement, payments)
    fc = forecast(agreement, rows, payments=payments, plan=plan)
    pd.testing.assert_frame_equal(state.quarters, quarterly(agreement, rows, payments=payments))
    pd.testing.assert_frame_equal(state.quarters_by_area, quarterly(agreement, rows, by_area=True, payments=payments))
    assert state.figures == key_figures(agreement, rows, payments, fc=fc, plan=plan)
    assert state.forecast == fc
    pd.testing.assert_frame_equal(left_out_summary(state.sums), left_out_summary(rows))
    assert state.sources == old_sources(rows)
    assert state.quarters_with_data == set(rows.loc[rows["reason"] == "", "quarter"].dropna())
    assert int(state.quarters["actual_ore"].sum()) == int(rows.loc[rows["reason"] == "", "amount_ore"].sum()) != 0


def _mask(rows: pd.DataFrame, where: RowFilter) -> pd.Series:
    """The old tab's pandas filter."""
    mask = pd.Series(True, index=rows.index)
    for column, value in (("quarter", where.quarter), ("area", where.area), ("reason", where.reason)):
        if value is not None:
            mask &= rows[column] == value
    if where.account_class is not None:
        mask &= rows["account"].str.strip().str[:1] == where.account_class
    if where.text is not None:
        mask &= rows["text"].fillna("").str.contains(where.text, case=False, regex=False)
    return mask


def test_every_transactions_filter_counts_and_sums_as_before(loaded: tuple[Store, Agreement]  # noqa: F811
                                                             ) -> None:
    store, agreement = loaded
    state = State.load(store, PATHS[agreement.id])
    rows = classify(store.rows_in_force(agreement.id), agreement)
    filters = [RowFilter(), RowFilter(reason=""), RowFilter(reason=None, account_class="5"),
               *[RowFilter(reason=r) for r in REASONS],
               *[RowFilter(quarter=q, area=a.key, reason="") for q in agreement.quarters for a in agreement.areas],
               RowFilter(quarter=agreement.quarters[0]), RowFilter(text="LÖN"), RowFilter(text="rad", reason="")]
    selected = 0
    for where in filters:
        expected = rows[_mask(rows, where)]
        totals = (len(expected), int(expected["amount_ore"].sum()))
        rowset = state.rows(where)
        assert (len(rowset), rowset.total_ore) == totals, where
        assert count_and_sum(store.engine, agreement, where) == totals, where  # the sums and the database agree
        shown = rowset.page(0, 10)
        assert [(r.upload_id, r.excel_row) for r in shown] == \
            [(int(r.upload_id), int(r.excel_row)) for r in expected.head(10).itertuples()], where
        selected += totals[0]
    assert selected > 0


def test_text_search_folds_swedish_letters_on_sqlite(tmp_path: Path) -> None:
    """SQLite's own lower() folds only ASCII; the store gives it Python's, as PostgreSQL folds."""
    store = Store.open(tmp_path / "t.db")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("select lower('ÅÄÖ LÖN'), lower(NULL)").one() == ("åäö lön", None)
