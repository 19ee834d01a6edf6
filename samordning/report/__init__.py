"""The economic report to the commissioner and the cooperation council (§7), in three formats.

:func:`build_report` gathers everything the report says from the store and the engine in one pass, up to
a chosen quarter; :mod:`.excel` writes it as an Excel file. The self-contained HTML file and the PDF printed
from it (with the dashboard's chart) are written by the UI layer, :mod:`samordning.ui.document`, whose
``report_file`` is what the CLI and the dashboard call for a file in any format. :func:`finalize` stores a
report as presented, with the file its caller renders. Nothing here imports the UI.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from samordning import rules
from samordning.agreement import Agreement, quarter_label
from samordning.agreements import version_id_of
from samordning.check import Finding, check
from samordning.errors import SamordningError
from samordning.figures import Figures
from samordning.followup import Figure, Forecast, quarter_records, withholding_cap, yearly
from samordning.names import shown_names
from samordning.queries import RowFilter, RowSet
from samordning.store import Store

FORMATS = {".xlsx": "Excel", ".pdf": "PDF", ".html": "HTML"}
MIME = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
    ".html": "text/html",
}


@dataclass(frozen=True)
class FinalRef:
    """A finalized report, as a later report refers to it."""

    id: int
    quarter: str
    presented_on: dt.date
    sha256: str


@dataclass(frozen=True)
class Change:
    """A figure that changed since the last finalized report, and the uploads behind the change."""

    quarter: str
    area: str                         # the area's name
    what: str                         # "Förskott" or "Utfall"
    old_ore: int
    new_ore: int
    causes: tuple[str, ...]           # "uppladdning 4 (huvudbok_mars.xlsx)", "uppladdning 1 gäller inte längre"


@dataclass(frozen=True)
class EconomicReport:
    """What the economic report (§7) says, up to and including ``quarter``. Amounts are integer öre. The rows
    behind the figures are not held: ``transactions`` and ``left_out`` read them from the database in chunks
    when a writer asks (their ``len`` is a count in the database)."""

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
    transactions: RowSet              # the counted rows behind the figures, with file, sheet and Excel row
    left_out: RowSet                  # rows of the covered months left out, with their reason
    left_out_summary: pd.DataFrame    # the same per reason: reason, label, rows, amount_ore
    narratives: pd.DataFrame          # reporting back on the assignment (§7): current text per area / agreement
    signoffs: dict[str, dict[str, object]]   # party role -> name, title, signed_on (the newest entry)
    since: FinalRef | None            # the newest finalized report this one is compared with
    changes: list[Change] = field(default_factory=list)
    counted_rows_in_quarter: int = 0  # rows counted in ``quarter`` itself (a report without any is not finalized)
    presented_on: dt.date | None = None  # set on a finalized report: the council meeting it was presented at

    @property
    def area_names(self) -> dict[str, str]:
        return {a.key: a.name for a in self.agreement.areas}

    @property
    def years(self) -> pd.DataFrame | None:
        """For an agreement over several calendar years: each year of the covered quarters and all of them
        (``year`` = :data:`samordning.followup.WHOLE_PERIOD`); None for an agreement within one year."""
        if len({q[:4] for q in self.agreement.quarters}) < 2:
            return None
        return yearly(self.quarters)

    @property
    def title(self) -> str:
        return f"Ekonomisk rapport {quarter_label(self.quarter)} – {self.agreement.short_title or self.agreement.title}"

    def filename(self, suffix: str) -> str:
        return f"ekonomisk-rapport-{self.agreement.id.replace('/', '-')}-{self.quarter}{suffix}"


def _quarter_end(quarter: str) -> dt.date:
    period = pd.Period(quarter, "Q")
    return period.end_time.date()


def build_report(store: Store, agreement: Agreement, quarter: str | None = None,
                 made_on: dt.date | None = None, *, presented_on: dt.date | None = None) -> EconomicReport:
    """Everything the report says. Without ``quarter``, the newest quarter with counted data. The figures come
    from sums computed in the database; the rows behind them are read from it when a writer asks for them."""
    everything = Figures.load(store, agreement)
    if quarter is None:
        quarters_with_data = everything.quarters_with_data()
        if not quarters_with_data:
            raise SamordningError(f"Det finns inget utfall för avtalet {agreement.id} ännu; läs in exporter först "
                                  "(samordning import FIL).")
        quarter = quarters_with_data[-1]
    if quarter not in agreement.quarters:
        raise SamordningError(f"Kvartalet {quarter!r} ligger inte inom avtalets giltighetstid "
                              f"({', '.join(agreement.quarters)}).")
    end = min(_quarter_end(quarter), agreement.validity.end)
    last_month = end.strftime("%Y-%m")
    covered = everything.through(last_month)
    covered_quarters = [q for q in agreement.quarters if q <= quarter]
    table = covered.quarterly()
    by_area = covered.quarterly(by_area=True)
    table = table[table["quarter"].isin(covered_quarters)].reset_index(drop=True)
    by_area = by_area[by_area["quarter"].isin(covered_quarters)].reset_index(drop=True)

    withholdings = store.withholdings(agreement.id)  # as the figures have them (Figures.load)
    withholdings = withholdings.assign(cap_ore=[withholding_cap(agreement, a) for a in withholdings["area"]])
    comments = store.comments(agreement.id)
    comments = comments[comments["quarter"].isna() | comments["quarter"].isin(covered_quarters)]
    uploads = shown_names(store.uploads(agreement.id))
    uploads = uploads[uploads["id"].isin(covered.uploads_behind())].reset_index(drop=True)
    since, changes = _changes_since_final(store, agreement, by_area)
    left_summary = covered.left_out(dated_or_total=True)
    return EconomicReport(
        agreement=agreement, quarter=quarter, period_start=agreement.validity.start, period_end=end,
        made_on=made_on or dt.date.today(), figures=covered.key_figures(), forecast=covered.forecast(),
        quarters=table, quarters_by_area=by_area, account_classes=covered.account_classes(covered_quarters),
        withholdings=withholdings, caps={a.key: withholding_cap(agreement, a.key) for a in agreement.areas},
        comments=comments.reset_index(drop=True), findings=check(agreement), uploads=uploads,
        transactions=RowSet(store.engine, agreement, RowFilter(reason="", through=last_month),
                            (covered.counted_rows(), covered.counted_ore())),
        left_out=RowSet(store.engine, agreement, RowFilter(through=last_month, dated_or_total=True, left_out=True),
                        (int(left_summary["rows"].sum()), int(left_summary["amount_ore"].sum()))),
        left_out_summary=left_summary,
        narratives=_narratives(store, agreement, covered_quarters), signoffs=store.signoffs(agreement.id, quarter),
        since=since, changes=changes, presented_on=presented_on,
        counted_rows_in_quarter=covered.counted_rows(quarter),
    )


def _narratives(store: Store, agreement: Agreement, covered_quarters: list[str]) -> pd.DataFrame:
    """The current narratives of the covered quarters: the whole period's text first, then quarter by quarter;
    no text's target left as NaN (the formats test "has a quarter / an area" by truth)."""
    narratives = store.comments(agreement.id, kind="narrative")
    narratives = narratives[narratives["quarter"].isna() | narratives["quarter"].isin(covered_quarters)]
    narratives = (narratives.assign(_order=narratives["quarter"].fillna(""))
                  .sort_values(["_order", "id"], kind="stable").drop(columns="_order"))
    narratives = narratives.astype({"quarter": object, "area": object})
    return narratives.where(narratives.notna(), None).reset_index(drop=True)


