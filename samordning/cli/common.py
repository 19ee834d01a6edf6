"""What the subcommands share: the agreement and the store (imported when a command runs, never when the
parser is built), the checks of dates, quarters and areas as typed, and JSON output."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from samordning.errors import SamordningError

if TYPE_CHECKING:
    from samordning.agreement import Agreement
    from samordning.store import Store


def agreement_of(args: argparse.Namespace) -> Agreement:
    """The version in force of the agreement ``--agreement`` names in the store ``--db`` (an id, or a file that is
    adopted as :func:`samordning.agreements.adopt` says), or of the only one stored."""
    from samordning.agreements import resolve_agreement

    return resolve_agreement(args.agreement, args.db, getattr(args, "user", None))


def store_of(args: argparse.Namespace) -> Store:
    """The store ``--db`` names, created or upgraded."""
    from samordning.store import Store

    return Store.open(args.db)


def user_of(args: argparse.Namespace) -> str:
    """``--user``, else the logged-in user."""
    from samordning.imports import current_user

    return args.user or current_user()


def kronor(ore: int) -> float:
    """Öre as a JSON number of kronor. A float's shortest repr of ``ore / 100`` is the exact two-decimal
    amount for any sum a ledger holds (below 2**53 öre), so the JSON text is exact to the öre."""
    return ore / 100


def positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} är inte ett heltal större än noll")
    return int(text)


def parse_date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise SamordningError(f"Datumet {text!r} kan inte läsas; skriv ÅÅÅÅ-MM-DD, till exempel 2023-01-15.") from exc


def quarter(agreement: Agreement, text: str | None) -> str | None:
    if text is None:
        return None
    key = text.upper().replace(" ", "").replace("KV", "Q")
    if key not in agreement.quarters:
        raise SamordningError(f"Kvartalet {text!r} ligger inte inom avtalet; "
                              f"välj bland {', '.join(agreement.quarters)}.")
    return key


def area(agreement: Agreement, text: str | None) -> str | None:
    if text is None:
        return None
    for candidate in agreement.areas:
        if text.casefold() in (candidate.key.casefold(), candidate.name.casefold()):
            return candidate.key
    raise SamordningError(f"Området {text!r} finns inte; välj bland "
                          + ", ".join(f"{a.key} ({a.name})" for a in agreement.areas) + ".")


def day(value: object) -> str | None:
    """A stored date or timestamp as ``ÅÅÅÅ-MM-DD``; ``None`` when missing."""
    import pandas as pd

    return None if pd.isna(value) else str(value)[:10]


def optional_int(value: object) -> int | None:
    import pandas as pd

    return None if pd.isna(value) else int(value)


def _null_for_missing(data: object) -> object:
    """``data`` with every missing value (NaN, NaT, ``pd.NA``) as ``None``: JSON's ``null``, never ``NaN``
    (which is not JSON). pandas' missing values exist only where pandas is loaded, so it is never imported here:
    a command computed without pandas (``quarters``) prints through this too at no cost."""
    pd = sys.modules.get("pandas")
    if isinstance(data, dict):
        return {k: _null_for_missing(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_null_for_missing(v) for v in data]
    if (pd is not None and (data is pd.NA or data is pd.NaT)) or (isinstance(data, float) and math.isnan(data)):
        return None
    return data


def print_json(data: object) -> None:
    print(json.dumps(_null_for_missing(data), ensure_ascii=False, indent=2, default=str, allow_nan=False))


def check_writable(out: Path) -> None:
    """Refuse an output file that cannot be written before anything is made or stored (a finalized report
    would otherwise be stored while its copy fails)."""
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise SamordningError(f"Mappen {folder} finns inte; ange en fil i en befintlig mapp med --out.")
    if not os.access(folder, os.W_OK) or (out.exists() and (out.is_dir() or not os.access(out, os.W_OK))):
        raise SamordningError(f"Filen {out} kan inte skrivas (saknar skrivrätt, eller är en mapp).")
