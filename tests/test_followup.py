"""The follow-up engine with figures worked out by hand from the agreement files."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

from samordning.agreement import Agreement, load_agreement
from samordning.followup import (
    advance_plan,
    advances,
    classify,
    forecast,
    key_figures,
    quarterly,
    withholding_cap,
)
from samordning.money import share_of, split

ROOT = Path(__file__).resolve().parent.parent
RUN_305 = ROOT / "data" / "avtal" / "RUN-305-2022.toml"
TEST_7 = ROOT / "tests" / "data" / "avtal" / "TEST-7-2024.toml"


@pytest.fixture
def run305() -> Agreement:
    return load_agreement(RUN_305)


def rows(*items: tuple[str, str, str, int], kind: str = "data", dimension: str = "project") -> pd.DataFrame:
    """Ledger rows: (period, account, code of the mapped dimension, amount in öre)."""
    frame = pd.DataFrame([{"period": p, "account": a, dimension: c, "amount_ore": o, "row_kind": kind}
                          for p, a, c, o in items])
    for column in ("project", "cost_centre"):
        frame[column] = frame.get(column, "")
    return frame


def test_advance_plan_is_one_fourth_per_quarter(run305: Agreement) -> None:
    plan = advance_plan(run305)
    assert plan["quarter"].tolist() == ["2023Q1", "2023Q2", "2023Q3"]
    assert plan["advance_ore"].tolist() == [132_975_000] * 3  # 5 319 000 kr / 4 = 1 329 750 kr
    assert int(plan["advance_ore"].sum()) == 398_925_000      # 3 989 250 kr planned inside the validity


def test_registered_payment_replaces_the_plan_where_it_exists(run305: Agreement) -> None:
    payments = pd.DataFrame({"quarter": ["2023Q2", "2023Q2"], "amount_ore": [100_000_000, 29_000_000]})
    table = advances(run305, payments)
    assert table["advance_ore"].tolist() == [132_975_000, 129_000_000, 132_975_000]
    assert table["source"].tolist() == ["plan", "registrerad", "plan"]
    assert table["planned_ore"].tolist() == [132_975_000] * 3


def test_classify_gives_each_left_out_row_its_reason(run305: Agreement) -> None:
    frame = pd.concat([
        rows(("2023-02", "5011", "7301", 1_000_00), ("2022-12", "5011", "7301", 5_00),
             ("2023-02", "3610", "7301", -132_975_000), ("2023-02", "6110", "7399", 7_00)),
        rows(("2023-02", "", "", 999_00), kind="total"),
    ], ignore_index=True)
    out = classify(frame, run305)
    assert out["reason"].tolist() == ["", "outside_period", "not_cost", "no_area", "total"]
    assert out["area"].tolist()[0] == "social" and out["quarter"].tolist()[0] == "2023Q1"


def test_quarterly_variance_balance_and_utilisation(run305: Agreement) -> None:
    frame = classify(rows(("2023-01", "5011", "7301", 60_000_000), ("2023-03", "6110", "7302", 39_750_000),
                          ("2023-05", "5011", "7301", 132_975_000), ("2023-08", "7310", "7302", 50_00)),
                     run305)
    table = quarterly(run305, frame).set_index("quarter")
    # Q1: 1 329 750 − (600 000 + 397 500) = 332 250; Q2: 1 329 750 − 1 329 750 = 0; Q3: 1 329 750 − 50.
    assert table["actual_ore"].tolist() == [99_750_000, 132_975_000, 5_000]
    assert table["variance_ore"].tolist() == [33_225_000, 0, 132_970_000]
    assert table["balance_ore"].tolist() == [33_225_000, 33_225_000, 166_195_000]
    assert table.loc["2023Q1", "utilisation"] == pytest.approx(997_500 / 1_329_750)
    assert table.loc["2023Q2", "utilisation"] == 1.0

    by_area = quarterly(run305, frame, by_area=True).set_index(["quarter", "area"])
    # Each area's advance is half of 1 329 750 kr = 664 875 kr (the assumed 50/50 split).
    assert by_area.loc[("2023Q1", "social"), "advance_ore"] == 66_487_500
    assert by_area.loc[("2023Q1", "social"), "variance_ore"] == 66_487_500 - 60_000_000
    assert by_area.loc[("2023Q1", "arbete"), "variance_ore"] == 66_487_500 - 39_750_000
    assert int(by_area["actual_ore"].sum()) == int(table["actual_ore"].sum())


def test_forecast_for_a_half_spent_quarter(run305: Agreement) -> None:
    # Data up to February: 600 000 kr in January and February, nothing yet for March.
    frame = classify(rows(("2023-01", "5011", "7301", 30_000_000), ("2023-02", "5011", "7302", 30_000_000)),
                     run305)
    fc = forecast(run305, frame)
    # 600 000 kr over 2 months = 300 000 kr a month; 7 months remain of 9: 600 000 + 7 × 300 000 = 2 700 000 kr.
    assert (fc.as_of, fc.elapsed_months, fc.remaining_months) == ("2023-02", 2, 7)
    assert fc.monthly_average_ore == 30_000_000
    assert fc.forecast_ore == 270_000_000
    # Planned advances 3 989 250 kr − 2 700 000 kr = 1 289 250 kr to pay back (§6).
    assert fc.repayment_ore == 128_925_000 and fc.overspend_ore == 0
    assert fc.clause == "§6"


def test_forecast_beyond_the_advances_is_an_overspend(run305: Agreement) -> None:
    frame = classify(rows(("2023-01", "5011", "7301", 50_000_000)), run305)
    fc = forecast(run305, frame)
    assert fc.forecast_ore == 450_000_000       # 500 000 kr × 9 months
    assert fc.repayment_ore == 0
    assert fc.overspend_ore == 450_000_000 - 398_925_000


def test_withholding_cap_is_half_of_the_area_compensation(run305: Agreement) -> None:
    # §10: at most 50 % of the disputed area's compensation; 50 % × (50 % × 5 319 000 kr) = 1 329 750 kr.
    assert withholding_cap(run305, "social") == 132_975_000
    assert withholding_cap(run305, "arbete") == 132_975_000


def test_key_figures_each_carry_a_clause(run305: Agreement) -> None:
    frame = classify(rows(("2023-04", "5011", "7301", 100_000_000)), run305)
    figures = {f.key: f for f in key_figures(run305, frame)}
    assert figures["compensation"].ore == 531_900_000
    assert figures["advanced"].ore == 265_950_000     # two advances due by April
    assert figures["actual"].ore == 100_000_000
    assert figures["unspent"].ore == 165_950_000
    assert {f.clause for f in figures.values()} <= {"§6", "§7"}
    assert all(f.clause for f in figures.values())


def test_another_agreement_gets_its_own_figures() -> None:
    """Nothing about RUN/305/2022 is in the engine: a 1 200 000 kr agreement for 2024, four advances (the last
    written as an amount), three areas 50/30/20 mapped by cost centre, a §8 cap of 25 %."""
    a = load_agreement(TEST_7)
    frame = classify(rows(("2024-02", "5011", "900", 10_000_000), ("2024-11", "6510", "903", 2_000_000),
                          ("2024-06", "5011", "999", 1_00), dimension="cost_centre"), a)
    assert frame["reason"].tolist() == ["", "", "no_area"]
    table = quarterly(a, frame).set_index("quarter")
    assert table["advance_ore"].tolist() == [30_000_000] * 4  # 1 200 000 / 4
    assert table["balance_ore"].tolist() == [20_000_000, 50_000_000, 80_000_000, 108_000_000]
    by_area = quarterly(a, frame, by_area=True).set_index(["quarter", "area"])
    assert by_area.loc[("2024Q1", "natt"), "advance_ore"] == 15_000_000   # 50 % of 300 000
    assert by_area.loc[("2024Q1", "dag"), "advance_ore"] == 9_000_000     # 30 %
    assert by_area.loc[("2024Q4", "larm"), "actual_ore"] == 2_000_000
    assert withholding_cap(a, "natt") == 15_000_000                       # 25 % × 600 000 kr
    assert withholding_cap(a, "larm") == 6_000_000                        # 25 % × 240 000 kr
    assert forecast(a, frame).forecast_ore == 12_000_000 + share_of(12_000_000, Fraction(1, 11))


def test_split_keeps_every_ore() -> None:
    parts = split(100, [Fraction(1, 3)] * 3)
    assert sum(parts) == 100 and sorted(parts) == [33, 33, 34]
