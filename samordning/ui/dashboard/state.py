"""The state every tab reads, computed once per load from the store, and the writes that change it.

A :class:`State` is never changed: a write goes through :class:`Actions` (write → reload → message), which
makes a new one. What only some tabs need is read when a tab first asks for it.

The state holds sums, not rows: :func:`samordning.queries.summary` (rows and öre per upload, month, area, account
class and reason, computed in the database) is what every figure is computed from, by the follow-up's own rules —
the same as the CLI and the report. Rows are read only when a view shows them, a page at a time
(:meth:`State.rows`), so a page's kernel stays small whatever the size of the ledger.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from samordning.agreement import Agreement
from samordning.agreements import adopt, version, version_numbers
from samordning.check import Finding, check
from samordning.followup import (
    Figure,
    Forecast,
    advances,
    area_totals,
    counted,
    forecast,
    key_figures,
    quarterly,
)
from samordning.names import shown
from samordning.queries import RowFilter, RowSet, summary
from samordning.store import Store
from samordning.ui.dashboard.html import message

T = TypeVar("T")


@dataclass(frozen=True, eq=False)  # compared by identity: it is never changed
class State:
    """Everything the tabs show, computed in one pass over the store."""

    agreement: Agreement               # the version in force of the agreement shown
    source: Path | str                 # what it was loaded from: an agreement file, or its id in the store
    sums: pd.DataFrame                 # queries.summary(): rows and öre per upload, month, area, class, reason
    quarters: pd.DataFrame             # quarterly(), all areas
    quarters_by_area: pd.DataFrame     # quarterly(by_area=True)
    figures: list[Figure]
    forecast: Forecast
    findings: list[Finding]
    uploads: pd.DataFrame
    payments: pd.DataFrame
    withholdings: pd.DataFrame
    comments: pd.DataFrame
    store: Store                       # for what only some tabs need, read when first asked for
    revision: tuple[int, ...]          # Store.revision() when loaded (read first: a later write reloads)
    memo: dict[Hashable, Any] = field(default_factory=dict, repr=False)  # see cached()

    @classmethod
    def load(cls, store: Store, source: Path | str) -> State:
        """The state of an agreement's version in force: named by its id in the store, or by a file (adopted as
        the CLI's ``--agreement FILE`` is, so both show the same version)."""
        agreement = (adopt(store, source) if isinstance(source, Path) else version(store, source)).agreement
        revision = store.revision(agreement.id)
        sums = summary(store.engine, agreement)
        payments, withholdings = store.payments(agreement.id), store.withholdings(agreement.id)
        plan = advances(agreement, payments, withholdings)
        fc = forecast(agreement, sums, plan=plan)
        return cls(
            agreement=agreement, source=source, sums=sums,
            quarters=quarterly(agreement, sums, payments=payments, withholdings=withholdings),
            quarters_by_area=quarterly(agreement, sums, by_area=True, payments=payments, withholdings=withholdings),
            figures=key_figures(agreement, sums, payments, withholdings, fc=fc, plan=plan), forecast=fc,
            findings=check(agreement), uploads=store.uploads(agreement.id), payments=payments,
            withholdings=withholdings, comments=store.comments(agreement.id),
            store=store, revision=revision,
        )

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once for this state (charts, say): it goes when the state goes, at the next reload."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]  # type: ignore[no-any-return]

    @functools.cached_property
    def narratives(self) -> pd.DataFrame:
        """Reporting back on the assignment (§7), with every earlier version: only *Områden* needs it, so it
        is read when that tab first renders, not on the first page load."""
        return self.store.comments(self.agreement.id, kind="narrative", history=True)

    @functools.cached_property
    def final_reports(self) -> pd.DataFrame:
        """Reports as presented to samverkansrådet (never changed), each with the number of the agreement version it
        used (``version``); read when *Rapport* first renders."""
        frame = self.store.final_reports(self.agreement.id)
        numbers = version_numbers(self.store, self.agreement.id)
        frame["version"] = [None if pd.isna(v) else numbers.get(int(v)) for v in frame["agreement_version"]]
        return frame

    @functools.cached_property
    def sources(self) -> dict[str, str]:
        """For each quarter, the uploads its figures come from: ``"3 (huvudbok_2023_kv3.xlsx)"``."""
        pairs = counted(self.sums)[["quarter", "upload_id"]].dropna(subset=["quarter"]).drop_duplicates()
        if pairs.empty:
            return {}
        names = dict(zip(self.uploads["id"].astype(int), self.uploads["filename"], strict=True))
        return {q: ", ".join(f"{u} ({shown(names[u])})" for u in sorted(int(u) for u in part["upload_id"]))
                for q, part in pairs.groupby("quarter")}

    @property
    def quarters_with_data(self) -> set[str]:
        """The quarters with rows that count."""
        return set(counted(self.sums)["quarter"].dropna())

    def rows(self, where: RowFilter) -> RowSet:
        """The rows of a filter, read from the database when a view shows them. Their count and sum come from the
        sums when the filter is one of theirs (quarter, area, account class, reason), else from the database."""
        totals = None
        if where.text is None and where.upload_id is None and where.through is None and not where.left_out \
                and not where.dated_or_total:
            s = self.sums
            keep = pd.Series(True, index=s.index)
            for column, value in (("quarter", where.quarter), ("area", where.area),
                                  ("account_class", where.account_class), ("reason", where.reason)):
                if value is not None:
                    keep &= s[column] == value
            totals = (int(s.loc[keep, "rows"].sum()), int(s.loc[keep, "amount_ore"].sum()))
        return RowSet(self.store.engine, self.agreement, where, totals)

    @functools.cached_property
    def area_totals(self) -> pd.DataFrame:
        """Advance and actual so far per area (see :func:`samordning.followup.area_totals`)."""
        return area_totals(self.agreement, self.quarters_by_area)

    @property
    def area_names(self) -> dict[str, str]:
        return {a.key: a.name for a in self.agreement.areas}

    @property
    def unspent_ore(self) -> int:
        """The key figure *Kvarstående medel*: advances so far − actual so far."""
        return next(f.ore for f in self.figures if f.key == "unspent")

    def quarter_table(self, area: str | None) -> pd.DataFrame:
        """The quarterly table for all areas (``None``) or one area: a cheap selection, no query."""
        if area is None:
            return self.quarters
        return self.quarters_by_area[self.quarters_by_area["area"] == area].reset_index(drop=True)


class Actions:
    """Every write from the dashboard: do it, reload the state (every tab shows the change), then say so."""

    def __init__(self, store: Store, user: str, reload: Callable[[], None]) -> None:
        self.store = store
        self.user = user
        self.reload = reload

    def run(self, write: Callable[[], T], show: Callable[[str], None], done: str | Callable[[T], str]) -> T:
        """``write()``, reload, then ``show`` the message ``done`` (or ``done(result)``) as a success."""
        result = write()
        self.reload()
        show(message(done(result) if callable(done) else done, "ok"))
        return result
