"""The Voilà dashboard: the council's read-only view and the controllers' working view of one agreement.

The notebook only calls :func:`app`. State is one :class:`Snapshot` computed from the store in one pass;
every view renders from it, callbacks change the store and reload the snapshot. An error in a callback
becomes a Swedish message in the page, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import html
import io
import logging
import os
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as ipw
import pandas as pd
import plotly.graph_objects as go
from IPython.display import HTML, display
from plotly.graph_objs import FigureWidget  # noqa: F401 - import now: its first import costs seconds (nbformat,

# jsonschema), which a preheated kernel pays before the page is requested, not after
from samordning.agreement import (
    Agreement,
    agreement_files,
    agreement_path,
    agreements_dir,
    load_agreement,
    quarter_label,
)
from samordning.check import Finding, check
from samordning.errors import SamordningError
from samordning.followup import (
    REASONS,
    Figure,
    Forecast,
    classify,
    forecast,
    key_figures,
    left_out_summary,
    quarterly,
    withholding_cap,
)
from samordning.imports import PreparedImport, commit_import, current_user, prepare_import
from samordning.ingest import parse_amounts, peek, recognised, too_large
from samordning.money import format_kr, format_percent
from samordning.store import Store
from samordning.ui import ROLE_ENV, charts
from samordning.ui.widgets import ChunkedUpload, FitCharts, chart, download_link

log = logging.getLogger(__name__)
LOCAL_TZ = "Europe/Stockholm"
MAX_TABLE_ROWS = 500
ALL = ""  # the dropdowns' "all" choice (ipywidgets shows None as no selection at all)
MAP_FIELDS = {"booking_date": "Datum", "period": "Period", "amount": "Belopp", "debit": "Debet",
              "credit": "Kredit", "account": "Konto", "cost_centre": "Ansvar", "activity": "Verksamhet",
              "project": "Projekt", "counterpart": "Motpart", "voucher": "Verifikation", "text": "Text"}

CSS = """
<style>
.smd { font-family: "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1b1f24; font-size: 15px;
       line-height: 1.45; }
.smd h1 { font-size: 26px; margin: 0 0 4px 0; font-weight: 600; line-height: 1.2; }
.smd h2 { font-size: 20px; margin: 16px 0 8px 0; font-weight: 600; }
.smd .sub { color: #4a5561; font-size: 14.5px; }
.smd .badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12.5px; line-height: 20px;
              background: #eef1f5; color: #1f3b57; border: 1px solid #c9d2dc; margin-left: 6px;
              white-space: nowrap; vertical-align: 1px; }
