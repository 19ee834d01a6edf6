"""Agreements in the store, with versions.

Every agreement the region follows up lives in the store as a series of versions. A version keeps the agreement's
TOML text as written (today's file format, validated by the same model and messages as an agreement file), its
status (utkast/undertecknat) and signing date (§12), who saved it, when (UTC), why, a readable difference from
the version before, and the agreement check's findings on it. Versions are never changed: a change is a new
version, and once a version is signed the next one must say why. The newest version is in force: the figures
follow it, and a finalized report records the version it was computed with.

A new store is seeded from the agreement files (``data/avtal/*.toml``, or ``$SAMORDNING_AVTAL``): the first time
agreements are asked for and none is stored, each file becomes version 1 of its agreement.

``--agreement`` (and ``$SAMORDNING_AGREEMENT``) names an agreement by its id, resolved from the store. A file path
(``--agreement FILE``, the file ``serve`` and the dashboard were given) is adopted the same way everywhere
(:func:`adopt`): a text the store already holds as a version of that agreement names it, and its version in force is
used (so a version saved in the dashboard is not undone by the file); a text not stored yet becomes the newest
version. The CLI and the dashboard thus follow the same version for the same file, and the store always holds what
the figures were computed with.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import sqlalchemy as sa

from samordning import rules
from samordning.agreement import (
    AGREEMENT_ENV,
    Agreement,
    agreement_files,
    agreement_text,
    agreements_dir,
    parse_agreement,
)
from samordning.agreement_diff import Change, field_changes, field_diff
from samordning.check import Finding, check
from samordning.errors import SamordningError
from samordning.schema import agreement_versions, agreements
from samordning.store import Store
from samordning.vocabulary import SHOWN_ENV, shown_ids  # noqa: F401  (re-exported)

SIGNED = "undertecknat"
SEED_LOCK = "samordning:agreements-seed"  # the advisory lock key's name while a new store is seeded


@dataclass(frozen=True)
class Version:
    """One stored version of an agreement."""

    id: int
    agreement_id: str
    number: int
    text: str
    status: str
    signed_on: dt.date | None
    reason: str
    findings: list[dict[str, str]]
    by: str
    at: dt.datetime
    previous_findings: list[dict[str, str]] = field(default_factory=list)
    previous_text: str | None = None  # the version before's text (None for version 1, and from :func:`in_force`)

    @cached_property
    def agreement(self) -> Agreement:
        return parse_agreement(self.text, f"{self.agreement_id} version {self.number}")

    @cached_property
    def changes(self) -> list[Change]:
        """The fields that differ from the version before, compared as data (:mod:`samordning.agreement_diff`)."""
        return [] if self.previous_text is None else field_changes(self.previous_text, self.text)

    @property
    def diff(self) -> str:
        """The readable difference from the version before: one line per changed field."""
        return "\n".join(c.line() for c in self.changes)

    @cached_property
    def text_diff(self) -> str:
        """The unified difference of the two versions' TOML text, comments and layout included."""
        return "" if self.previous_text is None else text_diff(self.previous_text, self.text, self.number)

    @property
    def fixed(self) -> list[dict[str, str]]:
        """Findings of the version before that this version no longer has."""
        now = {_key(f) for f in self.findings}
        return [f for f in self.previous_findings if _key(f) not in now]

    @property
    def introduced(self) -> list[dict[str, str]]:
        """Findings this version has that the version before did not."""
        before = {_key(f) for f in self.previous_findings}
        return [f for f in self.findings if _key(f) not in before] if self.number > 1 else []


def _key(finding: dict[str, str]) -> tuple[str, str]:
    return finding["rule"], finding["title"]


def finding_records(findings: list[Finding]) -> list[dict[str, str]]:
    return [{"rule": f.rule, "clause": f.clause, "title": f.title, "detail": f.detail} for f in findings]


def signed_on(agreement: Agreement, name: str) -> dt.date | None:
    """The signing date (§12) of a signed agreement; a signed agreement without a valid date is refused."""
    text = agreement.signing.date.strip()
    if agreement.status != SIGNED:
        return dt.date.fromisoformat(text) if _is_date(text) else None
    if not _is_date(text):
        raise SamordningError(
            f"Avtalsfilen {name} kan inte sparas: fältet signing.date: ett undertecknat avtal ska ha datumet för "
            f"undertecknandet ({agreement.signing.clause}), till exempel 2023-02-15 (inte {text!r}).")
    return dt.date.fromisoformat(text)


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def text_diff(before: str, after: str, number: int) -> str:
    """A unified difference of two versions' TOML text (empty for the first version): the layout counts, so it is
    shown only on request (``agreement versions --text``); the difference shown is :func:`field_diff`'s."""
    if number == 1:
        return ""
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), f"version {number - 1}",
                                 f"version {number}", lineterm="", n=1)
    return "\n".join(lines)


# -- reading ---------------------------------------------------------------------------------------

