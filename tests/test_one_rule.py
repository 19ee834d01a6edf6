"""One rule for registered payments and withholdings (§6, §10): the key figures, the what-if, the quarterly
tables, the report and ``quarters --json`` give the same förskott, kvarstående medel and återbetalning.

Hand-worked from RUN/305/2022 and the demo's exports (nine months booked, 2 910 985,95 kr):
- advances: Q1 1 329 750 kr (plan), Q2 1 300 000 kr (registered payment), Q3 1 329 750 kr (plan) = 3 959 500 kr;
- 400 000 kr withheld from Social välfärd on 2023-08-15 (Q3), not released: advances 3 559 500 kr;
- kvarstående medel = 3 559 500 − 2 910 985,95 = 648 514,05 kr; nothing remains to forecast, so the projected
  repayment is the same 648 514,05 kr;
- Q3: advance 1 329 750 − 400 000 = 929 750 kr; Social välfärd's Q3 advance 664 875 − 400 000 = 264 875 kr.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from samordning.agreement import Agreement, load_agreement
from samordning.cli import main
from samordning.demo import write_examples
from samordning.followup import advances, figure, forecast, key_figures, quarterly, what_if
from samordning.imports import classified_rows, import_export
from samordning.report import build_report
from samordning.store import Store

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT = ROOT / "data" / "avtal" / "RUN-305-2022.toml"
UNSPENT = 64_851_405  # 648 514,05 kr


@pytest.fixture(scope="module")
def agreement() -> Agreement:
    return load_agreement(AGREEMENT)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, agreement: Agreement) -> Path:
    folder = tmp_path_factory.mktemp("one-rule")
    store = Store.open(folder / "demo.db")
    for path in write_examples(folder / "exempel"):
        import_export(store, agreement, path.name, path.read_bytes(), user="controller")
    store.add_payment(agreement_id=agreement.id, quarter="2023Q2", amount_ore=130_000_000, invoice_no="F-2",
                      invoiced_on=dt.date(2023, 3, 20), paid_on=dt.date(2023, 4, 3), user="controller")
    return folder / "demo.db"


def test_a_withholding_enters_every_figure_the_same_way(db: Path, agreement: Agreement,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    store = Store.open(db)
    rows, payments = classified_rows(store, agreement), store.payments(agreement.id)
    fc = forecast(agreement, rows, payments=payments)
    assert fc.actual_ore == 291_098_595 and fc.remaining_months == 0
    # The what-if, before anything is withheld: 3 959 500 − 2 910 985,95 = 1 048 514,05 kr, then 648 514,05 kr.
    w = what_if(agreement, "social", 40_000_000, payments=payments, withholdings=store.withholdings(agreement.id),
                fc=fc, on=dt.date(2023, 8, 15))
    assert (w.unspent_ore, w.repayment_ore) == (104_851_405, 104_851_405)
    assert (w.unspent_after_ore, w.repayment_after_ore) == (UNSPENT, UNSPENT)

    wid = store.add_withholding(agreement_id=agreement.id, area="social", amount_ore=40_000_000, reason="Tvist",
                                withheld_on=dt.date(2023, 8, 15), cap_ore=132_975_000, clause="§10", user="c")
    held = store.withholdings(agreement.id)
    # Key figures (Översikt).
    figures = key_figures(agreement, rows, payments, held)
    assert figure(figures, "advanced") == 355_950_000
    assert figure(figures, "unspent") == UNSPENT and figure(figures, "repayment") == UNSPENT
    assert figure(figures, "withheld") == 40_000_000
    # The quarterly tables (Kvartal, Områden).
    table = quarterly(agreement, rows, payments=payments, withholdings=held).set_index("quarter")
    assert table["advance_ore"].tolist() == [132_975_000, 130_000_000, 92_975_000]
    assert table["withheld_ore"].tolist() == [0, 0, 40_000_000]
    assert int(table["balance_ore"].iloc[-1]) == UNSPENT
    by_area = quarterly(agreement, rows, by_area=True, payments=payments, withholdings=held)
    by_area = by_area.set_index(["quarter", "area"])
    assert by_area.loc[("2023Q3", "social"), "advance_ore"] == 26_487_500
    assert int(by_area["variance_ore"].sum()) == UNSPENT
    # The report.
    report = build_report(store, agreement, "2023Q3")
    assert figure(report.figures, "unspent") == UNSPENT and report.forecast.repayment_ore == UNSPENT
    assert int(report.quarters["balance_ore"].iloc[-1]) == UNSPENT
    # samordning quarters --json.
    assert main(["quarters", "--json", "--db", str(db)]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records[-1]["balance"] == 648_514.05 and records[-1]["withheld"] == 400_000
    assert sum(r["advance"] for r in records) == 3_559_500
    # A what-if on top of it starts from the same figures.
    again = what_if(agreement, "arbete", 10_000_000, payments=payments, withholdings=held, fc=fc)
    assert (again.unspent_ore, again.repayment_ore) == (UNSPENT, UNSPENT)

    # Released in September: back in Q3, and every figure is as before the withholding.
    store.release_withholding(agreement.id, wid, dt.date(2023, 9, 20), user="c")
    released = store.withholdings(agreement.id)
    assert figure(key_figures(agreement, rows, payments, released), "unspent") == 104_851_405
    assert advances(agreement, payments, released)["withheld_ore"].tolist() == [0, 0, 0]