def _changes_since_final(store: Store, agreement: Agreement, by_area: pd.DataFrame
                         ) -> tuple[FinalRef | None, list[Change]]:
    """Compare the live figures with the newest finalized report still in force: per quarter and area, old →
    new, and the uploads that explain it (uploads now behind the quarter that were not, and back)."""
    finals = store.final_reports(agreement.id)
    finals = finals[finals["replaced_by"].isna()]
    if finals.empty:
        return None, []
    last = finals.iloc[-1]
    ref = FinalRef(int(last["id"]), str(last["quarter"]), pd.Timestamp(last["presented_on"]).date(),
                   str(last["sha256"]))
    old = {(r["quarter"], r["area"]): r for r in json.loads(last["figures"])}
    old_uploads = {int(u["id"]) for u in json.loads(last["uploads"])}
    names = {a.key: a.name for a in agreement.areas}
    uploads = shown_names(store.uploads(agreement.id))
    changes = []
    for r in by_area.itertuples():
        before = old.get((r.quarter, names[r.area]))
        if before is None:
            continue
        months = _months(r.quarter)
        causes = tuple(
            [f"uppladdning {int(u.id)} ({u.filename}) för {', '.join(sorted(set(u.active_periods) & months))}"
             for u in uploads.itertuples() if int(u.id) not in old_uploads and set(u.active_periods) & months]
            + [f"uppladdning {int(u.id)} ({u.filename}) gäller inte längre för "
               f"{', '.join(sorted((set(u.periods) - set(u.active_periods)) & months))}"
               for u in uploads.itertuples()
               if int(u.id) in old_uploads and (set(u.periods) - set(u.active_periods)) & months])
        for what, key, ore in (("Förskott", "advance", r.advance_ore), ("Utfall", "actual", r.actual_ore)):
            old_ore = round(float(before[key]) * 100)
            if old_ore != int(ore):
                why = causes if what == "Utfall" else ("registrerad betalning eller innehållen ersättning",)
                changes.append(Change(r.quarter, names[r.area], what, old_ore, int(ore), why))
    return ref, changes


