"""Money is integer öre; Swedish formatting; splitting never loses or creates an öre."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from samordning.money import format_kr, format_percent, kr_to_ore, share_of, signed_kr, split


def test_format_kr_is_swedish() -> None:
    assert format_kr(132_975_000) == "1 329 750 kr"
    assert format_kr(95_962_741, ore_precision=True) == "959 627,41 kr"
    assert format_kr(-123_456, ore_precision=True) == "\u22121 234,56 kr"  # the minus sign, not a hyphen
    assert format_kr(132_975_001, exact=True) == "1 329 750,01 kr" and format_kr(1, exact=True) == "0,01 kr"
    assert format_kr(-49) == "0 kr"  # rounds to zero: no sign
    assert format_kr(132_975_000, nbsp=True) == "1\u00a0329\u00a0750\u00a0kr"
    assert format_kr(50) == "1 kr"  # 0,50 kr rounds half up to whole kronor
    assert format_percent(0.7217) == "72 %"


def test_signed_kr_always_writes_the_sign() -> None:
    assert signed_kr(37_012_300) == "+370 123 kr"
    assert signed_kr(-1_200) == "−12 kr"
    assert signed_kr(0) == "±0 kr"
    assert signed_kr(-123_456, ore_precision=True) == "−1 234,56 kr"


def test_kr_to_ore_is_exact_and_refuses_fractions_of_an_ore() -> None:
    assert kr_to_ore(Decimal("5319000.00")) == 531_900_000
    assert kr_to_ore("1329750.5") == 132_975_050
    assert kr_to_ore(12) == 1_200
    with pytest.raises(ValueError, match="delar av ett öre"):
        kr_to_ore("0.001")
    with pytest.raises(ValueError, match="inte ett belopp"):
        kr_to_ore("tolv")


def test_share_of_rounds_half_up() -> None:
    assert share_of(531_900_000, Fraction(1, 4)) == 132_975_000
    assert share_of(3, Fraction(1, 2)) == 2


@given(st.integers(min_value=-10**12, max_value=10**12),
       st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=6))
def test_split_parts_add_up_to_the_whole(ore: int, weights: list[int]) -> None:
    total = sum(weights)
    parts = split(ore, [Fraction(w, total) for w in weights])
    assert sum(parts) == ore
    assert all(abs(p - Fraction(ore * w, total)) < 1 for p, w in zip(parts, weights, strict=True))


@pytest.mark.parametrize(("text", "ore"), [("250 000", 25_000_000), ("1\u00a0329\u00a0750,50 kr", 132_975_050),
                                           ("250000,5", 25_000_050), ("0,01", 1)])
def test_parse_kr_reads_amounts_as_people_type_them(text: str, ore: int) -> None:
    from samordning.money import parse_kr

    assert parse_kr(text) == ore


@pytest.mark.parametrize("text", ["tusen", "", "12 kr 50"])
def test_parse_kr_refuses_what_is_not_an_amount(text: str) -> None:
    from samordning.errors import SamordningError
    from samordning.money import parse_kr

    with pytest.raises(SamordningError, match="kan inte läsas som ett belopp"):
        parse_kr(text)


@pytest.mark.parametrize("text", ["0", "-5", "−1 000", "(12)"])
def test_a_payment_or_withholding_is_more_than_zero(text: str) -> None:
    """One rule for the CLI and the dashboard (samordning.rules, applied by the store): more than zero."""
    from samordning.errors import SamordningError
    from samordning.money import parse_kr
    from samordning.rules import amount

    with pytest.raises(SamordningError, match="större än 0 kr"):
        amount(parse_kr(text), "betalningen")


def test_local_time_is_stockholm_time_of_a_utc_stamp() -> None:
    from samordning.localtime import local_time

    assert local_time("2023-10-02T12:05:00") == "2023-10-02 14:05"        # summer time, UTC+2
    assert local_time("2023-12-31T23:30:00+00:00") == "2024-01-01 00:30"  # winter time, UTC+1
