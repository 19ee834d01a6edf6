"""The engine computes in the database what the follow-up computes on rows in pandas: on every fixture (the
export layouts, the demo exports with their corrections, a second agreement with three areas on another
dimension), on SQLite and PostgreSQL, the sums per upload, month, area, account class and reason, the quarterly
tables, key figures, forecast and left-out rows, and every streamed row's quarter, area and reason, are equal
to :func:`samordning.followup.classify` on the whole ledger — to the öre and row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from test_storage import db_url  # noqa: F401  (the SQLite / PostgreSQL fixture)

from samordning.agreement import Agreement, load_agreement
from samordning.demo import write_examples
from samordning.figures import Figures
from samordning.followup import classify, forecast, key_figures, left_out_summary, quarterly
from samordning.imports import classified_rows, import_export
from samordning.queries import RowFilter, count_and_sum, rows_frame, stream_rows, summary
from samordning.store import Store

ROOT = Path(__file__).resolve().parent.parent
LAYOUTS = ROOT / "tests" / "data" / "layouts"
RUN_305 = load_agreement(ROOT / "data" / "avtal" / "RUN-305-2022.toml")
TEST_7 = load_agreement(ROOT / "tests" / "data" / "avtal" / "TEST-7-2024.toml")
OWN_HEADERS = {"datum": "Bokf.dag", "belopp": "Netto", "konto": "Kto", "projekt": "Proj", "text": "Ben."}


def _test_7_export(path: Path) -> Path:
    """Rows for TEST/7/2024 (cost centres 900–903 map to three areas): every reason, a credit, codes with
    spaces around them, an account written with a space first, and rows outside 2024."""
    wb = Workbook()
    ws = wb.active
    ws.append(["Bokföringsdatum", "Konto", "Ansvar", "Text", "Belopp"])
    rows = [("2024-01-10", "5011", "900", 1000.10), ("2024-02-11", "6110", " 901 ", 250.25),
            ("2024-05-03", "4010", "902", -75.50), ("2024-08-30", "7010", "903", 99.99),
            ("2024-11-30", "5011", "904", 10.00), ("2024-03-01", "3010", "900", -300000.00),
            ("2023-12-31", "5011", "900", 5.00), ("2025-01-01", "5011", "901", 6.00),
            ("2024-07-07", "1930", "902", 7.00), ("2024-12-31", "5411", "901", 123456.78)]
    for day, account, centre, amount in rows:
        ws.append([dt.date.fromisoformat(day), account, centre, "rad", amount])
    ws.append(["Summa", None, None, None, sum(r[3] for r in rows)])
    wb.save(path)
    return path


def _demo_with_correction(folder: Path) -> list[tuple[Path, dict[str, object]]]:
    """The demo exports, then a correction of May that replaces the second export's May rows."""
    files = [(p, {}) for p in write_examples(folder / "exempel")]
    wb = Workbook()
    ws = wb.active
    ws.append(["Verifikationsdatum", "Konto", "Projekt", "Text", "Belopp"])
    ws.append([dt.date(2023, 5, 10), "5011", "7301", "Rättad lön maj", 40_000.01])
    ws.append([dt.date(2023, 5, 11), "6110", "7302", "=SUMMA(A1)", -12.34])
    path = folder / "rattelse_maj.xlsx"
    wb.save(path)
    return [*files, (path, {})]


FIXTURES = {
    "layouts": (RUN_305, lambda folder: [(p, {}) for p in sorted(LAYOUTS.iterdir())
                                         if not p.name.startswith(("x_", "g_"))]
                + [(LAYOUTS / "g_egna_rubriker.xlsx", {"columns": OWN_HEADERS})]),
    "demo": (RUN_305, _demo_with_correction),
    "test-7": (TEST_7, lambda folder: [(_test_7_export(folder / "test7.xlsx"), {}),
                                      (LAYOUTS / "a_titelrader_andra_bladet.xlsx", {})]),
}


@pytest.fixture(params=list(FIXTURES))
def loaded(request: pytest.FixtureRequest, db_url: str, tmp_path: Path  # noqa: F811
           ) -> Iterator[tuple[Store, Agreement]]:
    agreement, files = FIXTURES[request.param]
    store = Store(db_url)
    for path, options in files(tmp_path):
        import_export(store, agreement, path.name, path.read_bytes(), user="test", **options)
    yield store, agreement
    store.engine.dispose()


