"""The rules every stored change obeys, in one place: the store's write methods and the import pipeline call
them, so the CLI and the dashboard (which both pass through there) refuse exactly the same input, with the
same Swedish message.

Lengths are the schema's own (PostgreSQL enforces ``VARCHAR(n)``, SQLite does not): checking them here makes
both stores behave alike; tests/test_integrity.py keeps the numbers in step with the tables.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from samordning.errors import Problem, SamordningError
from samordning.money import format_kr

if TYPE_CHECKING:
    import pandas as pd

# One amount (a payment, a withholding) and an agreement's payments or withholdings together stay within
# ±10^12 kr: a thousand times any agreement's size, and ten thousand times below where a sum of int64 öre
# could wrap around (the bound is the importer's, for a single cell).
EARLIEST_DATE = dt.date(2000, 1, 1)
FUTURE_DAYS = 366                        # a date more than a year ahead is a typing error
NAME_LEN = 128                           # users, sign-off names and titles (VARCHAR(128))
INVOICE_LEN = 64
FILENAME_LEN = 255
# Ledger row fields stored as VARCHAR(64), with their Swedish field names as in the import summary.
ROW_LIMITS = {"account": 64, "cost_centre": 64, "activity": 64, "project": 64, "counterpart": 64, "voucher": 64}
ROW_NAMES = {"account": "konto", "cost_centre": "ansvar", "activity": "verksamhet", "project": "projekt",
             "counterpart": "motpart", "voucher": "verifikation"}


def text(value: str | None, what: str, limit: int | None = None, *, required: bool = True) -> str:
    """``value`` without surrounding spaces; refused when empty (if ``required``) or longer than ``limit``."""
    stripped = (value or "").strip()
    if required and not stripped:
        raise SamordningError(f"{what.capitalize()} saknas.")
    if limit is not None and len(stripped) > limit:
        raise SamordningError(f"{what.capitalize()} har {len(stripped)} tecken; högst {limit} tecken kan sparas.",
                              [Problem(f"{what} har för många tecken", value=stripped[:80] + "…")])
    return stripped


def user(value: str | None) -> str:
    """The name every change carries."""
    return text(value, "användarnamnet", NAME_LEN)


def max_amount_ore() -> int:
    """The bound of a single amount: the importer's for a cell of an export (imported when a change is checked,
    not when the store is opened: it loads the importer)."""
    from samordning.ingest.values import MAX_AMOUNT_ORE

    return MAX_AMOUNT_ORE


def __getattr__(name: str) -> int:
    """``rules.MAX_AMOUNT_ORE``, read from the importer when asked for (PEP 562)."""
    if name == "MAX_AMOUNT_ORE":
        return max_amount_ore()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def amount(ore: int, what: str) -> int:
    """A payment or withholding: more than 0 kr and at most :func:`max_amount_ore`."""
    ore, limit = int(ore), max_amount_ore()
    if ore <= 0:
        raise SamordningError(f"{what.capitalize()} måste vara större än 0 kr (angivet: "
                              f"{format_kr(ore, ore_precision=True)}).")
    if ore > limit:
        raise SamordningError(f"{what.capitalize()} {format_kr(ore)} är orimligt stort; högst "
                              f"{format_kr(limit)} kan registreras.")
    return ore


def total(stored_ore: int, added_ore: int, what: str) -> None:
    """Refuse an amount that would take the agreement's stored total past :func:`max_amount_ore` (so no sum
    of stored amounts can wrap)."""
    limit = max_amount_ore()
    if int(stored_ore) + int(added_ore) > limit:
        raise SamordningError(f"{what.capitalize()} för avtalet skulle tillsammans bli orimligt stora (över "
                              f"{format_kr(limit)}); inget har sparats.")


def date(value: dt.date | None, what: str, *, not_before: dt.date | None = None,
         not_before_what: str = "", today: dt.date | None = None) -> dt.date | None:
    """A date a person typed: not before 2000 (or ``not_before``) and not more than a year ahead."""
    if value is None:
        return None
    latest = (today or dt.date.today()) + dt.timedelta(days=FUTURE_DAYS)
    if value < EARLIEST_DATE or value > latest:
        raise SamordningError(f"{what.capitalize()} {value.isoformat()} är inte rimligt; det ska ligga mellan "
                              f"{EARLIEST_DATE.isoformat()} och {latest.isoformat()}.")
    if not_before is not None and value < not_before:
        raise SamordningError(f"{what.capitalize()} {value.isoformat()} ligger före {not_before_what} "
                              f"{not_before.isoformat()}.")
    return value


def payment(ore: int, invoiced_on: dt.date | None, paid_on: dt.date | None) -> None:
    amount(ore, "betalningens belopp")
    date(invoiced_on, "fakturadatum")
    date(paid_on, "betaldatum", not_before=invoiced_on, not_before_what="fakturadatum")


def port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise SamordningError(f"Porten {value} finns inte; ange en port mellan 1 och 65535.")
    return value


def row_lengths(rows: pd.DataFrame, filename: str, sheet: str, headers: dict[str, str]) -> list[Problem]:
    """Every ledger cell longer than the store keeps, named by file, sheet, Excel row, column and value.
    ``headers`` maps a field to its header as written in the file."""
    problems = []
    for field, limit in ROW_LIMITS.items():
        if field not in rows or rows.empty:
            continue
        lengths = rows[field].astype(str).str.len()
        for index in rows.index[lengths > limit]:
            value = str(rows.at[index, field])
            problems.append(Problem(f"{ROW_NAMES[field]} har {len(value)} tecken; högst {limit} kan sparas",
                                    file=filename, sheet=sheet, row=int(rows.at[index, "excel_row"]),
                                    column=headers.get(field, ROW_NAMES[field]), value=value))
    return sorted(problems, key=lambda p: p.row or 0)
