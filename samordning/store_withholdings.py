"""The store's withholdings (§10): recorded with who and when, refused above the area's cap, released with
who and when (migration 0007). A part of :class:`samordning.store.Store`, kept in its own module so that the
store stays within the package's size limit; the helpers shared with the rest of the store live here too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa

from samordning import rules
from samordning.errors import SamordningError
from samordning.lazy import pandas as pd
from samordning.schema import withholdings


def stored_total(conn: sa.engine.Connection, table: sa.Table, agreement_id: str) -> int:
    return int(conn.scalar(sa.select(sa.func.coalesce(sa.func.sum(table.c.amount_ore), 0))
                           .where(table.c.agreement_id == agreement_id)))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class WithholdingStore:
    """Withholdings of :class:`samordning.store.Store` (which gives ``engine`` and ``_write``)."""

    engine: sa.engine.Engine
    _write: Callable[..., contextlib.AbstractContextManager[sa.engine.Connection]]

    def add_withholding(self, *, agreement_id: str, area: str, amount_ore: int, reason: str,
                        withheld_on: dt.date, cap_ore: int, clause: str, user: str) -> int:
        """Record a withholding; refuse it when the area's unreleased withholdings would pass the cap."""
        rules.amount(amount_ore, "det innehållna beloppet")
        rules.date(withheld_on, "datumet för innehållandet")
        reason = rules.text(reason, "skälet")
        user = rules.user(user)
        with self._write(agreement_id) as conn:
            rules.total(stored_total(conn, withholdings, agreement_id), amount_ore, "innehållandena")
            held = conn.scalar(sa.select(sa.func.coalesce(sa.func.sum(withholdings.c.amount_ore), 0)).where(
                withholdings.c.agreement_id == agreement_id, withholdings.c.area == area,
                withholdings.c.released_on.is_(None)))
            if int(held) + amount_ore > cap_ore:
                from samordning.money import format_kr

                raise SamordningError(
                    f"Innehållandet avvisas: högst {format_kr(cap_ore)} får hållas inne för området ({clause}); "
                    f"redan innehållet {format_kr(int(held))}, begärt {format_kr(amount_ore)}.")
            return int(conn.execute(withholdings.insert().values(
                agreement_id=agreement_id, area=area, amount_ore=amount_ore, reason=reason,
                withheld_on=withheld_on, by=user, at=now())).inserted_primary_key[0])

    def release_withholding(self, agreement_id: str, withholding_id: int, released_on: dt.date, *,
                            user: str) -> None:
        """Release a withholding, on a date not before it was withheld; who released it and when is kept."""
        user = rules.user(user)
        with self._write(agreement_id) as conn:
            withheld_on = conn.scalar(sa.select(withholdings.c.withheld_on).where(
                withholdings.c.id == withholding_id, withholdings.c.agreement_id == agreement_id,
                withholdings.c.released_on.is_(None)))
            if withheld_on is None:
                raise SamordningError(f"Det finns inget innehållet belopp {withholding_id} att släppa.")
            rules.date(released_on, "datumet då beloppet släpps", not_before=withheld_on,
                       not_before_what="innehållandet")
            conn.execute(withholdings.update().where(withholdings.c.id == withholding_id)
                         .values(released_on=released_on, released_by=user, released_at=now()))

    def withholdings(self, agreement_id: str) -> pd.DataFrame:
        """Every withholding of the agreement; ``released_by`` and ``released_at`` are None where no release
        was recorded (or it was recorded before migration 0007)."""
        with self.engine.connect() as conn:
            frame = pd.read_sql(sa.select(withholdings).where(withholdings.c.agreement_id == agreement_id)
                                .order_by(withholdings.c.id), conn)
        frame["amount_ore"] = frame["amount_ore"].astype("int64")
        for name in ("released_by", "released_at"):
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
        return frame