def _version(row: sa.Row, previous: sa.Row | None = None) -> Version:
    return Version(id=int(row.id), agreement_id=row.agreement_id, number=int(row.number), text=row.toml,
                   status=row.status, signed_on=row.signed_on, reason=row.reason,
                   findings=json.loads(row.findings), by=row.by, at=row.at,
                   previous_findings=json.loads(previous.findings) if previous else [],
                   previous_text=previous.toml if previous else None)


def versions(store: Store, agreement_id: str) -> list[Version]:
    """Every version of an agreement, oldest first (each knows the findings of the one before)."""
    seed(store)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(agreement_versions).where(agreement_versions.c.agreement_id == agreement_id)
                            .order_by(agreement_versions.c.number)).all()
    if not rows:
        raise SamordningError(f"Hittar inget avtal {agreement_id!r} i databasen. Tillgängliga: "
                              + (", ".join(agreement_ids(store)) or "inga") + ".")
    return [_version(row, rows[i - 1] if i else None) for i, row in enumerate(rows)]


def version(store: Store, agreement_id: str, number: int | None = None) -> Version:
    """A version of an agreement: ``number``, else the one in force (the newest)."""
    found = versions(store, agreement_id)
    if number is None:
        return found[-1]
    for v in found:
        if v.number == number:
            return v
    raise SamordningError(f"Avtal {agreement_id} har ingen version {number}; versionerna är 1–{found[-1].number}.")


def agreement_ids(store: Store) -> list[str]:
    seed(store)
    with store.engine.connect() as conn:
        return list(conn.scalars(sa.select(agreements.c.id).order_by(agreements.c.id)))


def in_force(store: Store) -> list[Version]:
    """The version in force of every stored agreement, by id."""
    seed(store)
    newest = sa.select(agreement_versions.c.agreement_id, sa.func.max(agreement_versions.c.number).label("n")
                       ).group_by(agreement_versions.c.agreement_id).subquery()
    query = (sa.select(agreement_versions)
             .join(newest, sa.and_(newest.c.agreement_id == agreement_versions.c.agreement_id,
                                   newest.c.n == agreement_versions.c.number))
             .order_by(agreement_versions.c.agreement_id))
    with store.engine.connect() as conn:
        return [_version(row) for row in conn.execute(query)]


def version_id_of(store: Store, agreement: Agreement) -> int | None:
    """The id of the version in force when it is ``agreement`` (what a finalized report records), else None."""
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(agreement_versions.c.id, agreement_versions.c.toml)
                           .where(agreement_versions.c.agreement_id == agreement.id)
                           .order_by(agreement_versions.c.number.desc()).limit(1)).first()
    if row is None:
        return None
    stored = parse_agreement(row.toml, agreement.id)
    return int(row.id) if stored.model_dump() == agreement.model_dump() else None


# -- writing ---------------------------------------------------------------------------------------

def save_version(store: Store, text: str, *, name: str, user: str, reason: str = "") -> tuple[Version, bool]:
    """Store ``text`` as the newest version of the agreement it describes (a new agreement when its id is new).

    Validated like an agreement file (``name`` names it in messages); a signed agreement needs its signing date.
    Text identical to the version in force stores nothing (returns it, ``False``). A version in force that is
    signed is only changed by a new version that says why (``reason``)."""
    seed(store)  # a new store gets the agreement files first, so a file imported into it is their next version
    agreement = parse_agreement(text, name)
    signed = signed_on(agreement, name)
    user = rules.user(user)
    reason = rules.text(reason, "skälet till ändringen", required=False)
    rules.text(agreement.id, "avtalets id", 64)
    findings = json.dumps(finding_records(check(agreement)), ensure_ascii=False)
    with store._write(agreement.id) as conn:
        last = conn.execute(sa.select(agreement_versions).where(agreement_versions.c.agreement_id == agreement.id)
                            .order_by(agreement_versions.c.number.desc()).limit(1)).first()
        if last is not None and last.toml == text:
            return _version(last), False
        if last is not None and last.status == SIGNED and not reason:
            raise SamordningError(
                f"Version {last.number} av avtal {agreement.id} är undertecknad ({last.signed_on}); en ändring "
                "sparas bara som en ny version med ett skäl (--reason). Inget har ändrats.")
        now = dt.datetime.now(dt.UTC)
        if last is None:
            conn.execute(agreements.insert().values(id=agreement.id, created_by=user, created_at=now))
        number = 1 if last is None else int(last.number) + 1
        values = dict(agreement_id=agreement.id, number=number, toml=text, status=agreement.status,
                      signed_on=signed, reason=reason, diff=field_diff(last.toml if last else None, text),
                      findings=findings, by=user, at=now)
        new_id = int(conn.execute(agreement_versions.insert().values(**values)).inserted_primary_key[0])
    return Version(id=new_id, previous_findings=json.loads(last.findings) if last else [],
                   previous_text=last.toml if last else None,
                   **{k: v for k, v in values.items() if k not in ("toml", "findings", "diff")},
                   text=text, findings=json.loads(findings)), True


def import_file(store: Store, path: str | Path, *, user: str, reason: str = "") -> tuple[Version, bool]:
    """An agreement file saved as a new version (see :func:`save_version`)."""
    path = Path(path)
    text = agreement_text(path)
    return save_version(store, text, name=path.name, user=user, reason=reason)


