"""The state every tab reads, computed once per load from the store, and the writes that change it.

A :class:`State` is never changed: a write goes through :class:`Actions` (write → reload → message), which
makes a new one. What only some tabs need is read when a tab first asks for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from samordning.agreement import Agreement
from samordning.agreements import follow
from samordning.check import Finding, check
from samordning.followup import (
    Figure,
    Forecast,
    advances,
    area_totals,
    classify,
    forecast,
    key_figures,
    quarterly,
)
from samordning.names import shown
from samordning.store import Store
from samordning.ui.dashboard.html import message

T = TypeVar("T")


@dataclass(frozen=True, eq=False)  # compared by identity: it is never changed
class State:
    """Everything the tabs show, computed in one pass over the store."""

    agreement: Agreement
    path: Path
    rows: pd.DataFrame                 # classified ledger rows in force
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
    def load(cls, store: Store, path: Path) -> State:
        agreement = follow(store, path)  # the version in force in the store of the agreement the file names
        revision = store.revision(agreement.id)
        rows = classify(store.ledger(agreement.id), agreement)
        payments = store.payments(agreement.id)
        plan = advances(agreement, payments)
        fc = forecast(agreement, rows, payments=payments, plan=plan)
        return cls(
            agreement=agreement, path=path, rows=rows,
            quarters=quarterly(agreement, rows, payments=payments),
            quarters_by_area=quarterly(agreement, rows, by_area=True, payments=payments),
            figures=key_figures(agreement, rows, payments, fc=fc, plan=plan), forecast=fc,
            findings=check(agreement), uploads=store.uploads(agreement.id), payments=payments,
            withholdings=store.withholdings(agreement.id), comments=store.comments(agreement.id),
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
        """Reports as presented to samverkansrådet (never changed); read when *Rapport* first renders."""
        return self.store.final_reports(self.agreement.id)

    @functools.cached_property
    def sources(self) -> dict[str, str]:
        """For each quarter, the uploads its figures come from: ``"3 (huvudbok_2023_kv3.xlsx)"``."""
        rows = self.rows[self.rows["reason"] == ""]
        if rows.empty:
            return {}
        pairs = rows[["quarter", "upload_id", "filename"]].dropna(subset=["quarter"]).drop_duplicates()
        return {q: ", ".join(f"{int(p.upload_id)} ({shown(p.filename)})"
                             for p in part.sort_values("upload_id").itertuples())
                for q, part in pairs.groupby("quarter")}

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
