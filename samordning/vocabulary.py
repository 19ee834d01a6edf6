"""Names the command line needs before it imports anything heavy: why a row is left out, the Swedish field
names of a column mapping by hand, and where the database lives. Standard library only, so that building
the parser (``samordning --help``, a refused argument) loads no pandas, SQLAlchemy or Alembic; the core
modules that own these names re-export them (``followup.REASONS``, ``ingest.CANONICAL_SV``, ``store.DB_ENV``)."""

from __future__ import annotations

import os
from pathlib import Path

# Why a row does not count, in the order the rules are applied (the first that matches wins).
REASONS: dict[str, str] = {
    "total": "Summarad rad i exporten (Summa/Totalt)",
    "outside_period": "Utanför avtalets giltighetstid",
    "not_cost": "Inte ett kostnadskonto",
    "no_area": "Ingen koppling till något område",
}

# The fields of a mapping by hand, by their Swedish names (``--column belopp=Netto``).
CANONICAL_SV = {"datum": "booking_date", "period": "period", "konto": "account", "ansvar": "cost_centre",
                "verksamhet": "activity", "projekt": "project", "motpart": "counterpart",
                "verifikation": "voucher", "text": "text", "belopp": "amount", "debet": "debit", "kredit": "credit"}

DB_ENV = "SAMORDNING_DB"


def default_db_path() -> Path:
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "samordning" / "samordning.db"


SHOWN_ENV = "SAMORDNING_AGREEMENTS"  # the agreements a served view may show (serve --agreements), comma-separated


def shown_ids(text: str | None) -> list[str] | None:
    """``serve --agreements``' list (``"ID,ID"``) as ids; None when not given (every stored agreement)."""
    ids = [part.strip() for part in (text or "").split(",") if part.strip()]
    return ids or None