.smd .badge.warn { background: #fff4e5; color: #7a4100; border-color: #f0c48a; }
.smd .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px; }
.smd .card { border: 1px solid #d9dde3; border-radius: 8px; padding: 10px 14px; background: #fff; }
.smd .card .label { font-size: 14px; color: #4a5561; }
.smd .card .value { font-size: 26px; font-weight: 600; margin: 2px 0; white-space: nowrap;
                    font-variant-numeric: tabular-nums; }
.smd .card .note { font-size: 12.5px; color: #5b6671; line-height: 1.35; }
.smd table { border-collapse: collapse; width: 100%; font-size: 14.5px; font-variant-numeric: tabular-nums; }
.smd th, .smd td { padding: 5px 10px; border-bottom: 1px solid #e3e7ec; text-align: right; white-space: nowrap; }
.smd th.l, .smd td.l { text-align: left; white-space: normal; }
.smd th { background: #f4f6f9; font-weight: 600; }
.smd .neg { color: #b3261e; }
.smd ul.findings { padding-left: 18px; }
.smd .findings li { margin-bottom: 8px; }
.smd .clause { font-weight: 600; color: #1f3b57; margin-right: 6px; }
.smd .message { padding: 10px 14px; border-radius: 8px; background: #fff4e5; border: 1px solid #f0c48a; }
.smd .message.ok { background: #edf7ee; border-color: #9fd1a4; }
.smd .message.error { background: #fdecea; border-color: #f0a8a0; }
.smd pre { white-space: pre-wrap; font-family: inherit; margin: 4px 0 0 0; }
.smd .comment { border-left: 3px solid #c9d2dc; padding: 2px 10px; margin: 6px 0; }
.smd-editor textarea { font-family: "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; font-size: 15px; }
.smd .narratives { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 12px; }
.smd .narratives .card h3 { font-size: 17px; margin: 2px 0 2px 0; }
.smd .narratives .text { white-space: pre-wrap; margin: 4px 0 8px 0; }
.smd-download { display: inline-block; padding: 6px 14px; border-radius: 6px; background: #1f3b57;
                color: white !important;
                text-decoration: none; }
.smd-static { padding: 8px 16px; max-width: 1760px; margin: 0 auto; }
.smd-fake-tabs { display: flex; margin-top: 6px; }
.smd-fake-tabs span { font-size: 15px; padding: 4px 16px; border: 1px solid #c9c9c9; border-bottom: none;
                      background: #eeeeee; color: #757575; margin-right: -1px; }
.smd-fake-tabs span.on { background: white; color: black; border-top: 2px solid #1976d2; }
.smd-fake-panel { border: 1px solid #c9c9c9; padding: 15px; }
@media (min-width: 1700px) {  /* a projector or a large screen: read from the back of the room */
  .smd { font-size: 17px; } .smd h1 { font-size: 30px; } .smd .card .value { font-size: 32px; }
  .smd .card .label, .smd .sub, .smd table { font-size: 16px; }
}
.smd-chart-cell > * { flex: 1 1 auto; width: 100%; min-width: 0; }
/* A stack holds one chart per area filter in the same grid cell; only the chosen one is visible. Hidden by
   visibility (not display), the others keep their size and are drawn already: a filter only swaps them. */
.smd-stack { display: grid !important; grid-template-columns: minmax(0, 1fr); }
.smd-stack > * { grid-area: 1 / 1; min-width: 0; }
.smd-stack > * > * { flex: 1 1 auto; width: 100%; min-width: 0; }
.smd-stack > .smd-hidden { visibility: hidden; pointer-events: none; }
.widget-tab > .lm-TabBar .lm-TabBar-tab { font-size: 15px; flex: 0 0 auto !important; max-width: none !important;
                                          min-width: 110px; padding: 0 16px; }
</style>
"""


# -- the state every view renders from -------------------------------------------------------------------

@dataclass(frozen=True, eq=False)  # compared and hashed by identity: it is never changed
class Snapshot:
    """Everything the views show, computed in one pass over the store."""

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

    @classmethod
    def load(cls, store: Store, path: Path) -> Snapshot:
        agreement = load_agreement(path)
        revision = store.revision(agreement.id)
        rows = classify(store.ledger(agreement.id), agreement)
        payments = store.payments(agreement.id)
        return cls(
            agreement=agreement, path=path, rows=rows,
            quarters=quarterly(agreement, rows, payments=payments),
            quarters_by_area=quarterly(agreement, rows, by_area=True, payments=payments),
            figures=key_figures(agreement, rows, payments), forecast=forecast(agreement, rows, payments=payments),
            findings=check(agreement), uploads=store.uploads(agreement.id), payments=payments,
            withholdings=store.withholdings(agreement.id), comments=store.comments(agreement.id),
            store=store, revision=revision,
        )

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
        return sources_by_quarter(self.rows[self.rows["reason"] == ""])

    @property
    def area_names(self) -> dict[str, str]:
        return {a.key: a.name for a in self.agreement.areas}

    def quarter_table(self, area: str | None) -> pd.DataFrame:
        """The quarterly table for all areas (``None``) or one area: a cheap selection, no query."""
        if area is None:
            return self.quarters
        return self.quarters_by_area[self.quarters_by_area["area"] == area].reset_index(drop=True)


# -- small HTML helpers ----------------------------------------------------------------------------------

def _e(text: object) -> str:
    return html.escape(str(text))


def _kr(ore: int, precise: bool = False) -> str:
    css = ' class="neg"' if ore < 0 else ""
    return f"<span{css}>{_e(format_kr(int(ore), nbsp=True, ore_precision=precise))}</span>"


def _local(ts: object) -> str:
    stamp = pd.Timestamp(ts)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def _message(text: str, kind: str = "") -> str:
    return f'<div class="smd"><div class="message {kind}"><pre>{_e(text)}</pre></div></div>'


def _section(title: str, note: str = "") -> ipw.HTML:
    extra = f'<div class="sub">{note}</div>' if note else ""
    return ipw.HTML(f'<div class="smd"><h2>{_e(title)}</h2>{extra}</div>')


def _table(head: list[str], rows: list[list[str]], left: int | set[int] = 1, foot: list[str] | None = None) -> str:
    """An HTML table; amounts right-aligned, the columns in ``left`` (the first ``left`` if a number) left."""
    lefts = set(range(left)) if isinstance(left, int) else left

    def cells(values: list[str], tag: str) -> str:
        return "".join(f'<{tag}{" class=l" if i in lefts else ""}>{v}</{tag}>' for i, v in enumerate(values))
    body = "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows)
    footer = f"<tr>{cells(foot, 'th')}</tr>" if foot else ""
    return f'<div class="smd"><table><tr>{cells(head, "th")}</tr>{body}{footer}</table></div>'


def set_options(dropdown: ipw.Dropdown, options: list[tuple[str, Any]]) -> None:
    """Give a dropdown new choices, keeping its choice where it still exists, else the first.

    ipywidgets leaves the value as it was when the options change, and a value outside the options shows
    as an empty box; so the value is set explicitly.
    """
    values = [v for _, v in options]
    keep = dropdown.value if dropdown.value in values else (values[0] if values else None)
    dropdown.options = options
    dropdown.value = keep


def button(description: str, **kwargs: Any) -> ipw.Button:
    """A button as wide as its label (ipywidgets' fixed width cuts Swedish labels short)."""
    return ipw.Button(description=description, layout=ipw.Layout(width="auto", min_width="120px"), **kwargs)


def guarded(show: Callable[[str], None]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run a callback so that any error becomes a Swedish message via ``show``, never a traceback."""
    def decorate(callback: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(callback)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return callback(*args, **kwargs)
            except SamordningError as exc:
                show(_message(exc.describe(), "error"))
            except Exception:
                log.exception("callback %s failed", callback.__name__)
                show(_message("Något gick fel och inget har ändrats. Försök igen, eller kontakta den som "
                              "förvaltar samordning.", "error"))
            return None
        return run
    return decorate


# -- views -------------------------------------------------------------------------------------------------

def header_html(s: Snapshot) -> str:
    a = s.agreement
    status = ('<span class="badge warn">Utkast, ej undertecknat</span>' if a.status == "utkast"
              else '<span class="badge">Undertecknat</span>')
    return (f'<div class="smd"><h1>{_e(a.short_title or a.title)}</h1>'
            f'<div class="sub">Avtal {_e(a.id)}{status} · {_e(a.party("utförare").name)} (utförare) och '
            f'{_e(a.party("beställare").name)} (beställare) · giltigt {a.validity.start} – {a.validity.end}'
            f'<span class="badge">{_e(a.validity.clause)}</span></div></div>')


def figures_html(figures: list[Figure]) -> str:
    cards = "".join(
        f'<div class="card" data-key="{_e(f.key)}"><div class="label">{_e(f.label)}'
        f'<span class="badge" title="Avtalets paragraf">{_e(f.clause)}</span></div>'
        f'<div class="value">{_kr(f.ore)}</div><div class="note">{_e(f.note)}</div></div>'
        for f in figures
    )
    return f'<div class="smd"><div class="cards">{cards}</div></div>'


def findings_html(findings: list[Finding]) -> str:
    items = "".join(f'<li><span class="clause">{_e(f.clause)}</span><b>{_e(f.title)}</b><br>'
                    f'<span class="sub">{_e(f.detail)}</span></li>' for f in findings)
    return (f'<div class="smd"><h2>Avtalets egna motsägelser och luckor</h2>'
            f'<ul class="findings">{items}</ul></div>')


def provenance_html(s: Snapshot) -> str:
    if s.uploads.empty:
        return _message("Inga exporter är inlästa ännu. En controller laddar upp dem under Uppladdning "
                        "(eller kör samordning demo / samordning import FIL).")
    left = left_out_summary(s.rows)
    left_text = "; ".join(f"{r.rows} {'rad' if r.rows == 1 else 'rader'} ({_e(r.label.lower())})"
                          for r in left.itertuples()) or "inga"
    in_force = s.uploads[s.uploads["status"] != "ersatt"]
    newest = s.uploads.iloc[-1]
    month = s.forecast.as_of or "–"
    return (f'<div class="smd sub">Senaste utfall: <b>{_e(month)}</b>. Underlag: {len(in_force)} gällande '
            f'exporter, senast {_e(newest.filename)} (uppladdning {int(newest.id)}, {_local(newest.uploaded_at)}, '
            f'{_e(newest.uploaded_by)}). Rader som inte räknas som utfall: {left_text}.</div>')


def sources_by_quarter(rows: pd.DataFrame) -> dict[str, str]:
    """For each quarter, the uploads its figures come from: ``"3 (huvudbok_2023_kv3.xlsx)"``."""
    if rows.empty:
        return {}
    pairs = rows[["quarter", "upload_id", "filename"]].dropna(subset=["quarter"]).drop_duplicates()
    return {q: ", ".join(f"{int(p.upload_id)} ({p.filename})" for p in part.sort_values("upload_id").itertuples())
            for q, part in pairs.groupby("quarter")}


def quarter_table_html(table: pd.DataFrame, a: Agreement, sources: dict[str, str] | None = None) -> str:
    sources = sources or {}
    rows = [[_e(quarter_label(r.quarter)), _kr(r.planned_ore),
             _kr(r.advance_ore) + ("" if r.source == "plan" else ' <span class="badge">registrerad</span>'),
             _kr(r.actual_ore), _kr(r.variance_ore), _kr(r.balance_ore),
             _e(format_percent(None if pd.isna(r.utilisation) else r.utilisation)),
             _e(sources.get(r.quarter, "–"))] for r in table.itertuples()]
    sums = [_kr(int(table[c].sum())) for c in ("planned_ore", "advance_ore", "actual_ore", "variance_ore")]
    return _table(["Kvartal", "Förskott enligt plan", "Förskott i uppföljningen", "Utfall", "Avvikelse",
                   "Kvarstående medel", "Nyttjandegrad", "Underlag (uppladdning)"], rows, left={0, 7},
                  foot=["Summa", *sums, "", "", ""]) + (
        f'<div class="smd sub">Förskott enligt avtalsfilens plan ({_e(a.compensation.clause)}), registrerade '
        f'betalningar där sådana finns. Avvikelse = förskott − utfall; kvarstående medel återbetalas vid '
        f'avtalets slut ({_e(a.compensation.repayment_clause)}).</div>')


def forecast_html(fc: Forecast) -> str:
    if not fc.as_of:
        return ""
    text = (f"Prognos ({_e(fc.clause)}): utfall hittills {_kr(fc.actual_ore)} + genomsnitt per månad "
            f"{_kr(fc.monthly_average_ore)} × {fc.remaining_months} återstående månader = "
            f"{_kr(fc.forecast_ore)}. Förskott {_kr(fc.planned_advances_ore)} − prognos = "
            f"prognostiserad återbetalning {_kr(fc.repayment_ore)}.")
    if fc.overspend_ore:
        text += (f" Prognosen överskrider förskotten med {_kr(fc.overspend_ore)}; avtalet reglerar inte "
                 "överskridanden.")
    return f'<div class="smd sub">{text}</div>'


def role_html(controller: bool) -> str:
    return ('<div class="smd"><span class="badge warn">Controller: kan ladda upp och ändra</span></div>'
            if controller else '<div class="smd"><span class="badge">Samverkansrådet: läsvy</span></div>')


class ReportView:
    """The report (§7): make it for download, sign it, finalize it as presented, and fetch finalized ones."""

    title = "Rapport"

    def __init__(self, app: App) -> None:
        self.app = app
        style = {"description_width": "initial"}
        self.quarter = ipw.Dropdown(description="Till och med", style=style, layout=ipw.Layout(width="230px"))
        self.format = ipw.Dropdown(description="Format", style=style, layout=ipw.Layout(width="300px"), options=[
            ("PDF (för samverkansrådet)", ".pdf"), ("Excel (med transaktionerna)", ".xlsx"),
            ("HTML (en fil, för intranätet)", ".html")])
        self.make = button("Skapa rapport", icon="file", button_style="primary")
        self.link, self.sign_status, self.final_status, self.fetched = (ipw.HTML() for _ in range(4))
        self.make.on_click(guarded(self._show)(lambda _b: self._make()))
        self.finals = ipw.HTML()
        self.pick = ipw.Dropdown(description="Fastställd rapport", style=style, layout=ipw.Layout(width="420px"))
        self.fetch = button("Hämta", icon="download")
        self.fetch.on_click(guarded(self._show_fetched)(lambda _b: self._fetch()))
        self.quarter.observe(lambda _c: self._show_signoffs(), names="value")
        self.signed = ipw.HTML()
        children: list[ipw.Widget] = [
            _section("Rapport till beställaren och samverkansrådet",
                     "Först återrapporteringen av uppdraget (skrivs under Områden), sedan den ekonomiska "
                     "rapporten: nyckeltal, kvartal, områden, prognos, innehållande, kommentarer och underlag, "
                     "och sist underskrifterna (§7)."),
            ipw.HBox([self.quarter, self.format, self.make], layout=ipw.Layout(flex_flow="row wrap")), self.link,
            self.signed]
        if app.controller:
            self.party = ipw.Dropdown(description="Part", style=style, layout=ipw.Layout(width="420px"))
            self.sign_name = ipw.Text(description="Namn", style=style)
            self.sign_title = ipw.Text(description="Befattning", style=style)
            self.sign_date = ipw.DatePicker(description="Datum", style=style)
            sign = button("Spara underskrift", icon="pencil")
            sign.on_click(guarded(self._show_signed)(lambda _b: self._sign()))
            self.presented = ipw.DatePicker(description="Presenterad för samverkansrådet", style=style,
                                            value=dt.date.today(), layout=ipw.Layout(width="380px"))
            self.replace = ipw.Checkbox(description="Ersätter den fastställda rapporten för kvartalet", value=False,
                                        indent=False, layout=ipw.Layout(width="auto"))
            self.finalize = button("Fastställ rapporten", icon="lock", button_style="warning")
            self.finalize.on_click(guarded(self._show_final)(lambda _b: self._finalize()))
            children += [
                _section("Underskrifter", "Namn, befattning och datum för varje part i rapporten för kvartalet "
                         "ovan. Lämnas de tomma får rapporten linjer att skriva under på papper."),
                ipw.HBox([self.party, self.sign_name, self.sign_title, self.sign_date, sign],
                         layout=ipw.Layout(flex_flow="row wrap")), self.sign_status,
                _section("Fastställ rapporten", "Sparar rapporten i valt format som den presenterades: filen, "
                         "siffrorna, underlaget och filens sha256. Den ändras aldrig efteråt; senare rapporter "
                         "visar vad som har ändrats sedan dess."),
                ipw.HBox([self.presented, self.replace, self.finalize], layout=ipw.Layout(flex_flow="row wrap")),
                self.final_status]
        children += [_section("Fastställda rapporter", "Rapporterna som de presenterades för samverkansrådet; det "
                              "är dem protokollen hänvisar till."),
                     self.finals, ipw.HBox([self.pick, self.fetch], layout=ipw.Layout(flex_flow="row wrap")),
                     self.fetched]
        self.widget = ipw.VBox(children)

    def _show(self, value: str) -> None:
        self.link.value = value

    def _show_signed(self, value: str) -> None:
        self.sign_status.value = value

    def _show_final(self, value: str) -> None:
        self.final_status.value = value

    def _show_fetched(self, value: str) -> None:
        self.fetched.value = value

    def render(self, s: Snapshot) -> None:
        with_data = sorted(set(s.rows.loc[s.rows["reason"] == "", "quarter"].dropna()))
        options = [(quarter_label(q), q) for q in s.agreement.quarters if q in with_data]
        set_options(self.quarter, options)
        if options:
            self.quarter.value = options[-1][1]
        self.make.disabled = not options
        self.link.value = self.sign_status.value = self.fetched.value = ""
        f = s.final_reports
        rows = [[str(int(r.id)), _e(quarter_label(r.quarter)), _e(pd.Timestamp(r.presented_on).date()),
                 _e(r.filename), f'<code title="{_e(r.sha256)}">{_e(r.sha256[:16])}…</code>', _e(r.by),
                 _e(f"ersatt av nr {int(r.replaced_by)}" if pd.notna(r.replaced_by) else "gäller")]
                for r in f.itertuples()]
        self.finals.value = (_table(["Nr", "Kvartal", "Presenterad", "Fil", "sha256", "Fastställd av", "Status"],
                                    rows, left={1, 3, 4, 5, 6}) if rows else
                             '<div class="smd sub">Ingen rapport är fastställd ännu.</div>')
        set_options(self.pick, [(f"nr {int(r.id)}: {quarter_label(r.quarter)}, presenterad "
                                 f"{pd.Timestamp(r.presented_on).date()}", int(r.id)) for r in f.itertuples()][::-1])
        self.pick.disabled = self.fetch.disabled = f.empty
        if self.app.controller:
            set_options(self.party, [(f"{p.name} ({p.role})", p.role) for p in s.agreement.parties])
            self.finalize.disabled = not options
        self._show_signoffs()

    def _show_signoffs(self) -> None:
        s = self.app.snapshot
        if not self.quarter.value:
            self.signed.value = ""
            return
        signed = self.app.store.signoffs(s.agreement.id, self.quarter.value)

        def who(role: str) -> str:
            if role not in signed:
                return "skrivs under på papper"
            entry = signed[role]
            return ", ".join(_e(v) for v in (entry["name"], entry["title"], entry["signed_on"]) if v)
        parts = [f"{_e(p.name)}: {who(p.role)}" for p in s.agreement.parties]
        self.signed.value = f'<div class="smd sub">Underskrifter: {"; ".join(parts)}.</div>'

    def _make(self) -> None:
        from samordning.report import MIME
        from samordning.ui.document import report_file

        self.link.value = '<div class="smd sub">Rapporten skapas …</div>'
        suffix = self.format.value
        report, content = report_file(self.app.store, self.app.snapshot.agreement, suffix, self.quarter.value)
        self.link.value = download_link(content, report.filename(suffix), f"Spara {report.filename(suffix)}",
                                        MIME[suffix])

    def _sign(self) -> None:
        if not self.sign_name.value.strip():
            raise SamordningError("Skriv namnet på den som skriver under.")
        self.app.store.add_signoff(agreement_id=self.app.snapshot.agreement.id, quarter=self.quarter.value,
                                   party_role=self.party.value, name=self.sign_name.value.strip(),
                                   title=self.sign_title.value.strip(), signed_on=self.sign_date.value,
                                   user=self.app.user)
        self._show_signoffs()
        self._show_signed(_message(f"Underskriften för {self.party.label} i rapporten för "
                            f"{quarter_label(self.quarter.value)} är sparad.", "ok"))

    def _finalize(self) -> None:
        from samordning.report import MIME, finalize
        from samordning.ui.document import renderer

        if self.presented.value is None:
            raise SamordningError("Välj datumet då rapporten presenterades för samverkansrådet.")
        suffix = self.format.value
        report_id, report, content = finalize(
            self.app.store, self.app.snapshot.agreement, self.presented.value, quarter=self.quarter.value,
            suffix=suffix, render=renderer(suffix), user=self.app.user, replace=self.replace.value)
        self.replace.value = False
        self.app.reload()
        filename = self.app.snapshot.final_reports.set_index("id").loc[report_id, "filename"]
        self.final_status.value = (_message(f"Rapport nr {report_id} för {quarter_label(report.quarter)} är fastställd "
                                    f"som presenterad {self.presented.value}.", "ok")
                                   + download_link(content, filename, f"Spara {filename}", MIME[suffix]))

    def _fetch(self) -> None:
        from samordning.report import MIME

        filename, content = self.app.store.final_report_content(self.app.snapshot.agreement.id, self.pick.value)
        self.fetched.value = download_link(content, filename, f"Spara {filename}", MIME[Path(filename).suffix])


class OverviewView:
    title = "Översikt"

    def __init__(self, app: App) -> None:
        self.cards = ipw.HTML()
        self.provenance = ipw.HTML()
        self.forecast = ipw.HTML()
        self.findings = ipw.HTML()
        self.widget = ipw.VBox([self.cards, self.provenance, self.forecast, self.findings])

    def render(self, s: Snapshot) -> None:
        self.cards.value = figures_html(s.figures)
        self.provenance.value = provenance_html(s)
        self.forecast.value = forecast_html(s.forecast)
        self.findings.value = findings_html(s.findings)


def static_overview_html(s: Snapshot, controller: bool, tabs: list[str]) -> str:
    """The first tab as plain HTML, rendered by Voilà into the page itself: the figures are readable before the
    widgets have connected to the kernel (about half a second sooner), and the live view hides this copy as soon
    as it is drawn (its stylesheet carries ``.smd-static {display: none}``)."""
    bar = "".join(f'<span class="{"on" if i == 0 else ""}">{_e(t)}</span>' for i, t in enumerate(tabs))
    return (f'{CSS}<div class="smd-static">{header_html(s)}{role_html(controller)}'
            f'<div class="smd smd-fake-tabs">{bar}</div><div class="smd-fake-panel">'
            f'{figures_html(s.figures)}{provenance_html(s)}{forecast_html(s.forecast)}{findings_html(s.findings)}'
            '</div></div>')


def _chart_cell(chart: ipw.Widget) -> ipw.Box:
    """A grid cell that lets its chart shrink to the cell (a grid item is otherwise as wide as its content,
    and plotly then keeps its default 700 px and overlaps the neighbour)."""
    cell = ipw.Box([chart], layout=ipw.Layout(min_width="0", width="100%", overflow="hidden"))
    cell.add_class("smd-chart-cell")
    return cell


class QuarterView:
    title = "Kvartal"

    def __init__(self, on_drill: Callable[[str | None, str | None], None]) -> None:
        self.snapshot: Snapshot | None = None
        self.area = ipw.Dropdown(description="Område:", layout=ipw.Layout(width="420px"),
                                 style={"description_width": "70px"})
        # The charts of every area filter, drawn when the tab is first shown (a FigureWidget makes the browser
        # load plotly.js, ~5 MB, which the first page, Översikt, does not need) and stacked: choosing an area
        # shows its charts, which are drawn already, instead of redrawing one chart (a redraw takes 50-150 ms
        # in the browser; a swap is a repaint).
        self.boxes: dict[str, tuple[ipw.Box, ipw.Box]] = {}  # each chart in a box (the box takes CSS classes)
        self.stacks = [ipw.Box([ipw.HTML("Laddar diagram …")]), ipw.Box()]
        for stack in self.stacks:
            stack.add_class("smd-stack")
        self.table = ipw.HTML()
        self.note = ipw.HTML()
        self.drill_quarter = ipw.Dropdown(description="Rader för:", style={"description_width": "70px"},
                                          layout=ipw.Layout(width="260px"))
        drill = button("Visa transaktionerna", icon="list")
        drill.on_click(lambda _b: on_drill(self.drill_quarter.value, self.area.value))
        self.area.observe(lambda _c: self.refresh(), names="value")
        charts_box = ipw.GridBox([_chart_cell(stack) for stack in self.stacks], layout=ipw.Layout(
            width="100%", grid_template_columns="repeat(auto-fit, minmax(520px, 1fr))", grid_gap="12px"))
        self.widget = ipw.VBox([ipw.HBox([self.area]), self.note, charts_box, self.table,
                                ipw.HBox([self.drill_quarter, drill])])

    @property
    def charts(self) -> dict[str, tuple[go.FigureWidget, go.FigureWidget]]:
        """Each filter choice's quarter and balance charts."""
        return {key: (q.children[0], b.children[0]) for key, (q, b) in self.boxes.items()}

    @property
    def chart(self) -> go.FigureWidget:
        """The quarter chart on show (of the chosen area)."""
        return self.boxes[self.area.value][0].children[0]

    def render(self, s: Snapshot) -> None:
        self.snapshot = s
        keys = [ALL, *[a.key for a in s.agreement.areas]]
        for key in keys:  # built once, updated in place when the data changes
            quarter_fig, balance_fig = self._figures(s, key)
            if key in self.boxes:
                for box, figure in zip(self.boxes[key], (quarter_fig, balance_fig), strict=True):
                    charts.update_in_place(box.children[0], figure)
            else:
                self.boxes[key] = (ipw.Box([chart(quarter_fig)]), ipw.Box([chart(balance_fig)]))
        self.boxes = {key: self.boxes[key] for key in keys}  # another agreement: its own areas only
        for i, stack in enumerate(self.stacks):
            wanted = [self.boxes[key][i] for key in keys]
            if list(stack.children) != wanted:
                stack.children = wanted
        set_options(self.area, [("Alla områden", ALL), *[(a.name, a.key) for a in s.agreement.areas]])
        set_options(self.drill_quarter, [("alla kvartal", ALL),
                                         *[(quarter_label(q), q) for q in s.agreement.quarters]])
        self.refresh()

    @staticmethod
    @functools.lru_cache(maxsize=32)
    def _figures(s: Snapshot, area: str) -> tuple[go.Figure, go.Figure]:
        """The two charts for an area of a snapshot, built once (a snapshot never changes)."""
        table = s.quarter_table(area or None)
        name = s.area_names.get(area, "alla områden")
        return (charts.quarter_figure(table, f"{charts.QUARTER_TITLE} – {name}"),
                charts.balance_figure(table, f"Kvarstående medel – {name}"))

    def refresh(self) -> None:
        s = self.snapshot
        if s is None:
            return
        for key, pair in self.boxes.items():
            for widget in pair:
                if key == self.area.value:
                    widget.remove_class("smd-hidden")
                else:
                    widget.add_class("smd-hidden")
        self.table.value = quarter_table_html(s.quarter_table(self.area.value or None), s.agreement, s.sources)
        self.note.value = ("" if self.area.value == ALL else
                           '<div class="smd sub">Områdets förskott är avtalets förskott × områdets andel, '
                           'som är ett antagande tills bilaga 1 finns.</div>')


def narratives_html(s: Snapshot) -> str:
    """What was done in each area and in the whole agreement (§7), beside the area's own figures: a card per
    area with its advance, actual and utilisation so far, and the current text per quarter."""
    a = s.agreement
    current = s.narratives[s.narratives["current"]]
    earlier = s.narratives[~s.narratives["current"]]
    totals = s.quarters_by_area.groupby("area", sort=False)[["advance_ore", "actual_ore"]].sum()
    order = {q: i for i, q in enumerate(a.quarters)}
    cards = []
    for key, name in [(None, "Hela avtalet"), *[(area.key, area.name) for area in a.areas]]:
        mine = current[current["area"].isna() if key is None else current["area"] == key]
        mine = mine.sort_values("quarter", key=lambda q: q.map(lambda v: -1 if pd.isna(v) else order.get(v, 99)))
        if key is None:
            advance, actual = int(totals["advance_ore"].sum()), int(totals["actual_ore"].sum())
        else:
            advance, actual = (int(totals.loc[key, "advance_ore"]), int(totals.loc[key, "actual_ore"])
                               ) if key in totals.index else (0, 0)
        figures = (f'<div class="sub">Förskott hittills {_kr(advance)} · utfall {_kr(actual)} · nyttjandegrad '
                   f'{_e(format_percent(actual / advance if advance else None))}</div>')
        texts = "".join(
            f'<div><b>{_e(quarter_label(n.quarter) if isinstance(n.quarter, str) else "Hela avtalstiden")}</b> '
            f'<span class="sub">{_e(n.author)}, {_local(n.at)}'
            f'{_versions(earlier, n)}</span><div class="text">{_e(n.text)}</div></div>'
            for n in mine.itertuples())
        cards.append(f'<div class="card" data-area="{_e(key or "")}"><h3>{_e(name)}</h3>{figures}'
                     f'{texts or "<div class=sub>Ingen återrapportering ännu.</div>"}</div>')
    return f'<div class="smd"><div class="narratives">{"".join(cards)}</div></div>'


def _versions(earlier: pd.DataFrame, n: Any) -> str:
    """", 2 tidigare versioner" when a text has replaced others (they are kept, like the comments)."""
    same = earlier[(earlier["area"].isna() if pd.isna(n.area) else earlier["area"] == n.area)
                   & (earlier["quarter"].isna() if pd.isna(n.quarter) else earlier["quarter"] == n.quarter)]
    return f", {len(same)} tidigare {'version' if len(same) == 1 else 'versioner'}" if len(same) else ""


class AreaView:
    title = "Områden"

    def __init__(self, app: App) -> None:
        self.app = app
        self.chart: ipw.Widget = ipw.HTML("Laddar diagram …")  # see QuarterView
        self.cell = _chart_cell(self.chart)
        self.table = ipw.HTML()
        self.narratives = ipw.HTML()
        self.status = ipw.HTML()
        self.heading = ipw.HTML()
        children: list[ipw.Widget] = [self.cell, self.table, self.heading, self.narratives]
        if app.controller:
            style = {"description_width": "initial"}
            self.target = ipw.Dropdown(description="Gäller", style=style, layout=ipw.Layout(width="360px"))
            self.quarter = ipw.Dropdown(description="Kvartal", style=style, layout=ipw.Layout(width="260px"))
            self.text = ipw.Textarea(placeholder="Vad har gjorts, resultat mot uppdraget, vad är försenat och "
                                     "varför …", layout=ipw.Layout(width="100%", max_width="900px", height="140px"))
            save = button("Spara återrapportering", button_style="primary")
            save.on_click(guarded(self._show)(lambda _b: self._save()))
            for w in (self.target, self.quarter):
                w.observe(lambda _c: self._load_text(), names="value")
            children += [_section("Skriv återrapportering", "Texten går in i rapportens första del. Den gällande "
                                  "texten för området och kvartalet visas här för redigering; när den sparas "
                                  "ersätter den den gällande, och tidigare versioner sparas."),
                         ipw.HBox([self.target, self.quarter], layout=ipw.Layout(flex_flow="row wrap")),
                         self.text, ipw.HBox([save])]
            self.text.add_class("smd-editor")
        children.append(self.status)
        self.widget = ipw.VBox(children)
        self.snapshot: Snapshot | None = None

    def _show(self, value: str) -> None:
        self.status.value = value

    def _current(self) -> str:
        s = self.snapshot
        if s is None:
            return ""
        n = s.narratives[s.narratives["current"]]
        area, quarter = self.target.value or None, self.quarter.value or None
        n = n[(n["area"].isna() if area is None else n["area"] == area)
              & (n["quarter"].isna() if quarter is None else n["quarter"] == quarter)]
        return str(n["text"].iloc[-1]) if len(n) else ""

    def _load_text(self) -> None:
        self.text.value = self._current()

    def _save(self) -> None:
        text = self.text.value.strip()
        if not text:
            raise SamordningError("Skriv återrapporteringen först.")
        if text == self._current().strip():
            raise SamordningError("Texten är oförändrad; inget har sparats.")
        target = self.target.label
        self.app.store.add_comment(agreement_id=self.app.snapshot.agreement.id, text=text, author=self.app.user,
                                   quarter=self.quarter.value or None, area=self.target.value or None,
                                   kind="narrative")
        self.app.reload()
        self._show(_message(f"Återrapporteringen för {target.replace(chr(160), ' ')} är sparad.", "ok"))

    def render(self, s: Snapshot) -> None:
        self.snapshot = s
        a = s.agreement
        self.heading.value = _section(
            f"Återrapportering av uppdraget ({a.report.clause})",
            "Vad som har gjorts inom varje område, resultat mot uppdraget och vad som är försenat – "
            "skrivet av controllerna, bredvid områdets siffror.").value
        self.narratives.value = narratives_html(s)
        if self.app.controller:
            set_options(self.target, [("Hela avtalet", ALL), *[(area.name, area.key) for area in a.areas]])
            set_options(self.quarter, [("hela avtalstiden", ALL), *[(quarter_label(q), q) for q in a.quarters]])
            self._load_text()

        figure = charts.area_figure(s.quarters_by_area, s.area_names)
        if not isinstance(self.chart, go.FigureWidget) or len(self.chart.data) != len(figure.data):
            self.chart = chart(figure)
            self.cell.children = [self.chart]
        else:
            charts.update_in_place(self.chart, figure)
        a = s.agreement
        per_area = s.quarters_by_area.groupby("area", sort=False)
        rows = []
        for area in a.areas:
            part = per_area.get_group(area.key)
            advance, actual = int(part["advance_ore"].sum()), int(part["actual_ore"].sum())
            share = format_percent(float(area.share)) + ("" if area.share_confirmed else
                                                         ' <span class="badge warn">antagande</span>')
            rows.append([_e(area.name), share, _kr(a.area_shares_ore(a.compensation_ore)[area.key]), _kr(advance),
                         _kr(actual), _kr(advance - actual),
                         _e(format_percent(actual / advance if advance else None)),
                         _kr(withholding_cap(a, area.key))])
        self.table.value = _table(
            ["Område", f"Andel ({_e(a.areas[0].clause)})", f"Ersättning ({_e(a.compensation.clause)})",
             "Förskott hittills", "Utfall", "Kvarstående", "Nyttjandegrad",
             f"Högst innehållet vid tvist ({_e(a.dispute.clause)})"], rows) + (
            f'<div class="smd sub">Tak vid tvist: {_e(format_percent(float(a.dispute.withholding_cap)))} av den '
            f'ersättning som avser området ({_e(a.dispute.clause)}). Andelarna kommer från avtalsfilen; '
            'där de är markerade som antagande vilar alla belopp per område på antagandet.</div>')


class TransactionsView:
    title = "Transaktioner"

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None
        style = {"description_width": "initial"}
        self.quarter = ipw.Dropdown(description="Kvartal", style=style)
        self.area = ipw.Dropdown(description="Område", style=style)
        self.account_class = ipw.Dropdown(description="Kontoklass", style=style,
                                          options=[("alla", ALL), *[(f"{c}", c) for c in "1234567890"]])
        self.reason = ipw.Dropdown(description="Rader", style=style, options=[
            ("som räknas som utfall", ""), ("alla", "*"),
            *[(f"utelämnade: {v.lower()}", k) for k, v in REASONS.items()]])
        self.text = ipw.Text(description="Text innehåller", style=style, continuous_update=False)
        self.summary = ipw.HTML()
        self.table = ipw.HTML()
        self.export = button("Exportera urvalet till Excel", icon="download")
        self.download = ipw.HTML()
        self.export.on_click(guarded(self._show)(lambda _b: self._export()))
        for w in (self.quarter, self.area, self.account_class, self.reason, self.text):
            w.observe(lambda _c: self.refresh(), names="value")
        self.widget = ipw.VBox([
            ipw.HBox([self.quarter, self.area, self.account_class, self.reason],
                     layout=ipw.Layout(flex_flow="row wrap")),
            ipw.HBox([self.text, self.export, self.download]), self.summary, self.table])

    def _show(self, value: str) -> None:
        self.download.value = value

    def render(self, s: Snapshot) -> None:
        self.snapshot = s
        set_options(self.quarter, [("alla", ALL), *[(quarter_label(q), q) for q in s.agreement.quarters]])
        set_options(self.area, [("alla", ALL), *[(a.name, a.key) for a in s.agreement.areas]])
        self.refresh()

    def set_filter(self, quarter: str | None, area: str | None) -> None:
        with self.widget.hold_sync():
            self.quarter.value, self.area.value, self.reason.value = quarter or ALL, area or ALL, ""
        self.refresh()

    def selection(self) -> pd.DataFrame:
        assert self.snapshot is not None
        rows = self.snapshot.rows
        mask = pd.Series(True, index=rows.index)
        if self.quarter.value:
            mask &= rows["quarter"] == self.quarter.value
        if self.area.value:
            mask &= rows["area"] == self.area.value
        if self.account_class.value:
            mask &= rows["account"].str[:1] == self.account_class.value
        if self.reason.value != "*":
            mask &= rows["reason"] == self.reason.value
        if self.text.value.strip():
            mask &= rows["text"].str.contains(self.text.value.strip(), case=False, regex=False)
        return rows[mask]

    def refresh(self) -> None:
        if self.snapshot is None:
            return
        rows = self.selection()
        self.download.value = ""
        total = int(rows["amount_ore"].sum())
        self.summary.value = (f'<div class="smd sub"><b>{len(rows)}</b> rader, summa <b>{_kr(total, True)}</b>'
                              + (f" (visar de första {MAX_TABLE_ROWS}; exportera för alla)"
                                 if len(rows) > MAX_TABLE_ROWS else "") + "</div>")
        names = self.snapshot.area_names
        self.table.value = _table(
            ["Källa (fil:rad)", "Datum", "Konto", "Ansvar", "Projekt", "Text", "Belopp", "Område / skäl"],
            [[f"{_e(r.filename)}:{int(r.excel_row)}", _e(r.booking_date or r.period or ""), _e(r.account),
              _e(r.cost_centre), _e(r.project), _e(r.text), _kr(int(r.amount_ore), True),
              _e(names.get(r.area, "") if not r.reason else REASONS[r.reason])]
             for r in rows.head(MAX_TABLE_ROWS).itertuples()], left={0, 5, 7})

    def _export(self) -> None:
        rows = self.selection()
        out = io.BytesIO()
        frame = pd.DataFrame({
            "Fil": rows["filename"], "Blad": rows["sheet"], "Rad": rows["excel_row"],
            "Datum": rows["booking_date"], "Period": rows["period"], "Konto": rows["account"],
            "Ansvar": rows["cost_centre"], "Projekt": rows["project"], "Verifikation": rows["voucher"],
            "Text": rows["text"], "Belopp": [int(v) / 100 for v in rows["amount_ore"]],
            "Område": rows["area"].map(self.snapshot.area_names) if self.snapshot else rows["area"],
            "Utelämnad": rows["reason"].map(REASONS),
        })
        with pd.ExcelWriter(out, engine="openpyxl") as writer:
            frame.to_excel(writer, sheet_name="Transaktioner", index=False)
            sheet = writer.sheets["Transaktioner"]
            sheet.freeze_panes = "A2"
            sheet.auto_filter.ref = sheet.dimensions
            for cell in sheet["K"][1:]:
                cell.number_format = "#,##0.00"
            for row in sheet.iter_rows(min_row=2):
                for cell in row:  # uploaded text never becomes a formula (§8 export goes to other people)
                    if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                        cell.data_type = "s"
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
        self.download.value = download_link(out.getvalue(), f"transaktioner-{stamp}.xlsx",
                                            f"Spara {len(rows)} rader som Excel")


class UploadView:
    title = "Uppladdning"

    def __init__(self, app: App) -> None:
        self.app = app
        self.prepared: PreparedImport | None = None
        self.user = ipw.Text(description="Ditt namn", value=app.user, style={"description_width": "initial"})
        self.upload = ChunkedUpload(description="Välj exportfil (Excel, CSV eller SIE) …")
        self.status = ipw.HTML()
        self.save = button("Spara i uppföljningen", button_style="primary", icon="check")
        self.cancel = button("Avbryt", icon="times")
        self.confirm = ipw.HBox([self.save, self.cancel], layout=ipw.Layout(display="none"))
        self.history = ipw.HTML()
        # Choosing the sheet and mapping columns by hand, for exports detection does not understand.
        self.received: tuple[str, bytes] | None = None
        self.preview: dict[str, list[list[str]]] = {}
        style = {"description_width": "initial"}
        self.map_sheet = ipw.Dropdown(description="Blad", style=style, layout=ipw.Layout(width="300px"))
        self.map_header = ipw.BoundedIntText(description="Rubrikrad (radnummer i Excel)", value=1, min=1, max=40,
                                             style=style, layout=ipw.Layout(width="260px"))
        self.map_preview = ipw.HTML()
        self.map_fields = {name: ipw.Dropdown(description=label, style={"description_width": "110px"},
                                              layout=ipw.Layout(width="330px"))
                           for name, label in MAP_FIELDS.items()}
        for w in (self.map_sheet, self.map_header):
            w.observe(lambda _c: self._fill_mapping(), names="value")
        reread = button("Läs filen med dessa val", icon="refresh", button_style="info")
        reread.on_click(guarded(self._show)(lambda _b: self._reread()))
        self.mapping = ipw.VBox([
            _section("Blad och kolumner", "Välj bladet och raden med rubrikerna, och vilken kolumn som är vad. "
                     "Belopp (eller Debet och Kredit) och Datum (eller Period) behövs. Kopplingen sparas och "
                     "används för nästa fil med samma rubriker."),
            ipw.HBox([self.map_sheet, self.map_header], layout=ipw.Layout(flex_flow="row wrap")), self.map_preview,
            ipw.GridBox(list(self.map_fields.values()), layout=ipw.Layout(
                grid_template_columns="repeat(auto-fill, minmax(340px, 1fr))")), ipw.HBox([reread])],
            layout=ipw.Layout(display="none"))
        self.map_toggle = button("Välj blad och kolumner själv", icon="columns")
        self.map_toggle.layout.display = "none"
        self.map_toggle.on_click(guarded(self._show)(lambda _b: self._open_mapping()))
        self.revert_choice = ipw.Dropdown(description="Uppladdning", style={"description_width": "initial"})
        self.revert = button("Låt den gälla igen", icon="undo")
        show = guarded(self._show)
        self.upload.on_file(show(self._received))
        self.upload.on_too_large(show(lambda name, size: self._show(_message(
            f"{too_large(name, size).message} Inget har skickats.", "error"))))
        self.save.on_click(show(lambda _b: self._save()))
        self.cancel.on_click(show(lambda _b: self._cancel()))
        self.revert.on_click(show(lambda _b: self._revert()))
        self.widget = ipw.VBox([
            ipw.HTML('<div class="smd sub">Ladda upp exporten från ekonomisystemet som den är. Filen läses och '
                     'visas först; inget sparas förrän du bekräftar. En ny export som täcker samma månader '
                     'ersätter de äldre raderna för de månaderna; den äldre uppladdningen finns kvar i historiken '
                     'och kan återställas.</div>'),
            self.user, self.upload, self.status, self.confirm, ipw.HBox([self.map_toggle]), self.mapping,
            _section("Historik"), self.history, ipw.HBox([self.revert_choice, self.revert])])

    def _show(self, value: str) -> None:
        self.status.value = value

    def render(self, s: Snapshot) -> None:
        u = s.uploads
        self.history.value = _table(
            ["Id", "Fil", "Inläst", "Av", "Månader", "Gäller för", "Status", "Rader (räknas)", "sha256"],
            [[str(int(r.id)), _e(r.filename), _local(r.uploaded_at), _e(r.uploaded_by), _e(", ".join(r.periods)),
              _e(", ".join(r.active_periods) or "–"), _e(r.status),
              f"{r.summary.get('rows_read', '')} ({r.summary.get('rows_counted', '')})",
              f'<span title="{_e(r.sha256)}">{_e(r.sha256[:12])}…</span>'] for r in u.iloc[::-1].itertuples()],
            left={1, 2, 3, 4, 5, 6}) if len(u) else '<div class="smd sub">Inga uppladdningar ännu.</div>'
        replaced = u[u["status"] != "aktiv"] if len(u) else u
        set_options(self.revert_choice, [(f"{int(r.id)}: {r.filename} ({r.status})", int(r.id))
                                         for r in replaced.itertuples()])
        self.revert.disabled = not len(replaced)

    def _received(self, name: str, content: bytes) -> None:
        self.received = (name, content)
        self.preview = {}
        self.mapping.layout.display = "none"
        self.map_toggle.layout.display = "none"
        try:
            self._read()
        except SamordningError:
            try:  # offer the mapping where the file itself can be read
                self.preview = peek(content, name)
            except SamordningError:
                self.preview = {}
            if self.preview:
                self._open_mapping()
            raise

    def _read(self, **options: Any) -> None:
        assert self.received is not None
        name, content = self.received
        self.confirm.layout.display = "none"
        self.prepared = None
        prepared = prepare_import(self.app.store, self.app.snapshot.agreement, name, content, **options)
        if prepared.duplicate_of is not None:
            self._show(_message(f"{name} är redan inläst (uppladdning {prepared.duplicate_of}); inget har ändrats.",
                                "ok"))
            return
        assert prepared.result is not None
        r = prepared.result
        left = "".join(f"<li>{row.rows} {'rad' if row.rows == 1 else 'rader'}, {_kr(int(row.amount_ore), True)} – "
                       f"{_e(row.label)}</li>" for row in (r.left_out if r.left_out is not None else []).itertuples())
        replaces = "".join(f"<li>{_e(m)}: ersätter raderna från uppladdning {', '.join(map(str, ids))}</li>"
                           for m, ids in sorted(prepared.will_replace.items()))
        self._show(
            f'<div class="smd"><div class="message"><b>{_e(name)}</b> (blad {_e(r.sheet)}): {r.rows_read} rader lästa, '
            f'<b>{r.rows_imported}</b> räknas som utfall, summa <b>{_kr(r.amount_imported_ore, True)}</b>.'
            f'{"<br>Utelämnade:<ul>" + left + "</ul>" if left else ""}'
            f'{"Ersätter:<ul>" + replaces + "</ul>" if replaces else ""}'
            f'{"".join(f"<div>{_e(n)}</div>" for n in r.notes)}'
            f'Kontrollera och spara.</div></div>')
        self.prepared = prepared
        self.confirm.layout.display = "flex"
        self.map_toggle.layout.display = "flex" if prepared.export and prepared.export.kind != "SIE" else "none"

    def _open_mapping(self) -> None:
        if self.received is None:
            return
        if not self.preview:
            self.preview = peek(self.received[1], self.received[0])
        export = self.prepared.export if self.prepared else None
        set_options(self.map_sheet, [(n, n) for n in self.preview])
        if export is not None:
            self.map_sheet.value = export.sheet
            self.map_header.value = export.header_row
        self._fill_mapping(export.columns if export else None)
        self.mapping.layout.display = "flex"

    def _fill_mapping(self, current: dict[str, str] | None = None) -> None:
        """Each field's choices are the cells of the chosen header row; a cell named like a field is preselected."""
        rows = self.preview.get(self.map_sheet.value or "", [])
        header = rows[self.map_header.value - 1] if 0 < self.map_header.value <= len(rows) else []
        first = self.map_header.value
        shown = [(n, r) for n, r in enumerate(rows[:first + 3], start=1) if n >= max(1, first - 3)]
        width = max((len(r) for _, r in shown), default=0)
        self.map_preview.value = _table(
            ["Rad", *[chr(65 + i) if i < 26 else str(i + 1) for i in range(width)]],
            [[f"<b>{n}</b>" if n == first else str(n), *[_e(c[:30]) for c in r], *[""] * (width - len(r))]
             for n, r in shown], left=set(range(width + 1))) if shown else ""
        cells = [c for c in header if c]
        for name, dropdown in self.map_fields.items():
            guess = (current or {}).get(name) or next((c for c in cells if recognised(c) == name), ALL)
            set_options(dropdown, [("–", ALL), *[(c, c) for c in cells]])
            dropdown.value = guess if guess in cells else ALL

    def _reread(self) -> None:
        columns = {name: d.value for name, d in self.map_fields.items() if d.value}
        self._read(sheet=self.map_sheet.value, header_row=self.map_header.value, columns=columns)

    def _save(self) -> None:
        if self.prepared is None:
            return
        result = commit_import(self.app.store, self.app.snapshot.agreement, self.prepared,
                               user=self.user.value.strip() or current_user())
        self.prepared = None
        self.confirm.layout.display = "none"
        self.app.reload()
        self._show(_message(f"Sparad som uppladdning {result.upload_id}. Siffrorna är uppdaterade.\n"
                            + result.summary(), "ok"))

    def _cancel(self) -> None:
        self.prepared = None
        self.confirm.layout.display = "none"
        self._show(_message("Avbrutet; inget har sparats."))

    def _revert(self) -> None:
        upload_id = self.revert_choice.value
        if upload_id is None:
            return
        stepped = self.app.store.reinstate(self.app.snapshot.agreement.id, upload_id,
                                           self.user.value.strip() or current_user())
        self.app.reload()  # re-lists the choices: read nothing from them after this
        aside = "; ".join(f"{m}: uppladdning {', '.join(map(str, ids))}" for m, ids in sorted(stepped.items()))
        self._show(_message(f"Uppladdning {upload_id} gäller igen. Står åt sidan: {aside or 'inga'}.", "ok"))


class CommentsView:
    title = "Kommentarer"

    def __init__(self, app: App) -> None:
        self.app = app
        self.list = ipw.HTML()
        self.status = ipw.HTML()
        children: list[ipw.Widget] = [self.list]
        if app.controller:
            style = {"description_width": "initial"}
            self.quarter = ipw.Dropdown(description="Kvartal", style=style)
            self.area = ipw.Dropdown(description="Område", style=style)
            self.text = ipw.Textarea(placeholder="Förklara avvikelsen …",
                                     layout=ipw.Layout(width="640px", height="90px"))
            save = button("Spara kommentar", button_style="primary")
            save.on_click(guarded(self._show)(lambda _b: self._save()))
            children += [_section("Ny kommentar", "En ny kommentar till samma kvartal och område ersätter den "
                                  "gällande; tidigare versioner sparas."),
                         ipw.HBox([self.quarter, self.area]), self.text, ipw.HBox([save]), self.status]
            self.text.add_class("smd-editor")
        self.widget = ipw.VBox(children)

    def _show(self, value: str) -> None:
        self.status.value = value

    def render(self, s: Snapshot) -> None:
        names = s.area_names
        items = "".join(
            f'<div class="comment"><b>{_e(quarter_label(c.quarter) if c.quarter else "Hela avtalstiden")}'
            f'{" · " + _e(names.get(c.area, c.area)) if c.area else ""}</b> <span class="sub">{_e(c.author)}, '
            f'{_local(c.at)}</span><br>{_e(c.text)}</div>' for c in s.comments.itertuples())
        self.list.value = f'<div class="smd">{items or "<span class=sub>Inga kommentarer ännu.</span>"}</div>'
        if self.app.controller:
            set_options(self.quarter, [("hela avtalstiden", ALL),
                                       *[(quarter_label(q), q) for q in s.agreement.quarters]])
            set_options(self.area, [("alla områden", ALL), *[(a.name, a.key) for a in s.agreement.areas]])

    def _save(self) -> None:
        if not self.text.value.strip():
            raise SamordningError("Skriv en kommentar först.")
        self.app.store.add_comment(agreement_id=self.app.snapshot.agreement.id, text=self.text.value.strip(),
                                   author=self.app.user, quarter=self.quarter.value or None,
                                   area=self.area.value or None)
        self.text.value = ""
        self.app.reload()
        self._show(_message("Kommentaren är sparad.", "ok"))


def _parse_kr(text: str) -> int:
    amounts, bad = parse_amounts(pd.Series([text], dtype=object))
    if bad.iloc[0] or pd.isna(amounts.iloc[0]) or int(amounts.iloc[0]) <= 0:
        raise SamordningError(f"Beloppet {text!r} kan inte läsas; skriv till exempel 250 000 eller 250000,50.")
    return int(amounts.iloc[0])


class PaymentsView:
    title = "Betalningar och tvist"

    def __init__(self, app: App) -> None:
        self.app = app
        style = {"description_width": "initial"}
        self.payments = ipw.HTML()
        self.withholdings = ipw.HTML()
        self.status = ipw.HTML()
        # What-if: a dispute over an area, before anything is registered.
        self.whatif_area = ipw.Dropdown(description="Omtvistat område", style=style)
        self.whatif_amount = ipw.Text(description="Belopp att hålla inne (kr)", value="500 000", style=style,
                                      continuous_update=False)
        self.whatif = ipw.HTML()
        for w in (self.whatif_area, self.whatif_amount):
            w.observe(lambda _c: self._whatif(), names="value")
        children: list[ipw.Widget] = [
            _section("Förskott: fakturerade och betalda"), self.payments,
            _section("Innehållen ersättning (§10)"), self.withholdings,
            _section("Tänk om: tvist om ett område", "Visar taket och vad ett innehållande skulle betyda, utan att "
                     "något sparas."),
            ipw.HBox([self.whatif_area, self.whatif_amount]), self.whatif]
        if app.controller:
            self.p_quarter = ipw.Dropdown(description="Kvartal", style=style)
            self.p_amount = ipw.Text(description="Belopp (kr)", style=style)
            self.p_invoice = ipw.Text(description="Fakturanummer", style=style)
            self.p_invoiced = ipw.DatePicker(description="Fakturerad", style=style)
            self.p_paid = ipw.DatePicker(description="Betald", style=style)
            add_payment = button("Registrera betalning", button_style="primary")
            self.w_area = ipw.Dropdown(description="Område", style=style)
            self.w_amount = ipw.Text(description="Belopp (kr)", style=style)
            self.w_reason = ipw.Text(description="Skäl", style=style, layout=ipw.Layout(width="420px"))
            self.w_date = ipw.DatePicker(description="Från", style=style, value=dt.date.today())
            self.w_cap = ipw.HTML()
            add_withholding = button("Registrera innehållande", button_style="warning")
            self.w_area.observe(lambda _c: self._show_cap(), names="value")
            show = guarded(self._show)
            add_payment.on_click(show(lambda _b: self._add_payment()))
            add_withholding.on_click(show(lambda _b: self._add_withholding()))
            children += [
                _section("Registrera betalning av förskott"),
                ipw.HBox([self.p_quarter, self.p_amount, self.p_invoice], layout=ipw.Layout(flex_flow="row wrap")),
                ipw.HBox([self.p_invoiced, self.p_paid, add_payment], layout=ipw.Layout(flex_flow="row wrap")),
                _section("Registrera innehållen ersättning"),
                ipw.HBox([self.w_area, self.w_amount, self.w_date], layout=ipw.Layout(flex_flow="row wrap")),
                self.w_reason, self.w_cap, add_withholding]
        children.append(self.status)
        self.widget = ipw.VBox(children)
        self.snapshot: Snapshot | None = None

    def _show(self, value: str) -> None:
        self.status.value = value

    def render(self, s: Snapshot) -> None:
        self.snapshot = s
        a = s.agreement
        plan = s.quarters
        paid = s.payments
        self.payments.value = _table(
            ["Kvartal", "Enligt plan", "Fakturanummer", "Fakturerad", "Betald", "Belopp", "Registrerad av"],
            [[_e(quarter_label(p.quarter)), _kr(int(plan.loc[plan["quarter"] == p.quarter, "planned_ore"].sum())),
              _e(p.invoice_no), _e(p.invoiced_on or "–"), _e(p.paid_on or "–"), _kr(int(p.amount_ore)), _e(p.by)]
             for p in paid.itertuples()]) if len(paid) else (
            '<div class="smd sub">Inga betalningar registrerade; uppföljningen använder planen i avtalsfilen.</div>')
        names = s.area_names
        w = s.withholdings
        self.withholdings.value = _table(
            ["Område", "Belopp", "Skäl", "Från", "Släppt", f"Tak ({_e(a.dispute.clause)})"],
            [[_e(names.get(r.area, r.area)), _kr(int(r.amount_ore)), _e(r.reason), _e(r.withheld_on),
              _e(r.released_on or "–"), _kr(withholding_cap(a, r.area))] for r in w.itertuples()]) if len(w) else (
            '<div class="smd sub">Ingen ersättning är innehållen. Tak per område vid tvist: '
            + ", ".join(f"{_e(x.name)} {_kr(withholding_cap(a, x.key))}" for x in a.areas)
            + f" ({_e(a.dispute.clause)}).</div>")
        areas = [(x.name, x.key) for x in a.areas]
        set_options(self.whatif_area, areas)
        if self.app.controller:
            set_options(self.p_quarter, [(quarter_label(q), q) for q in a.quarters])
            set_options(self.w_area, areas)
            self._show_cap()
        self._whatif()

    def _held(self, area: str) -> int:
        assert self.snapshot is not None
        w = self.snapshot.withholdings
        return int(w.loc[(w["area"] == area) & w["released_on"].isna(), "amount_ore"].sum())

    def _show_cap(self) -> None:
        s = self.snapshot
        if s is None or self.w_area.value is None:
            return
        cap = withholding_cap(s.agreement, self.w_area.value)
        held = self._held(self.w_area.value)
        self.w_cap.value = (f'<div class="smd sub">Tak för området: {_kr(cap)} ({_e(s.agreement.dispute.clause)}); '
                            f'redan innehållet: {_kr(held)}; kvar att hålla inne: {_kr(cap - held)}.</div>')

    def _whatif(self) -> None:
        s = self.snapshot
        if s is None or self.whatif_area.value is None:
            return
        a, area = s.agreement, self.whatif_area.value
        try:
            amount = _parse_kr(self.whatif_amount.value)
        except SamordningError as exc:
            self.whatif.value = _message(exc.message, "error")
            return
        cap, held = withholding_cap(a, area), self._held(area)
        within = held + amount <= cap
        unspent = next(f.ore for f in s.figures if f.key == "unspent")
        repayment = max(s.forecast.planned_advances_ore - amount - s.forecast.forecast_ore, 0)
        verdict = ("ryms inom taket" if within else
                   f"överskrider taket med {_kr(held + amount - cap)} och skulle avvisas")
        self.whatif.value = (
            f'<div class="smd"><div class="message {"ok" if within else "error"}">Att hålla inne {_kr(amount)} för '
            f'{_e(s.area_names[area])} {verdict} (tak {_kr(cap)}, {_e(a.dispute.clause)}; redan innehållet '
            f'{_kr(held)}).<br>Kvarstående medel hos utföraren blir {_kr(unspent - amount)} i stället för '
            f'{_kr(unspent)}; prognostiserad återbetalning ({_e(a.compensation.repayment_clause)}) blir '
            f'{_kr(repayment)} '
            f'i stället för {_kr(s.forecast.repayment_ore)}. Avtalet anger inte hur innehållen ersättning regleras '
            f'({_e(a.dispute.clause)}).</div></div>')

    def _add_payment(self) -> None:
        s = self.snapshot
        assert s is not None
        if not self.p_invoice.value.strip():
            raise SamordningError("Ange fakturanummer.")
        self.app.store.add_payment(agreement_id=s.agreement.id, quarter=self.p_quarter.value,
                                   amount_ore=_parse_kr(self.p_amount.value), invoice_no=self.p_invoice.value.strip(),
                                   invoiced_on=self.p_invoiced.value, paid_on=self.p_paid.value, user=self.app.user)
        self.app.reload()
        self._show(_message("Betalningen är registrerad.", "ok"))

    def _add_withholding(self) -> None:
        s = self.snapshot
        assert s is not None
        if not self.w_reason.value.strip():
            raise SamordningError("Ange skälet till att ersättning hålls inne.")
        area = self.w_area.value
        self.app.store.add_withholding(
            agreement_id=s.agreement.id, area=area, amount_ore=_parse_kr(self.w_amount.value),
            reason=self.w_reason.value.strip(), withheld_on=self.w_date.value or dt.date.today(),
            cap_ore=withholding_cap(s.agreement, area), clause=s.agreement.dispute.clause, user=self.app.user)
        self.app.reload()
        self._show(_message("Innehållandet är registrerat.", "ok"))


# -- the application ----------------------------------------------------------------------------------------

class App:
    """One dashboard: a role, a store, the agreements to choose from, and the views."""

    def __init__(self, store: Store, path: Path, *, controller: bool = False, user: str | None = None,
                 choices: list[Path] | None = None) -> None:
        self.store = store
        self.controller = controller
        self.user = user or current_user()
        self.choices = choices or [path]
        self.header = ipw.HTML()
        self.selector = ipw.Dropdown(description="Avtal:", style={"description_width": "initial"},
                                     options=[(load_agreement(p).id, p) for p in self.choices], value=path,
                                     layout=ipw.Layout(display="flex" if len(self.choices) > 1 else "none"))
        self.bookmark = ipw.HTML()
        # Each view is built when its tab is first shown: the page's first load then carries one tab's
        # widgets (about 55 of the council's 230, of the controllers' 450), which the browser fetches and
        # draws before anything else.
        self.kinds: list[tuple[type, Callable[[], Any]]] = [
            (OverviewView, lambda: OverviewView(self)), (QuarterView, lambda: QuarterView(self._drill)),
            (AreaView, lambda: AreaView(self)), (TransactionsView, TransactionsView),
            (CommentsView, lambda: CommentsView(self)), (PaymentsView, lambda: PaymentsView(self)),
            (ReportView, lambda: ReportView(self))]
        if controller:
            self.kinds.insert(4, (UploadView, lambda: UploadView(self)))
        self.built: dict[int, Any] = {}
        self.titles = [kind.title for kind, _ in self.kinds]
        self.overview = self.view(0)
        self.panels = [ipw.VBox() for _ in self.kinds]
        self.tabs = ipw.Tab(children=self.panels, titles=self.titles)
        self.stale: set[int] = set()
        self.tabs.observe(guarded(self._show_error)(lambda _c: self._render_visible()), names="selected_index")
        self.error = ipw.HTML()
        self.snapshot = Snapshot.load(store, path)
        self.render()
        self.selector.observe(guarded(self._show_error)(lambda c: self.select(c["new"])), names="value")
        hide_static = "<style>.smd-static { display: none; }</style>"  # see static_overview_html()
        self.widget = ipw.VBox([ipw.HTML(CSS + hide_static), FitCharts(),
                                ipw.HBox([self.header], layout=ipw.Layout(width="100%")),
                                ipw.HBox([self.selector, self.bookmark, ipw.HTML(role_html(controller))]),
                                self.error, self.tabs],
                               layout=ipw.Layout(padding="8px 16px", max_width="1760px", margin="0 auto"))
        self.widget.add_class("smd-app")

    def _show_error(self, value: str) -> None:
        self.error.value = value

    def view(self, index: int) -> Any:
        """The view of tab ``index``, built on first use."""
        if index not in self.built:
            self.built[index] = self.kinds[index][1]()
        return self.built[index]

    def index_of(self, kind: type) -> int:
        return next(i for i, (k, _) in enumerate(self.kinds) if k is kind)

    @property
    def views(self) -> list[Any]:
        """Every view, built (for tests; the page builds a view when its tab is first shown)."""
        return [self.view(i) for i in range(len(self.kinds))]

    @property
    def transactions(self) -> TransactionsView:
        return self.view(self.index_of(TransactionsView))  # type: ignore[no-any-return]

    def render(self) -> None:
        s = self.snapshot
        self.header.value = header_html(s)
        query = urllib.parse.urlencode({"avtal": s.agreement.id})
        self.bookmark.value = (f'<div class="smd sub" style="margin: 4px 12px">Länk till detta avtal: '
                               f'<a href="?{_e(query)}">?{_e(query)}</a></div>') if len(self.choices) > 1 else ""
        # Only the visible tab renders now: the others render when first shown, at their real size
        # (a plotly chart drawn in a hidden tab keeps a wrong width) and off the first page load's path.
        self.stale = set(range(len(self.kinds)))
        self._render_visible()

    def _render_visible(self) -> None:
        index = self.tabs.selected_index or 0
        if not self.panels[index].children:
            self.panels[index].children = [self.view(index).widget]
        if index in self.stale:
            self.stale.discard(index)
            self.view(index).render(self.snapshot)

    def reload(self) -> None:
        self.snapshot = Snapshot.load(self.store, self.snapshot.path)
        self.render()

    def select(self, path: Path) -> None:
        if path == self.snapshot.path:
            return
        self.snapshot = Snapshot.load(self.store, path)
        self.selector.value = path  # when chosen by the URL
        self.error.value = ""
        self.render()

    def _drill(self, quarter: str | None, area: str | None) -> None:
        self.tabs.selected_index = self.index_of(TransactionsView)
        self.transactions.set_filter(quarter, area)


def _requested_agreement(choices: list[Path]) -> Path | None:
    """The agreement named in the page's URL (``?avtal=RUN/305/2022`` or the file's stem), if any."""
    query = urllib.parse.parse_qs(os.environ.get("QUERY_STRING", ""))
    wanted = (query.get("avtal") or [""])[0].strip()
    if not wanted:
        return None
    for path in choices:
        if wanted in (path.stem, load_agreement(path).id):
            return path
    raise SamordningError(f"Adressen nämner avtalet {wanted!r}, som inte finns. Tillgängliga: "
                          + ", ".join(load_agreement(p).id for p in choices) + ".")


def message(text: str) -> ipw.HTML:
    return ipw.HTML(CSS + _message(text))


def app() -> ipw.Widget:
    """The dashboard for the store, agreement and role that ``samordning serve`` puts in the environment.

    Under Voilà's preheated kernels everything, the data included, is loaded before anyone asks; when the
    request comes, the URL may pick another agreement, and data stored since then is loaded (one cheap query
    tells). Without preheating ``wait_for_request`` returns at once.
    """
    try:
        from voila.utils import wait_for_request

        default = agreement_path()
        folder = agreements_dir()
        choices = agreement_files(folder) if default.parent == folder.resolve() else [default]
        choices = [p.resolve() for p in choices] or [default]
        store = Store.open()
        view = App(store, default.resolve(), controller=os.environ.get(ROLE_ENV) == "controller", choices=choices)
        for area in (ALL, *view.snapshot.area_names):  # the charts of every area filter, ready before anyone asks
            QuarterView._figures(view.snapshot, area)
        # The loaded rows are millions of long-lived objects on a large store; keep the garbage collector from
        # walking them on every widget message while the page loads.
        gc.collect()
        gc.freeze()
        wait_for_request()
        path = _requested_agreement(choices)
        if path is not None and path != view.snapshot.path:
            view.select(path)
        elif store.revision(view.snapshot.agreement.id) != view.snapshot.revision:
            view.reload()
        display(HTML(static_overview_html(view.snapshot, view.controller, view.titles)))
        return view.widget
    except SamordningError as exc:
        return message(exc.describe())
    except Exception:
        log.exception("dashboard failed")
        return message("Instrumentpanelen kunde inte visas på grund av ett oväntat fel. "
                       "Kontakta den som förvaltar samordning.")