def seed(store: Store, folder: str | Path | None = None) -> int:
    """A new store (no agreement stored yet) gets every agreement file of ``folder`` (the agreements folder) as
    version 1; returns how many were stored. A store that has agreements is left alone."""
    with store.engine.connect() as conn:
        if conn.scalar(sa.select(sa.func.count()).select_from(agreements)):
            return 0
    from samordning.imports import current_user

    folder = Path(folder) if folder else agreements_dir()
    files = agreement_files(folder)
    parsed = [(path, agreement_text(path)) for path in files]
    checked = [(path, text, parse_agreement(text, path.name)) for path, text in parsed]
    now, user = dt.datetime.now(dt.UTC), rules.user(current_user())
    with store._write(SEED_LOCK) as conn:
        if conn.scalar(sa.select(sa.func.count()).select_from(agreements)):
            return 0  # another process seeded it meanwhile
        for path, text, agreement in checked:
            conn.execute(agreements.insert().values(id=agreement.id, created_by=user, created_at=now))
            conn.execute(agreement_versions.insert().values(
                agreement_id=agreement.id, number=1, toml=text, status=agreement.status,
                signed_on=signed_on(agreement, path.name), reason=f"Inläst från {path.name} när databasen skapades",
                diff="", findings=json.dumps(finding_records(check(agreement)), ensure_ascii=False),
                by=user, at=now))
    return len(checked)


def check_shown(store: Store, ids: list[str]) -> list[str]:
    """The ids of ``serve --agreements``, each an agreement in the store, or a Swedish refusal naming those that
    are not."""
    stored = agreement_ids(store)
    missing = [i for i in ids if i not in stored]
    if missing:
        raise SamordningError("Avtalen " + ", ".join(repr(i) for i in missing) + " finns inte i databasen. "
                              "Tillgängliga: " + (", ".join(stored) or "inga") + ".")
    return ids


# -- which agreement a command works on -------------------------------------------------------------

def adopt(store: Store, path: str | Path, *, user: str | None = None) -> Version:
    """The version in force of the agreement an agreement file names. A text already stored as one of its versions
    stores nothing; a new text is stored as its newest version (as ``agreement import`` would), unless the version
    in force is signed: that changes only with a reason given (``agreement import --reason``, the Avtal tab)."""
    path = Path(path)
    text = agreement_text(path)
    named = parse_agreement(text, path.name)
    seed(store)
    with store.engine.connect() as conn:
        known = conn.scalar(sa.select(sa.func.count()).select_from(agreement_versions).where(
            agreement_versions.c.agreement_id == named.id, agreement_versions.c.toml == text))
    if known:
        return version(store, named.id)
    if named.id in agreement_ids(store) and (last := version(store, named.id)).status == SIGNED:
        raise SamordningError(
            f"Version {last.number} av avtal {named.id} är undertecknad ({last.signed_on}) och avtalsfilen "
            f"{path.name} skiljer sig från den. En ändring sparas bara som en ny version med ett skäl: samordning "
            f"agreement import {path.name} --reason SKÄL (eller i fliken Avtal). Inget har ändrats.")
    from samordning.imports import current_user

    saved, _ = save_version(store, text, name=path.name, user=user or current_user(),
                            reason=f"Inläst från {path.name}")
    return saved


def resolve(store: Store, choice: str | None = None, *, user: str | None = None) -> Version:
    """The version in force of the agreement named by ``choice`` (an id in the store, or an agreement file, adopted
    by :func:`adopt`), else by ``$SAMORDNING_AGREEMENT``, else the only agreement stored."""
    choice = choice or os.environ.get(AGREEMENT_ENV)
    if choice and Path(choice).is_file():
        return adopt(store, choice, user=user)
    ids = agreement_ids(store)
    if choice:
        if choice in ids:
            return version(store, choice)
        raise SamordningError(f"Hittar inget avtal {choice!r} (varken id i databasen eller fil). Tillgängliga: "
                              + (", ".join(ids) or "inga") + ".")
    if not ids:
        raise SamordningError(f"Databasen har inga avtal och {agreements_dir()} inga avtalsfiler (*.toml); "
                              "läs in ett med samordning agreement import FIL.")
    if len(ids) > 1:
        raise SamordningError("Flera avtal finns; välj ett med --agreement: " + ", ".join(ids) + ".")
    return version(store, ids[0])


def resolve_agreement(choice: str | None = None, db: str | Path | None = None, user: str | None = None) -> Agreement:
    """The agreement in force named by ``choice`` in the store ``db`` (see :func:`resolve`)."""
    return resolve(Store.open(db), choice, user=user).agreement


def version_numbers(store: Store, agreement_id: str) -> dict[int, int]:
    """Each stored version's id → its number (what a finalized report's ``agreement_version`` is shown as)."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(agreement_versions.c.id, agreement_versions.c.number)
                            .where(agreement_versions.c.agreement_id == agreement_id)).all()
    return {int(row.id): int(row.number) for row in rows}
