"""The engine every view reads its figures from: sums computed in the database (:func:`samordning.queries.summary`),
and the follow-up's own rules (:mod:`samordning.followup`) applied to them. The CLI, the report and the dashboard
use it; it never holds the ledger's rows, only a few sums per upload and month. :func:`quarter_table` is the
quarterly table by the same rule (:mod:`samordning.quarters`) without pandas, for ``samordning quarters``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from samordning.agreement import Agreement
from samordning.followup import Figure, Forecast, counted, forecast, key_figures, left_out_summary, quarterly
from samordning.lazy import pandas as pd
from samordning.quarters import QuarterRow, advances, quarter_rows, withheld_net
from samordning.queries import counted_by_quarter, registered_by_quarter, summary, summary_groups, withholding_records
from samordning.store import Store


def quarter_table(store: Store, agreement: Agreement, *, by_area: bool = False) -> list[QuarterRow]:
    """The rows of :meth:`Figures.quarterly` in plain Python (integer öre), from the same sums and by the same
    rule, without pandas: what ``samordning quarters`` prints."""
    net = withheld_net(agreement, withholding_records(store.engine, agreement.id))
    plan = advances(agreement, registered_by_quarter(store.engine, agreement.id), net)
    actual = counted_by_quarter(summary_groups(store.engine, agreement), by_area=by_area)
    return quarter_rows(agreement, plan, net, actual, by_area=by_area)


@dataclass(frozen=True)
class Figures:
    """An agreement's figures from the sums of its rows in force, optionally only up to a month."""

    agreement: Agreement
    sums: pd.DataFrame                # summary(): rows and öre per upload, month, area, account class and reason
    payments: pd.DataFrame
    withholdings: pd.DataFrame | None = None   # §10; they enter the advances by followup's one rule

    @classmethod
    def load(cls, store: Store, agreement: Agreement) -> Figures:
        return cls(agreement, summary(store.engine, agreement), store.payments(agreement.id),
                   store.withholdings(agreement.id))

    def through(self, last_month: str) -> Figures:
        """Only the rows of ``last_month`` ("YYYY-MM") or earlier (and the rows without a period)."""
        period = self.sums["period"]
        keep = period.isna() | (period.astype(str) <= last_month)
        return replace(self, sums=self.sums[keep].reset_index(drop=True))

    def quarterly(self, *, by_area: bool = False) -> pd.DataFrame:
        return quarterly(self.agreement, self.sums, by_area=by_area, payments=self.payments,
                         withholdings=self.withholdings)

    def key_figures(self) -> list[Figure]:
        return key_figures(self.agreement, self.sums, self.payments, self.withholdings)

    def forecast(self) -> Forecast:
        return forecast(self.agreement, self.sums, payments=self.payments, withholdings=self.withholdings)

    def left_out(self, *, dated_or_total: bool = False) -> pd.DataFrame:
        """Rows left out per reason: reason, label, rows, amount_ore. With ``dated_or_total``, rows without a period
        only when they are total rows (the report's *Utelämnade*)."""
        sums = self.sums
        if dated_or_total:
            sums = sums[sums["period"].notna() | (sums["reason"] == "total")]
        return left_out_summary(sums)

    def quarters_with_data(self) -> list[str]:
        return sorted(set(counted(self.sums)["quarter"].dropna()))

    def counted_rows(self, quarter: str | None = None) -> int:
        used = counted(self.sums)
        if quarter is not None:
            used = used[used["quarter"] == quarter]
        return int(used["rows"].sum())

    def counted_ore(self) -> int:
        return int(counted(self.sums)["amount_ore"].sum())

    def account_classes(self, quarters: list[str]) -> pd.DataFrame:
        """Per quarter: personnel costs (the agreement's personnel classes), other costs and their total, in öre."""
        used = counted(self.sums)
        personnel = used["account_class"].isin(self.agreement.accounts.personnel_classes)
        sums = used.assign(personnel=personnel).groupby(["quarter", "personnel"])["amount_ore"].sum()
        table = pd.DataFrame({
            "quarter": quarters,
            "personnel_ore": [int(sums.get((q, True), 0)) for q in quarters],
            "other_ore": [int(sums.get((q, False), 0)) for q in quarters],
        })
        table["total_ore"] = table["personnel_ore"] + table["other_ore"]
        return table

    def uploads_behind(self) -> set[int]:
        """The uploads with rows in force among these sums."""
        return {int(u) for u in self.sums["upload_id"]}
