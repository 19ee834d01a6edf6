"""Storage: uploads with their original bytes and the ledger rows read from them.

SQLite is the embedded default; any SQLAlchemy URL (PostgreSQL for a shared store) goes through the
same code. The schema is versioned with Alembic and upgraded in place when a store is opened.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from samordning.errors import SamordningError

DB_ENV = "SAMORDNING_DB"

metadata = sa.MetaData()
uploads = sa.Table(
    "uploads", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("agreement_id", sa.String(64), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("uploaded_by", sa.String(128), nullable=False),
    sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sheet", sa.String(255), nullable=False),
    sa.Column("header_row", sa.Integer, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
)
ledger_rows = sa.Table(
    "ledger_rows", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("upload_id", sa.Integer, sa.ForeignKey("uploads.id"), nullable=False),
    sa.Column("sheet", sa.String(255), nullable=False),
    sa.Column("excel_row", sa.Integer, nullable=False),
    sa.Column("booking_date", sa.Date),
    sa.Column("period", sa.String(7)),
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("cost_centre", sa.String(64), nullable=False),
    sa.Column("activity", sa.String(64), nullable=False),
    sa.Column("project", sa.String(64), nullable=False),
    sa.Column("counterpart", sa.String(64), nullable=False),
    sa.Column("voucher", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("amount_ore", sa.BigInteger, nullable=False),
    sa.Column("row_kind", sa.String(8), nullable=False),
)
ROW_COLUMNS = [c.name for c in ledger_rows.columns if c.name not in ("id", "upload_id")]


def default_db_path() -> Path:
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "samordning" / "samordning.db"


def resolve_url(db: str | Path | None) -> str:
    """``--db`` (a path or an SQLAlchemy URL), else ``$SAMORDNING_DB``, else the user's data folder."""
    db = db or os.environ.get(DB_ENV) or default_db_path()
    text = str(db)
    if "://" in text:
        return text
    path = Path(text).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = sa.create_engine(url)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise SamordningError(f"Databasadressen {url!r} går inte att använda: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.upgrade()

    @classmethod
    def open(cls, db: str | Path | None = None) -> Store:
        return cls(resolve_url(db))

    def upgrade(self) -> None:
        """Bring the schema to the newest version (creates it in an empty database)."""
        config = Config()
        config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        try:
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except sa.exc.OperationalError as exc:
            raise SamordningError(f"Databasen {self.engine.url!r} kan inte öppnas: {exc.orig}") from exc

    # -- uploads --------------------------------------------------------------------------------

    def find_upload(self, agreement_id: str, sha256: str) -> int | None:
        with self.engine.connect() as conn:
            return conn.scalar(sa.select(uploads.c.id).where(
                uploads.c.agreement_id == agreement_id, uploads.c.sha256 == sha256))

    def add_upload(self, *, agreement_id: str, filename: str, content: bytes, sha256: str, user: str,
                   sheet: str, header_row: int, rows: pd.DataFrame) -> int:
        """Store an upload and its rows in one transaction: all of it lands, or nothing does."""
        with self.engine.begin() as conn:
            upload_id = conn.execute(uploads.insert().values(
                agreement_id=agreement_id, sha256=sha256, filename=filename, uploaded_by=user,
                uploaded_at=dt.datetime.now(dt.UTC), sheet=sheet, header_row=header_row,
                size_bytes=len(content), content=content, status="active",
            )).inserted_primary_key[0]
            records = rows[ROW_COLUMNS].astype(object).where(rows[ROW_COLUMNS].notna(), None)
            records.insert(0, "upload_id", upload_id)
            if len(records):
                conn.execute(ledger_rows.insert(), records.to_dict("records"))
        return int(upload_id)

    def uploads(self, agreement_id: str) -> pd.DataFrame:
        query = (sa.select(uploads.c.id, uploads.c.sha256, uploads.c.filename, uploads.c.uploaded_by,
                           uploads.c.uploaded_at, uploads.c.sheet, uploads.c.size_bytes, uploads.c.status)
                 .where(uploads.c.agreement_id == agreement_id).order_by(uploads.c.id))
        with self.engine.connect() as conn:
            return pd.read_sql(query, conn)

    def ledger(self, agreement_id: str) -> pd.DataFrame:
        """All ledger rows of the agreement's active uploads, with the upload's file name."""
        query = (sa.select(ledger_rows.c.upload_id, uploads.c.filename, *[ledger_rows.c[c] for c in ROW_COLUMNS])
                 .join(uploads, uploads.c.id == ledger_rows.c.upload_id)
                 .where(uploads.c.agreement_id == agreement_id, uploads.c.status == "active")
                 .order_by(ledger_rows.c.id))
        with self.engine.connect() as conn:
            frame = pd.read_sql(query, conn)
        frame["amount_ore"] = frame["amount_ore"].astype("int64")
        return frame
