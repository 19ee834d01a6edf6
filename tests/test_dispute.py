"""The what-if of a dispute (§10 cap, unspent balance, repayment §6) and the per-area totals, worked out by hand
from RUN/305/2022: compensation 5 319 000 kr, two areas at an assumed 50 % each, cap 50 % of an area's share."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from samordning.agreement import Agreement, load_agreement
from samordning.followup import Forecast, area_totals, classify, quarterly, what_if, withheld

ROOT = Path(__file__).resolve().parent.parent
RUN_305 = ROOT / "data" / "avtal" / "RUN-305-2022.toml"


@pytest.fixture
def run305() -> Agreement:
    return load_agreement(RUN_305)


def withholdings(*items: tuple[str, int, str | None]) -> pd.DataFrame:
    return pd.DataFrame([{"area": a, "amount_ore": o, "withheld_on": "2023-04-03", "released_on": r}
                         for a, o, r in items], columns=["area", "amount_ore", "withheld_on", "released_on"])


# Three advances of 1 329 750 kr = 3 989 250 kr; nine months booked, 2 910 985,95 kr: the demo's figures.
FULL_YEAR = Forecast(as_of="2023-09", elapsed_months=9, remaining_months=0, actual_ore=291_098_595,
                     monthly_average_ore=32_344_288, forecast_ore=291_098_595, planned_advances_ore=398_925_000,
                     repayment_ore=107_826_405, overspend_ore=0, clause="§6")


def test_withholding_within_the_cap_lowers_balance_and_repayment(run305: Agreement) -> None:
    w = what_if(run305, "social", 50_000_000, payments=None, withholdings=withholdings(), fc=FULL_YEAR)
    assert w.cap_ore == 132_975_000  # 50 % × 50 % × 5 319 000 kr = 1 329 750 kr
    assert w.within_cap and w.over_cap_ore == 0 and w.held_ore == 0
    # 1 078 264,05 kr − 500 000 kr = 578 264,05 kr, for the balance and for the projected repayment.
    assert (w.unspent_after_ore, w.repayment_after_ore) == (57_826_405, 57_826_405)
    assert (w.cap_clause, w.repayment_clause) == ("§10", "§6")


def test_withholding_counts_what_is_already_held_and_not_released(run305: Agreement) -> None:
    held = withholdings(("social", 100_000_000, None), ("social", 40_000_000, "2023-05-01"),
                        ("arbete", 90_000_000, None))
    assert withheld(held, "social") == 100_000_000  # the released 400 000 kr no longer counts
    w = what_if(run305, "social", 40_000_000, payments=None, withholdings=held, fc=FULL_YEAR)
    # 1 000 000 + 400 000 kr against the cap of 1 329 750 kr: 70 250 kr over.
    assert not w.within_cap and w.over_cap_ore == 7_025_000


def test_repayment_after_withholding_is_never_negative(run305: Agreement) -> None:
    w = what_if(run305, "social", 120_000_000, payments=None, withholdings=withholdings(), fc=FULL_YEAR)
    assert w.repayment_after_ore == 0 and w.unspent_after_ore == 107_826_405 - 120_000_000


def test_what_if_counts_what_is_withheld_already(run305: Agreement) -> None:
    """1 000 000 kr withheld already: the balance and the repayment are 78 264,05 kr before the what-if (not
    1 078 264,05 kr), and 500 000 kr more would make the balance −421 735,95 kr and the repayment 0."""
    held = withholdings(("social", 100_000_000, None))
    w = what_if(run305, "social", 50_000_000, payments=None, withholdings=held, fc=FULL_YEAR)
    assert (w.unspent_ore, w.repayment_ore) == (7_826_405, 7_826_405)
    assert (w.unspent_after_ore, w.repayment_after_ore) == (7_826_405 - 50_000_000, 0)


def test_area_totals_sum_the_quarters_per_area(run305: Agreement) -> None:
    ledger = pd.DataFrame({"period": ["2023-02", "2023-05", "2023-05"], "account": ["5011", "5011", "6510"],
                           "project": [run305.areas[0].codes[0], run305.areas[0].codes[0], "9999"],
                           "cost_centre": "", "amount_ore": [10_000, 20_000, 99_900], "row_kind": "data"})
    table = quarterly(run305, classify(ledger, run305), by_area=True)
    totals = area_totals(run305, table)
    assert list(totals.index) == [a.key for a in run305.areas]
    # Each area gets half of the three 1 329 750 kr advances: 3 × 664 875 kr; only the first area has actuals
    # (the 999 kr row maps to no area).
    assert totals["advance_ore"].tolist() == [199_462_500, 199_462_500]
    assert totals["actual_ore"].tolist() == [30_000, 0]
