"""A lean start (issue 19): ``samordning --help`` and a refused argument load neither the database layer nor
pandas, and ``samordning quarters`` computes its table without pandas — by the same rule as the dashboard's and
the report's frames (``samordning.quarters``), to the öre, on SQLite and PostgreSQL.

Hand-worked from RUN/305/2022 and the demo's exports (as in test_one_rule.py): a registered payment of
1 300 000 kr for 2023Q2; 400 000 kr withheld from Social välfärd on 2023-08-15 (Q3); 100 000 kr withheld from
Arbete on 2023-02-01 and released on 2023-05-10 (held in Q1, back in Q2).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_storage import db_url  # noqa: F401  (SQLite and PostgreSQL)

from samordning.agreement import Agreement, load_agreement
from samordning.demo import write_examples
from samordning.figures import Figures, quarter_table
from samordning.imports import import_export
from samordning.store import Store

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT = ROOT / "data" / "avtal" / "RUN-305-2022.toml"
HEAVY = ("pandas", "numpy", "alembic", "plotly", "openpyxl", "python_calamine", "samordning.ingest")


def _loaded_after(argv: list[str]) -> tuple[int, list[str], str]:
    """Run the CLI with ``argv`` in a fresh interpreter: its exit code, the heavy modules it loaded, its output."""
    code = ("import json, sys\nfrom samordning.cli import main\ntry:\n    rc = main(sys.argv[1:])\n"
            "except SystemExit as exc:\n    rc = exc.code\n"
            f"heavy = sorted(m for m in sys.modules if m.startswith({HEAVY!r}))\n"
            "print(json.dumps([rc, heavy, 'sqlalchemy' in sys.modules]), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=False,
                          timeout=120)
    rc, heavy, sqlalchemy = json.loads(done.stderr.strip().splitlines()[-1])
    return rc, heavy + (["sqlalchemy"] if sqlalchemy else []), done.stdout


def test_help_and_a_refused_argument_load_nothing_heavy() -> None:
    assert _loaded_after(["--help"])[:2] == (0, [])
    assert _loaded_after(["quarters", "--nope"])[:2] == (2, [])


def test_quarters_runs_without_pandas(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    subprocess.run([sys.executable, "-m", "samordning.cli", "demo", "--db", str(db)], check=True,
                   capture_output=True, timeout=300)
    rc, heavy, out = _loaded_after(["quarters", "--json", "--db", str(db)])
    assert (rc, heavy) == (0, ["sqlalchemy"])  # the database, and nothing else heavy
    records = json.loads(out)
    # The demo's nine months, 2 910 985,95 kr, against three planned advances of 1 329 750 kr.
    assert [r["advance"] for r in records] == [1_329_750, 1_329_750, 1_329_750]
    assert round(sum(r["actual"] for r in records), 2) == 2_910_985.95
    assert records[-1]["balance"] == 1_078_264.05


@pytest.fixture
def agreement() -> Agreement:
    return load_agreement(AGREEMENT)


def _demo_with_money(url: str, agreement: Agreement, folder: Path) -> Store:
    store = Store.open(url)
    for path in write_examples(folder / "exempel"):
        import_export(store, agreement, path.name, path.read_bytes(), user="controller")
    store.add_payment(agreement_id=agreement.id, quarter="2023Q2", amount_ore=130_000_000, invoice_no="F-2",
                      invoiced_on=dt.date(2023, 3, 20), paid_on=dt.date(2023, 4, 3), user="controller")
    store.add_withholding(agreement_id=agreement.id, area="social", amount_ore=40_000_000, reason="Tvist",
                          withheld_on=dt.date(2023, 8, 15), cap_ore=132_975_000, clause="§10", user="c")
    wid = store.add_withholding(agreement_id=agreement.id, area="arbete", amount_ore=10_000_000, reason="Tvist",
                                withheld_on=dt.date(2023, 2, 1), cap_ore=132_975_000, clause="§10", user="c")
    store.release_withholding(agreement.id, wid, dt.date(2023, 5, 10), user="c")
    return store


def test_the_plain_table_is_the_frame(db_url: str, agreement: Agreement, tmp_path: Path) -> None:  # noqa: F811
    store = _demo_with_money(db_url, agreement, tmp_path)
    figures = Figures.load(store, agreement)
    for by_area in (False, True):
        plain = [dataclasses.asdict(r) for r in quarter_table(store, agreement, by_area=by_area)]
        if not by_area:
            plain = [{k: v for k, v in r.items() if k != "area"} for r in plain]
        assert plain == figures.quarterly(by_area=by_area).to_dict("records")
    table = quarter_table(store, agreement)
    # Q1: 1 329 750 − 100 000 withheld; Q2: the registered 1 300 000 + 100 000 released; Q3: 1 329 750 − 400 000.
    assert [r.advance_ore for r in table] == [122_975_000, 140_000_000, 92_975_000]
    assert [r.withheld_ore for r in table] == [10_000_000, -10_000_000, 40_000_000]
    assert table[-1].balance_ore == 355_950_000 - 291_098_595
    by_area = {(r.quarter, r.area): r for r in quarter_table(store, agreement, by_area=True)}
    assert by_area[("2023Q1", "arbete")].advance_ore == 66_487_500 - 10_000_000
    assert by_area[("2023Q3", "social")].advance_ore == 66_487_500 - 40_000_000
    assert sum(r.variance_ore for r in by_area.values()) == 355_950_000 - 291_098_595
