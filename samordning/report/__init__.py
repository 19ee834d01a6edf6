"""The economic report to the commissioner and the cooperation council (§7), in three formats.

:func:`build_report` gathers everything the report says from the store and the engine in one pass, up to
a chosen quarter; the writers turn it into Excel (:mod:`.excel`), one self-contained HTML file and a PDF
printed from that HTML by headless Chromium (:mod:`.document`). :func:`make_report` is what the CLI and
the dashboard call. Nothing here imports the UI.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from samordning.agreement import Agreement, quarter_label
from samordning.check import Finding, check
from samordning.errors import SamordningError
from samordning.followup import (
    Figure,
    Forecast,
    classify,
    counted,
    forecast,
    key_figures,
    quarterly,
    withholding_cap,
)
from samordning.store import Store

FORMATS = {".xlsx": "Excel", ".pdf": "PDF", ".html": "HTML"}
MIME = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
    ".html": "text/html",
}


@dataclass(frozen=True)
class Report:
    """What the report says, up to and including ``quarter``. Amounts are integer öre."""

    agreement: Agreement
    quarter: str                      # the newest quarter covered, "2023Q2"
    period_start: dt.date
    period_end: dt.date
    made_on: dt.date
    figures: list[Figure]
    forecast: Forecast
    quarters: pd.DataFrame            # quarterly(), quarters up to ``quarter``
    quarters_by_area: pd.DataFrame    # quarterly(by_area=True), same quarters
    account_classes: pd.DataFrame     # per quarter: personnel, other, total (öre)
    withholdings: pd.DataFrame        # with cap_ore per row
    caps: dict[str, int]              # §10 cap per area key
    comments: pd.DataFrame            # current comments for the covered quarters (and the whole agreement)
    findings: list[Finding]
    uploads: pd.DataFrame             # the uploads whose rows are behind the figures
    transactions: pd.DataFrame        # the counted rows behind the figures, with file, sheet and Excel row
    left_out: pd.DataFrame            # rows of the covered months left out, with their reason
    notes: list[str] = field(default_factory=list)

    @property
    def area_names(self) -> dict[str, str]:
        return {a.key: a.name for a in self.agreement.areas}

    @property
    def title(self) -> str:
        return f"Ekonomisk rapport {quarter_label(self.quarter)} – {self.agreement.short_title or self.agreement.title}"

    def filename(self, suffix: str) -> str:
        return f"ekonomisk-rapport-{self.agreement.id.replace('/', '-')}-{self.quarter}{suffix}"


def _quarter_end(quarter: str) -> dt.date:
    period = pd.Period(quarter, "Q")
    return period.end_time.date()


def build_report(store: Store, agreement: Agreement, quarter: str | None = None,
                 made_on: dt.date | None = None) -> Report:
    """Everything the report says. Without ``quarter``, the newest quarter with counted data."""
    rows = classify(store.ledger(agreement.id), agreement)
    used = counted(rows)
    if quarter is None:
        quarters_with_data = sorted(set(used["quarter"].dropna()))
        if not quarters_with_data:
            raise SamordningError(f"Det finns inget utfall för avtalet {agreement.id} ännu; läs in exporter först "
                                  "(samordning import FIL).")
        quarter = quarters_with_data[-1]
    if quarter not in agreement.quarters:
        raise SamordningError(f"Kvartalet {quarter!r} ligger inte inom avtalets giltighetstid "
                              f"({', '.join(agreement.quarters)}).")
    end = min(_quarter_end(quarter), agreement.validity.end)
    last_month = end.strftime("%Y-%m")
    covered = rows[rows["period"].isna() | (rows["period"].astype(str) <= last_month)]
    covered_quarters = [q for q in agreement.quarters if q <= quarter]

    payments = store.payments(agreement.id)
    table = quarterly(agreement, covered, payments=payments)
    by_area = quarterly(agreement, covered, by_area=True, payments=payments)
    table = table[table["quarter"].isin(covered_quarters)].reset_index(drop=True)
    by_area = by_area[by_area["quarter"].isin(covered_quarters)].reset_index(drop=True)

    counted_rows = counted(covered)
    personnel = counted_rows["account"].astype(str).str[:1].isin(agreement.accounts.personnel_classes)
    classes = pd.DataFrame({
        "quarter": covered_quarters,
        "personnel_ore": [int(counted_rows.loc[personnel & (counted_rows["quarter"] == q), "amount_ore"].sum())
                          for q in covered_quarters],
        "other_ore": [int(counted_rows.loc[~personnel & (counted_rows["quarter"] == q), "amount_ore"].sum())
                      for q in covered_quarters],
    })
    classes["total_ore"] = classes["personnel_ore"] + classes["other_ore"]

    withholdings = store.withholdings(agreement.id)
    withholdings = withholdings.assign(cap_ore=[withholding_cap(agreement, a) for a in withholdings["area"]])
    comments = store.comments(agreement.id)
    comments = comments[comments["quarter"].isna() | comments["quarter"].isin(covered_quarters)]

    behind = set(covered.loc[covered["reason"] == "", "upload_id"]) | set(covered["upload_id"])
    uploads = store.uploads(agreement.id)
    uploads = uploads[uploads["id"].isin(behind)].reset_index(drop=True)
    in_period = covered[covered["period"].notna() | (covered["reason"] == "total")]
    return Report(
        agreement=agreement, quarter=quarter, period_start=agreement.validity.start, period_end=end,
        made_on=made_on or dt.date.today(), figures=key_figures(agreement, covered, payments),
        forecast=forecast(agreement, covered, payments=payments), quarters=table, quarters_by_area=by_area,
        account_classes=classes, withholdings=withholdings,
        caps={a.key: withholding_cap(agreement, a.key) for a in agreement.areas},
        comments=comments.reset_index(drop=True), findings=check(agreement), uploads=uploads,
        transactions=counted_rows.reset_index(drop=True),
        left_out=in_period[in_period["reason"] != ""].reset_index(drop=True),
    )


def make_report(store: Store, agreement: Agreement, suffix: str, quarter: str | None = None,
                made_on: dt.date | None = None) -> tuple[Report, bytes]:
    """The report as the bytes of an ``.xlsx``, ``.pdf`` or ``.html`` file."""
    suffix = suffix.lower()
    if suffix not in FORMATS:
        raise SamordningError(f"Rapporten kan skrivas som {', '.join(FORMATS)}; "
                              f"inte som {suffix or 'fil utan ändelse'}.")
    report = build_report(store, agreement, quarter, made_on)
    if suffix == ".xlsx":
        from samordning.report.excel import write_xlsx

        return report, write_xlsx(report)
    from samordning.report.document import write_html, write_pdf

    return report, (write_html(report) if suffix == ".html" else write_pdf(report))


def write_report(store: Store, agreement: Agreement, out: str | Path, quarter: str | None = None) -> Report:
    out = Path(out)
    report, content = make_report(store, agreement, out.suffix, quarter)
    out.write_bytes(content)
    return report
