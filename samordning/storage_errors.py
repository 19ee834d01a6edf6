"""What the database can refuse that a user can act on — a damaged, read-only or missing SQLite file, a value
too long for PostgreSQL — turned into Swedish refusals at the engine (SQLAlchemy's ``handle_error`` event),
so the CLI (exit 2) and the dashboard say the same thing instead of reporting an unexpected error.

Also: a new SQLite file is created readable by its owner only (the ledger is not for every local user).
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

from samordning.errors import SamordningError

# sqlite3's messages (the library's own English texts) → what the user can do about it
_SQLITE = {
    "file is not a database": "filen är inte en databas, eller är skadad",
    "database disk image is malformed": "databasfilen är skadad",
    "attempt to write a readonly database": "databasen är skrivskyddad (filen eller mappen saknar skrivrätt)",
    "unable to open database file": "databasfilen kan inte öppnas (finns mappen, och får den läsas?)",
    "disk i/o error": "databasfilen kan inte läsas eller skrivas (diskfel)",
    "database or disk is full": "disken är full",
}


def translate(context: sa.engine.ExceptionContext) -> None:
    """``handle_error`` listener: raise a :class:`SamordningError` in place of an error the user can act on."""
    orig = context.original_exception
    text = str(orig).lower()
    url = context.engine.url if context.engine is not None else None
    if url is not None and url.get_backend_name() == "sqlite":
        for needle, meaning in _SQLITE.items():
            if needle in text:
                raise SamordningError(f"Databasen {url.database} kan inte användas: {meaning}. Inget har "
                                      "ändrats.") from orig
    if type(orig).__name__ == "StringDataRightTruncation":  # psycopg: VARCHAR(n) exceeded (a backstop)
        first = str(orig).splitlines()[0] if str(orig) else ""
        raise SamordningError(f"Ett värde är längre än databasen kan spara ({first}); inget har sparats.") from orig


def create_private(database: str | None) -> None:
    """Create a new SQLite file with mode 0600 (less if the umask says so) before SQLite creates it 0644;
    SQLite gives its -wal and -shm files the database file's mode."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists():
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # another process made it first
    except OSError as exc:
        raise SamordningError(f"Databasfilen {path} kan inte skapas: {exc.strerror}.") from exc