def _months(quarter: str) -> set[str]:
    period = pd.Period(quarter, "Q")
    return {str(m) for m in pd.period_range(period.start_time, period.end_time, freq="M")}


def report_format(suffix: str) -> str:
    """``suffix`` in lower case if the report can be written as such a file; otherwise a refusal that says which."""
    suffix = suffix.lower()
    if suffix not in FORMATS:
        raise SamordningError(f"Rapporten kan skrivas som {', '.join(FORMATS)}; "
                              f"inte som {suffix or 'fil utan ändelse'}.")
    return suffix


def finalize(store: Store, agreement: Agreement, presented_on: dt.date, *, quarter: str | None = None,
             suffix: str, render: Callable[[EconomicReport], bytes], user: str,
             replace: bool = False) -> tuple[int, EconomicReport, bytes]:
    """Store the report as presented to samverkansrådet on ``presented_on``: the file, its figures (the same
    records as ``quarters --by-area --json``), the uploads it rests on and its sha256. Nothing stored changes
    afterwards; finalizing a quarter again needs ``replace`` and keeps the earlier one.

    ``render`` writes the file ending in ``suffix`` (``samordning.ui.document.renderer(suffix)``); it is called
    once the report may be finalized."""
    suffix = report_format(suffix)
    rules.date(presented_on, "presentationsdatumet", not_before=agreement.validity.start,
               not_before_what="avtalets början")
    report = build_report(store, agreement, quarter, presented_on=presented_on)
    if not report.counted_rows_in_quarter:
        raise SamordningError(f"Det finns inget utfall för {quarter_label(report.quarter)}; en rapport utan "
                              "underlag kan inte fastställas.")
    finals = store.final_reports(agreement.id)
    earlier = finals[(finals["quarter"] == report.quarter) & finals["replaced_by"].isna()]
    if len(earlier) and not replace:
        e = earlier.iloc[-1]
        raise SamordningError(
            f"Rapporten för {quarter_label(report.quarter)} är redan fastställd (nr {int(e['id'])}, presenterad "
            f"{pd.Timestamp(e['presented_on']).date()}). Inget har ändrats. Ange att den nya ersätter den "
            "(--replace); den tidigare sparas.")
    content = render(report)
    uploads = [{"id": int(u.id), "sha256": u.sha256, "filename": u.filename} for u in report.uploads.itertuples()]
    report_id = store.add_final_report(
        agreement_id=agreement.id, quarter=report.quarter, presented_on=presented_on,
        filename=report.filename(suffix).replace("ekonomisk-rapport", "faststalld-rapport"), content=content,
        figures=json.dumps(quarter_records(agreement, report.quarters_by_area), ensure_ascii=False),
        uploads=json.dumps(uploads, ensure_ascii=False), user=user,
        replaces=int(earlier.iloc[-1]["id"]) if len(earlier) else None,
        agreement_version=version_id_of(store, agreement))
    return report_id, report, content

