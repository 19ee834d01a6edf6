"""Schema migrations: the store's schema brought to the newest Alembic revision in place, one process at a time."""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from samordning.errors import SamordningError

VERSIONS = Path(__file__).parent / "migrations" / "versions"


@contextlib.contextmanager
def _migration_lock(engine: sa.engine.Engine, conn: sa.engine.Connection) -> Iterator[None]:
    """One process migrates at a time (two servers may start against a new database together)."""
    if engine.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(b"samordning")})
    # SQLite: the writing transaction's BEGIN IMMEDIATE already serialises migrations
    yield


def at_head(engine: sa.engine.Engine) -> bool:
    """Whether the schema is already the newest (one query; spares every command loading Alembic)."""
    head = max(p.name.split("_")[0] for p in VERSIONS.glob("0*.py"))
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == head
    except sa.exc.DBAPIError:
        return False


def upgrade(engine: sa.engine.Engine) -> None:
    """Bring the schema to the newest version (creates it in an empty database)."""
    if at_head(engine):
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(VERSIONS.parent))
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as raw:
            if sqlite:
                # Alembic's batch mode rebuilds tables on SQLite; foreign keys must be off for that, and
                # the pragma only takes effect outside a transaction (Alembic's documented recipe).
                raw.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            try:
                with raw.execution_options(write=True).begin(), _migration_lock(engine, raw):
                    config.attributes["connection"] = raw
                    command.upgrade(config, "head")
            finally:
                if sqlite:
                    raw.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
    except sa.exc.DatabaseError as exc:
        raise SamordningError(f"Databasen {engine.url!r} kan inte öppnas: {exc.orig}") from exc
