"""Storage: uploads with their original bytes, the ledger rows read from them, their history, payments,
withholdings and comments — each belonging to one agreement (its versions: :mod:`samordning.agreements`).

SQLite is the embedded default (WAL, busy timeout); any SQLAlchemy URL (PostgreSQL for a shared store) goes
through the same code. The schema is versioned with Alembic and upgraded in place on open.

Corrections: an upload covers the months of its rows. A newer upload of the same agreement that covers a month
replaces the older uploads' rows of that month; the older upload stays, marked as (partly) replaced, and can be
reinstated, which in turn sets the newer rows of its months aside.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from samordning import ledger_insert, migrate, rules, storage_errors
from samordning.errors import SamordningError
from samordning.lazy import pandas as pd
from samordning.queries import in_force_condition
from samordning.schema import (  # noqa: F401  (re-exported: the tables were defined here before)
    ROW_COLUMNS,
    STORED_COLUMNS,
    agreement_versions,
    column_mappings,
    comments,
    final_reports,
    ledger_rows,
    metadata,
    payments,
    signoffs,
    upload_events,
    upload_months,
    uploads,
    withholdings,
)
from samordning.store_withholdings import WithholdingStore
from samordning.store_withholdings import now as _now
from samordning.store_withholdings import stored_total as _stored_total
from samordning.vocabulary import DB_ENV, default_db_path  # re-exported: the parser reads them lightly


def resolve_url(db: str | Path | None) -> str:
    """``--db`` (a path or an SQLAlchemy URL), else ``$SAMORDNING_DB``, else the user's data folder."""
    db = db or os.environ.get(DB_ENV) or default_db_path()
    text = str(db)
    if "://" in text:
        return text
    path = Path(text).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def agreement_lock_key(agreement_id: str) -> int:
    """A signed 64-bit advisory-lock key for an agreement's writes (PostgreSQL)."""
    digest = hashlib.sha256(b"samordning-agreement:" + agreement_id.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _none_for_null(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """SQL NULLs of text and date columns as ``None`` (pandas reads them as NaN beside strings, and NaN is
    truthy: "nan" on a page, ``NaN`` in JSON)."""
    for name in columns:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # SQLite's own lower() folds only ASCII; Python's folds Å, Ä and Ö as PostgreSQL does (a text search).
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)  # type: ignore[attr-defined]


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _sqlite_begin(conn: sa.engine.Connection) -> None:
    # A writing transaction takes the write lock when it begins, so two writers queue on the busy timeout
    # instead of failing when a reader upgrades to a writer ("database is locked" on a deferred BEGIN).
    # Readers begin deferred and read a snapshot (WAL) without waiting for writers.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


class Store(WithholdingStore):
    def __init__(self, url: str) -> None:
        self.url = url
        try:
            # hide_parameters: an error's text (and so fel.log) never holds the ledger rows being written
            self.engine = sa.create_engine(url, hide_parameters=True)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise SamordningError(f"Databasadressen {url!r} går inte att använda: {exc}") from exc
        sa.event.listen(self.engine, "handle_error", storage_errors.translate)
        if self.engine.dialect.name == "sqlite":
            storage_errors.create_private(self.engine.url.database)
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            # pysqlite's own transaction handling is off; we emit BEGIN ourselves (SQLAlchemy's recipe).
            sa.event.listen(self.engine, "connect", lambda c, _r: setattr(c, "isolation_level", None))
            sa.event.listen(self.engine, "begin", _sqlite_begin)
        self.upgrade()

    @classmethod
    def open(cls, db: str | Path | None = None) -> Store:
        return cls(resolve_url(db))

    @contextlib.contextmanager
    def _write(self, agreement_id: str | None = None) -> Iterator[sa.engine.Connection]:
        """A writing transaction: committed when the block ends, rolled back on any error.

        Every read-then-write decision of an agreement (month takeover, §10 cap, current text, finalized
        report) is serialised: SQLite's BEGIN IMMEDIATE queues all writers; on PostgreSQL the transaction first
        takes an advisory lock on the agreement (released at commit), so two writers of one agreement take
        turns and the second reads what the first committed (READ COMMITTED reads anew per statement)."""
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            if agreement_id is not None and conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": agreement_lock_key(agreement_id)})
            yield conn

    def upgrade(self) -> None:
        """Bring the schema to the newest version (creates it in an empty database)."""
        migrate.upgrade(self.engine)

    # -- uploads --------------------------------------------------------------------------------

    def find_upload(self, agreement_id: str, sha256: str) -> int | None:
        with self.engine.connect() as conn:
            return conn.scalar(sa.select(uploads.c.id).where(
                uploads.c.agreement_id == agreement_id, uploads.c.sha256 == sha256))

    def add_upload(self, *, agreement_id: str, filename: str, content: bytes, sha256: str, user: str,
                   sheet: str, header_row: int, rows: pd.DataFrame, summary: dict[str, object] | None = None
                   ) -> tuple[int, dict[str, list[int]]]:
        """Store an upload and its rows in one transaction: all of it lands, or nothing does.

        Returns the new id and, per month it covers, the older uploads whose rows of that month it replaces.
        """
        months = sorted({p for p in rows["period"].dropna()})
        user = rules.user(user)
        rules.text(filename, "filnamnet", rules.FILENAME_LEN)
        with self._write(agreement_id) as conn:
            upload_id = int(conn.execute(uploads.insert().values(
                agreement_id=agreement_id, sha256=sha256, filename=filename, uploaded_by=user,
                uploaded_at=_now(), sheet=sheet, header_row=header_row, size_bytes=len(content),
                content=content, summary=json.dumps(summary or {}, ensure_ascii=False),
            )).inserted_primary_key[0])
            if len(rows):
                ledger_insert.insert_rows(conn, upload_id, rows)
            replaced = self._take_months(conn, agreement_id, upload_id, months)
            if months:
                conn.execute(upload_months.insert(), [{"upload_id": upload_id, "period": m} for m in months])
            detail = "; ".join(f"{m}: ersätter uppladdning {', '.join(map(str, ids))}"
                               for m, ids in sorted(replaced.items()))
            conn.execute(upload_events.insert().values(upload_id=upload_id, action="imported", detail=detail,
                                                       by=user, at=_now()))
        return upload_id, replaced

    def months_in_force(self, agreement_id: str, months: list[str]) -> dict[str, list[int]]:
        """For each of ``months``, the uploads whose rows of that month are in force now."""
        if not months:
            return {}
        with self.engine.connect() as conn:
            current = conn.execute(
                sa.select(upload_months.c.upload_id, upload_months.c.period)
                .join(uploads, uploads.c.id == upload_months.c.upload_id)
                .where(uploads.c.agreement_id == agreement_id, upload_months.c.period.in_(months),
                       upload_months.c.replaced_by.is_(None)).order_by(upload_months.c.upload_id)).all()
        found: dict[str, list[int]] = {}
        for upload_id, period in current:
            found.setdefault(period, []).append(upload_id)
        return found

    def _take_months(self, conn: sa.engine.Connection, agreement_id: str, upload_id: int,
                     months: list[str]) -> dict[str, list[int]]:
        """Mark the active rows of other uploads in ``months`` as replaced by ``upload_id``."""
        if not months:
            return {}
        current = conn.execute(
            sa.select(upload_months.c.upload_id, upload_months.c.period)
            .join(uploads, uploads.c.id == upload_months.c.upload_id)
            .where(uploads.c.agreement_id == agreement_id, uploads.c.id != upload_id,
                   upload_months.c.period.in_(months), upload_months.c.replaced_by.is_(None))
        ).all()
        replaced: dict[str, list[int]] = {}
        for other, period in current:
            replaced.setdefault(period, []).append(other)
            conn.execute(upload_months.update()
                         .where(upload_months.c.upload_id == other, upload_months.c.period == period)
                         .values(replaced_by=upload_id))
        return replaced

    def reinstate(self, agreement_id: str, upload_id: int, user: str) -> dict[str, list[int]]:
        """Bring a replaced upload back for all its months; the uploads that replaced it step aside there."""
        user = rules.user(user)
        with self._write(agreement_id) as conn:
            exists = conn.scalar(sa.select(uploads.c.id).where(uploads.c.id == upload_id,
                                                               uploads.c.agreement_id == agreement_id))
            if exists is None:
                raise SamordningError(f"Uppladdning {upload_id} finns inte för avtal {agreement_id}.")
            months = list(conn.scalars(sa.select(upload_months.c.period)
                                       .where(upload_months.c.upload_id == upload_id)))
            stepped_aside = self._take_months(conn, agreement_id, upload_id, months)
            conn.execute(upload_months.update().where(upload_months.c.upload_id == upload_id)
                         .values(replaced_by=None))
            detail = "; ".join(f"{m}: ersätter uppladdning {', '.join(map(str, ids))}"
                               for m, ids in sorted(stepped_aside.items()))
            conn.execute(upload_events.insert().values(upload_id=upload_id, action="reinstated",
                                                       detail=detail, by=user, at=_now()))
        return stepped_aside

    def uploads(self, agreement_id: str) -> pd.DataFrame:
        """The upload history: one row per upload with its months, the months still in force, and its status
        (``aktiv``, ``delvis ersatt``, ``ersatt``)."""
        query = (sa.select(uploads.c.id, uploads.c.sha256, uploads.c.filename, uploads.c.uploaded_by,
                           uploads.c.uploaded_at, uploads.c.sheet, uploads.c.header_row, uploads.c.size_bytes,
                           uploads.c.summary)
                 .where(uploads.c.agreement_id == agreement_id).order_by(uploads.c.id))
        months_q = (sa.select(upload_months).join(uploads, uploads.c.id == upload_months.c.upload_id)
                    .where(uploads.c.agreement_id == agreement_id))
        with self.engine.connect() as conn:
            frame = pd.read_sql(query, conn)
            months = pd.read_sql(months_q, conn)
        by_upload = months.groupby("upload_id")
        frame["periods"] = frame["id"].map(by_upload["period"].apply(sorted)).apply(
            lambda v: v if isinstance(v, list) else [])
        active = months[months["replaced_by"].isna()].groupby("upload_id")["period"].apply(sorted)
        frame["active_periods"] = frame["id"].map(active).apply(lambda v: v if isinstance(v, list) else [])
        frame["status"] = [
            "aktiv" if len(a) == len(p) else ("ersatt" if not a else "delvis ersatt")
            for a, p in zip(frame["active_periods"], frame["periods"], strict=True)
        ]
        frame["summary"] = frame["summary"].map(json.loads)
        frame["uploaded_at"] = pd.to_datetime(frame["uploaded_at"], utc=True)
        return frame

    def upload_content(self, agreement_id: str, upload_id: int) -> tuple[str, bytes]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(uploads.c.filename, uploads.c.content).where(
                uploads.c.id == upload_id, uploads.c.agreement_id == agreement_id)).first()
        if row is None:
            raise SamordningError(f"Uppladdning {upload_id} finns inte för avtal {agreement_id}.")
        return row.filename, bytes(row.content)

    def events(self, agreement_id: str) -> pd.DataFrame:
        query = (sa.select(upload_events).join(uploads, uploads.c.id == upload_events.c.upload_id)
                 .where(uploads.c.agreement_id == agreement_id).order_by(upload_events.c.id))
        with self.engine.connect() as conn:
            frame = pd.read_sql(query, conn)
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame

    def rows_in_force(self, agreement_id: str, upload_id: int | None = None) -> pd.DataFrame:
        """Every stored ledger row in force for an agreement (rows of replaced months are left out), as stored —
        not classified — with the upload's id and file name. With ``upload_id``: all rows of that upload, in
        force or not, and ``in_force``. It holds every row: the engine (:mod:`samordning.figures`,
        :mod:`samordning.queries`) sums and streams them in the database instead."""
        in_force = in_force_condition()
        query = (sa.select(ledger_rows.c.upload_id, uploads.c.filename, *[ledger_rows.c[c] for c in STORED_COLUMNS],
                           in_force.label("in_force"))
                 .join(uploads, uploads.c.id == ledger_rows.c.upload_id)
                 .where(uploads.c.agreement_id == agreement_id)
                 .order_by(ledger_rows.c.id))
        query = query.where(ledger_rows.c.upload_id == upload_id) if upload_id is not None else query.where(in_force)
        with self.engine.connect() as conn:
            frame = pd.read_sql(query, conn)
        frame["amount_ore"] = frame["amount_ore"].astype("int64")
        frame["in_force"] = frame["in_force"].astype(bool)
        frame["dimensions"] = [json.loads(d) if isinstance(d, str) else None for d in frame["dimensions"]]
        return _none_for_null(frame, "period")

    # -- payments and withholdings -------------------------------------------------------------------

    def add_payment(self, *, agreement_id: str, quarter: str, amount_ore: int, invoice_no: str,
                    invoiced_on: dt.date | None, paid_on: dt.date | None, user: str, note: str = "") -> int:
        """Register an advance invoiced or paid (refused by :mod:`samordning.rules` when implausible)."""
        rules.payment(amount_ore, invoiced_on, paid_on)
        invoice_no = rules.text(invoice_no, "fakturanumret", rules.INVOICE_LEN)
        user = rules.user(user)
        with self._write(agreement_id) as conn:
            rules.total(_stored_total(conn, payments, agreement_id), amount_ore, "betalningarna")
            return int(conn.execute(payments.insert().values(
                agreement_id=agreement_id, quarter=quarter, invoice_no=invoice_no, invoiced_on=invoiced_on,
                paid_on=paid_on, amount_ore=amount_ore, note=note, by=user, at=_now())).inserted_primary_key[0])

    def payments(self, agreement_id: str) -> pd.DataFrame:
        with self.engine.connect() as conn:
            frame = pd.read_sql(sa.select(payments).where(payments.c.agreement_id == agreement_id)
                                .order_by(payments.c.quarter, payments.c.id), conn)
        frame["amount_ore"] = frame["amount_ore"].astype("int64")
        return frame

    def revision(self, agreement_id: str) -> tuple[int, ...]:
        """A cheap fingerprint (one query) of all stored for an agreement — uploads, reverts, payments, withholdings,
        releases, comments, sign-offs, finalized reports, versions — so a view loaded earlier knows if it is stale."""
        def top(table: sa.Table) -> sa.ScalarSelect:
            return sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0)).where(
                table.c.agreement_id == agreement_id).scalar_subquery()

        released = sa.select(sa.func.count()).select_from(withholdings).where(
            withholdings.c.agreement_id == agreement_id, withholdings.c.released_on.is_not(None)).scalar_subquery()
        events = sa.select(sa.func.coalesce(sa.func.max(upload_events.c.id), 0)).join_from(
            upload_events, uploads, upload_events.c.upload_id == uploads.c.id).where(
            uploads.c.agreement_id == agreement_id).scalar_subquery()
        query = sa.select(top(uploads), events, top(payments), top(withholdings), top(comments), released,
                          top(signoffs), top(final_reports), top(agreement_versions))
        with self.engine.connect() as conn:
            return tuple(int(v) for v in conn.execute(query).one())

    # -- comments -----------------------------------------------------------------------------------

    def add_comment(self, *, agreement_id: str, text: str, author: str, quarter: str | None = None,
                    area: str | None = None, kind: str = "variance") -> int:
        """A comment on a quarter, an area, or both; a new one on the same target supersedes the current one
        (which stays in the history). ``kind`` is "variance" (explains a variance) or "narrative" (reports
        back on the assignment, §7)."""
        text = rules.text(text, "texten")
        author = rules.user(author)
        with self._write(agreement_id) as conn:
            current = conn.scalar(sa.select(comments.c.id).where(
                comments.c.agreement_id == agreement_id, comments.c.kind == kind,
                comments.c.quarter.is_(None) if quarter is None else comments.c.quarter == quarter,
                comments.c.area.is_(None) if area is None else comments.c.area == area,
                ~sa.exists().where(comments.alias("newer").c.supersedes == comments.c.id),
            ).order_by(comments.c.id.desc()).limit(1))
            return int(conn.execute(comments.insert().values(
                agreement_id=agreement_id, quarter=quarter, area=area, text=text, author=author, at=_now(),
                supersedes=current, kind=kind)).inserted_primary_key[0])

    def comments(self, agreement_id: str, *, history: bool = False, kind: str | None = "variance") -> pd.DataFrame:
        """Current comments of a kind ("variance", "narrative"; ``None`` for both), or with ``history`` every
        version, ``current`` marking the live ones."""
        newer = comments.alias("newer")
        superseded = sa.exists().where(newer.c.supersedes == comments.c.id)
        query = (sa.select(comments, (~superseded).label("current"))
                 .where(comments.c.agreement_id == agreement_id).order_by(comments.c.id))
        if kind is not None:
            query = query.where(comments.c.kind == kind)
        if not history:
            query = query.where(~superseded)
        with self.engine.connect() as conn:
            frame = pd.read_sql(query, conn)
        frame["current"] = frame["current"].astype(bool)
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return _none_for_null(frame, "quarter", "area")

    # -- reporting back (§7): sign-off and finalized reports -----------------------------------------

    def add_signoff(self, *, agreement_id: str, quarter: str, party_role: str, name: str, title: str,
                    signed_on: dt.date | None, user: str) -> int:
        name = rules.text(name, "namnet på den som skriver under", rules.NAME_LEN)
        title = rules.text(title, "befattningen", rules.NAME_LEN, required=False)
        rules.date(signed_on, "datumet för underskriften")
        user = rules.user(user)
        with self._write(agreement_id) as conn:
            return int(conn.execute(signoffs.insert().values(
                agreement_id=agreement_id, quarter=quarter, party_role=party_role, name=name, title=title,
                signed_on=signed_on, by=user, at=_now())).inserted_primary_key[0])

    def signoffs(self, agreement_id: str, quarter: str) -> dict[str, dict[str, object]]:
        """The newest sign-off entry per party role for a quarter's report."""
        query = (sa.select(signoffs).where(signoffs.c.agreement_id == agreement_id, signoffs.c.quarter == quarter)
                 .order_by(signoffs.c.id))
        with self.engine.connect() as conn:
            return {row.party_role: dict(row._mapping) for row in conn.execute(query)}

    def add_final_report(self, *, agreement_id: str, quarter: str, presented_on: dt.date, filename: str,
                         content: bytes, figures: str, uploads: str, user: str, replaces: int | None = None,
                         agreement_version: int | None = None) -> int:
        """Store a report as presented, with the id of the agreement version it used; never changed afterwards.
        ``replaces`` is the report in force for the quarter that the caller saw (``None``: none). Checked again
        under the agreement's write lock, so two finalizings at once cannot both land: the second is refused."""
        rules.date(presented_on, "presentationsdatumet")
        rules.text(filename, "filnamnet", rules.FILENAME_LEN)
        user = rules.user(user)
        with self._write(agreement_id) as conn:
            newer = final_reports.alias("newer")
            in_force = conn.scalar(sa.select(sa.func.max(final_reports.c.id)).where(
                final_reports.c.agreement_id == agreement_id, final_reports.c.quarter == quarter,
                ~sa.exists().where(newer.c.replaces == final_reports.c.id)))
            if in_force != replaces:
                raise SamordningError(f"Rapporten för {quarter} fastställdes nyss av någon annan (nr {in_force}); "
                                      "inget har ändrats. Ladda om och försök igen.")
            return int(conn.execute(final_reports.insert().values(
                agreement_id=agreement_id, quarter=quarter, presented_on=presented_on, filename=filename,
                content=content, sha256=hashlib.sha256(content).hexdigest(), figures=figures, uploads=uploads,
                replaces=replaces, by=user, at=_now(), agreement_version=agreement_version)).inserted_primary_key[0])

    def final_reports(self, agreement_id: str) -> pd.DataFrame:
        """The finalized reports (without their file bytes), oldest first, ``replaced_by`` where replaced."""
        newer = final_reports.alias("newer")
        replaced_by = sa.select(newer.c.id).where(newer.c.replaces == final_reports.c.id).scalar_subquery()
        columns = [c for c in final_reports.c if c.name != "content"]
        query = (sa.select(*columns, replaced_by.label("replaced_by"))
                 .where(final_reports.c.agreement_id == agreement_id).order_by(final_reports.c.id))
        with self.engine.connect() as conn:
            frame = pd.read_sql(query, conn)
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame

    def final_report_content(self, agreement_id: str, report_id: int) -> tuple[str, bytes]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(final_reports.c.filename, final_reports.c.content).where(
                final_reports.c.agreement_id == agreement_id, final_reports.c.id == report_id)).one_or_none()
        if row is None:
            raise SamordningError(f"Det finns ingen fastställd rapport {report_id}.")
        return row.filename, bytes(row.content)

    # -- column mappings given by hand --------------------------------------------------------------

    def save_column_mapping(self, layout: str, columns: dict[str, str], user: str) -> None:
        """Remember how the columns of an export layout map; the newest mapping of a layout counts."""
        user = rules.user(user)
        with self._write() as conn:
            conn.execute(column_mappings.insert().values(layout=layout, columns=json.dumps(columns, ensure_ascii=False),
                                                         by=user, at=_now()))

    def column_mappings(self) -> dict[str, dict[str, str]]:
        """The mapping in force for each layout fingerprint."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(column_mappings.c.layout, column_mappings.c.columns)
                                .order_by(column_mappings.c.id)).all()
        return {row.layout: json.loads(row.columns) for row in rows}
