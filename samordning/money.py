"""Money is integer öre everywhere; this module converts at the edges and formats for Swedish readers."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

from babel.numbers import format_decimal

from samordning.errors import SamordningError

ORE_PER_KR = 100
NBSP = "\u00a0"


def kr_to_ore(value: Decimal | int | str) -> int:
    """Exact kronor (``Decimal("1329750.50")``, ``5319000``, ``"12.5"``) to integer öre.

    Refuses amounts with fractions of an öre instead of rounding them silently.
    """
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"inte ett belopp: {value!r}") from exc
    ore = amount * ORE_PER_KR
    if ore != ore.to_integral_value():
        raise ValueError(f"beloppet {value!r} har delar av ett öre")
    return int(ore)


def share_of(ore: int, fraction: Fraction) -> int:
    """``fraction`` of an amount in öre, rounded half up to the öre."""
    return _round_half_up(Fraction(ore) * fraction)


def _round_half_up(value: Fraction) -> int:
    floor = value.numerator // value.denominator
    return floor + (1 if value - floor >= Fraction(1, 2) else 0)


def split(ore: int, fractions: list[Fraction]) -> list[int]:
    """Split an amount by fractions so that the parts add up to ``round(ore * sum)`` exactly.

    Largest-remainder rounding: no öre appears or disappears between the whole and its parts.
    """
    exact = [Fraction(ore) * f for f in fractions]
    parts = [e.numerator // e.denominator for e in exact]
    missing = _round_half_up(sum(exact, Fraction(0))) - sum(parts)
    by_remainder = sorted(range(len(exact)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in by_remainder[:missing]:
        parts[i] += 1
    return parts


def format_kr(ore: int, *, ore_precision: bool = False, nbsp: bool = False, unit: bool = True) -> str:
    """``132975000`` → ``"1 329 750 kr"``; Swedish grouping, decimal comma.

    Whole kronor by default (the council reads whole kronor); ``ore_precision`` shows the öre.
    ``nbsp`` keeps the groups together on screen; the default uses plain spaces for terminals.
    """
    amount = Decimal(ore) / ORE_PER_KR
    pattern = "#,##0.00" if ore_precision else "#,##0"
    if not ore_precision:
        amount = amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    text = format_decimal(amount, format=pattern, locale="sv_SE")
    text = text.replace(NBSP, " ").replace("\u202f", " ")
    if unit:
        text += " kr"
    return text.replace(" ", NBSP) if nbsp else text


def signed_kr(ore: int, *, ore_precision: bool = False) -> str:
    """``+370 123 kr`` / ``−12 kr`` / ``±0 kr``: the sign is always written, so a variance reads without colour."""
    return ("+" if ore > 0 else "−" if ore < 0 else "±") + format_kr(abs(int(ore)), ore_precision=ore_precision)


def format_percent(ratio: float | None, decimals: int = 0) -> str:
    """``0.5`` → ``"50 %"`` (Swedish puts a space before the per cent sign)."""
    if ratio is None:
        return "–"
    text = format_decimal(ratio * 100, format="#,##0" + ("." + "0" * decimals if decimals else ""), locale="sv_SE")
    return text.replace(NBSP, " ") + " %"


def parse_kr(text: str) -> int:
    """A payment or withholding amount as a person types it (``"250 000"``, ``"1 329 750,50 kr"``) to öre.

    One reader for the CLI and the dashboard: the amount is read like an amount cell of an export (the importer's
    own parser); text that is not an amount is refused with a Swedish message. Whether the amount is allowed
    (more than zero, within bounds) is decided by ``samordning.rules``, where the store applies it to every write.
    """
    import pandas as pd

    from samordning.ingest.values import read_amounts  # the importer's reader of amounts; money.py stays light

    amounts, bad, too_large = read_amounts(pd.Series([text], dtype=object))
    if too_large.iloc[0]:
        from samordning.rules import MAX_AMOUNT_ORE

        raise SamordningError(f"Beloppet {text!r} är orimligt stort; högst {format_kr(MAX_AMOUNT_ORE)} "
                              "kan registreras.")
    if bad.iloc[0] or pd.isna(amounts.iloc[0]):
        raise SamordningError(f"Beloppet {text!r} kan inte läsas som ett belopp; skriv till exempel "
                              "250 000 eller 250000,50.")
    return int(amounts.iloc[0])