def _by_pandas(store: Store, agreement: Agreement, upload_id: int | None = None) -> pd.DataFrame:
    rows = classify(store.rows_in_force(agreement.id, upload_id=upload_id), agreement)
    rows["account_class"] = rows["account"].astype(str).str.strip().str[:1]
    return rows


def _grouped(frame: pd.DataFrame, weight: str | None) -> dict[tuple[object, ...], tuple[int, int]]:
    keys = ["upload_id", "period", "area", "account_class", "reason"]
    out: dict[tuple[object, ...], tuple[int, int]] = {}
    for values in frame[[*keys, "amount_ore", *([weight] if weight else [])]].itertuples(index=False):
        key = tuple(None if pd.isna(v) else v for v in values[:5])
        rows, ore = out.get(key, (0, 0))
        out[key] = (rows + (int(values[6]) if weight else 1), ore + int(values[5]))
    return out


def test_sums_in_the_database_equal_classify_on_every_row(loaded: tuple[Store, Agreement]) -> None:
    store, agreement = loaded
    rows = _by_pandas(store, agreement)
    sums = summary(store.engine, agreement)
    assert len(rows) > 0 and int(sums["rows"].sum()) == len(rows)
    assert _grouped(sums, "rows") == _grouped(rows, None)
    assert sums["amount_ore"].dtype == "int64"
    figures = Figures.load(store, agreement)
    payments = store.payments(agreement.id)
    for by_area in (False, True):
        pd.testing.assert_frame_equal(figures.quarterly(by_area=by_area),
                                      quarterly(agreement, rows, by_area=by_area, payments=payments))
    assert figures.key_figures() == key_figures(agreement, rows, payments)
    assert figures.forecast() == forecast(agreement, rows, payments=payments)
    pd.testing.assert_frame_equal(figures.left_out(), left_out_summary(rows))


def test_streamed_rows_have_the_classification_of_classify(loaded: tuple[Store, Agreement]) -> None:
    store, agreement = loaded
    columns = ["upload_id", "filename", "excel_row", "period", "amount_ore", "quarter", "area", "reason", "in_force"]
    expected = _by_pandas(store, agreement)[columns].astype(object)
    streamed = rows_frame(stream_rows(store.engine, agreement, chunk_rows=7))[columns].astype(object)
    pd.testing.assert_frame_equal(streamed.where(streamed.notna(), None), expected.where(expected.notna(), None))
    for reason in ("", "total", "outside_period", "not_cost", "no_area"):
        mine = expected[expected["reason"] == reason]
        assert count_and_sum(store.engine, agreement, RowFilter(reason=reason)) == \
            (len(mine), int(mine["amount_ore"].sum()))
    for area in agreement.areas:
        for quarter in agreement.quarters:
            mine = expected[(expected["area"] == area.key) & (expected["quarter"] == quarter)]
            got = rows_frame(stream_rows(store.engine, agreement, RowFilter(quarter=quarter, area=area.key)))
            assert got["excel_row"].tolist() == mine["excel_row"].tolist()
    first = int(expected["upload_id"].min())
    whole = _by_pandas(store, agreement, upload_id=first)  # one upload, in force or not
    got = rows_frame(stream_rows(store.engine, agreement, RowFilter(upload_id=first)))
    assert got["in_force"].tolist() == whole["in_force"].tolist()
    assert got["reason"].tolist() == whole["reason"].tolist()


def test_classified_rows_keep_their_old_name(loaded: tuple[Store, Agreement]) -> None:
    from samordning.imports import ledger

    store, agreement = loaded
    pd.testing.assert_frame_equal(ledger(store, agreement), classified_rows(store, agreement))
    pd.testing.assert_frame_equal(store.ledger(agreement.id), store.rows_in_force(agreement.id))


def test_the_reports_row_counts_from_the_sums_equal_a_count_of_its_rows(loaded: tuple[Store, Agreement]) -> None:
    from samordning.report import build_report

    store, agreement = loaded
    report = build_report(store, agreement)
    for rows in (report.transactions, report.left_out):
        frame = rows.frame()
        assert (len(rows), rows.total_ore) == (len(frame), int(frame["amount_ore"].sum()))
        assert count_and_sum(store.engine, agreement, rows.where) == (len(frame), int(frame["amount_ore"].sum()))
