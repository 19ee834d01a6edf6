"""The Voilà dashboard: widgets over the follow-up of one agreement. The notebook only calls ``app()``.

State is one :class:`Snapshot` computed from the store; views render from it. Errors become a
Swedish message in the page, never a traceback.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass

import ipywidgets as ipw
import pandas as pd
import plotly.graph_objects as go

from samordning.agreement import Agreement, quarter_label, resolve_agreement
from samordning.check import Finding, check
from samordning.errors import SamordningError
from samordning.followup import Figure, key_figures, left_out_summary, quarterly
from samordning.imports import ledger
from samordning.money import format_kr, format_percent
from samordning.store import Store
from samordning.ui import charts

log = logging.getLogger(__name__)
LOCAL_TZ = "Europe/Stockholm"

CSS = """
<style>
.smd { font-family: "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1b1f24; }
.smd h1 { font-size: 26px; margin: 0 0 4px 0; font-weight: 600; }
.smd h2 { font-size: 20px; margin: 18px 0 8px 0; font-weight: 600; }
.smd .sub { color: #4a5561; font-size: 15px; }
.smd .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 13px;
              background: #eef1f5; color: #1f3b57; border: 1px solid #c9d2dc; margin-left: 6px; }
.smd .badge.warn { background: #fff4e5; color: #8a4b00; border-color: #f0c48a; }
.smd .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 12px; }
.smd .card { border: 1px solid #d9dde3; border-radius: 8px; padding: 12px 14px; background: #fff; }
.smd .card .label { font-size: 14px; color: #4a5561; }
.smd .card .value { font-size: 26px; font-weight: 600; margin: 4px 0; white-space: nowrap;
                    font-variant-numeric: tabular-nums; }
.smd .card .note { font-size: 12.5px; color: #5b6671; }
.smd table { border-collapse: collapse; width: 100%; font-size: 15px; font-variant-numeric: tabular-nums; }
.smd th, .smd td { padding: 6px 10px; border-bottom: 1px solid #e3e7ec; text-align: right; white-space: nowrap; }
.smd th:first-child, .smd td:first-child { text-align: left; }
.smd th { background: #f4f6f9; font-weight: 600; }
.smd .neg { color: #c62828; }
.smd .findings li { margin-bottom: 8px; }
.smd .findings .clause { font-weight: 600; color: #1f3b57; margin-right: 6px; }
.smd .message { padding: 12px 14px; border-radius: 8px; background: #fff4e5; border: 1px solid #f0c48a; }
</style>
"""


@dataclass(frozen=True)
class Snapshot:
    """Everything the views show, computed once from the store."""

    agreement: Agreement
    rows: pd.DataFrame
    quarters: pd.DataFrame
    figures: list[Figure]
    findings: list[Finding]
    uploads: pd.DataFrame

    @classmethod
    def load(cls, store: Store, agreement: Agreement) -> Snapshot:
        rows = ledger(store, agreement)
        return cls(agreement, rows, quarterly(agreement, rows), key_figures(agreement, rows), check(agreement),
                   store.uploads(agreement.id))


def _e(text: object) -> str:
    return html.escape(str(text))


def _kr(ore: int) -> str:
    css = ' class="neg"' if ore < 0 else ""
    return f"<span{css}>{_e(format_kr(int(ore), nbsp=True))}</span>"


def header_html(a: Agreement) -> str:
    status = '<span class="badge warn">Utkast, ej undertecknat</span>' if a.status == "utkast" else \
        '<span class="badge">Undertecknat</span>'
    performer, commissioner = a.party("utförare").name, a.party("beställare").name
    return (f'<div class="smd"><h1>{_e(a.short_title or a.title)}</h1>'
            f'<div class="sub">Avtal {_e(a.id)}{status} · {_e(performer)} (utförare) och {_e(commissioner)} '
            f'(beställare) · giltigt {a.validity.start} – {a.validity.end} '
            f'<span class="badge">{_e(a.validity.clause)}</span></div></div>')


def figures_html(figures: list[Figure]) -> str:
    cards = "".join(
        f'<div class="card" data-key="{_e(f.key)}"><div class="label">{_e(f.label)}'
        f'<span class="badge" title="Avtalets paragraf">{_e(f.clause)}</span></div>'
        f'<div class="value">{_kr(f.ore)}</div><div class="note">{_e(f.note)}</div></div>'
        for f in figures
    )
    return f'<div class="smd"><div class="cards">{cards}</div></div>'


def quarter_table_html(table: pd.DataFrame, a: Agreement) -> str:
    head = ("<tr><th>Kvartal</th><th>Förskott (plan)</th><th>Utfall</th><th>Avvikelse</th>"
            "<th>Kvarstående medel</th><th>Nyttjandegrad</th></tr>")
    body = "".join(
        f"<tr><td>{_e(quarter_label(r.quarter))}</td><td>{_kr(r.advance_ore)}</td><td>{_kr(r.actual_ore)}</td>"
        f"<td>{_kr(r.variance_ore)}</td><td>{_kr(r.balance_ore)}</td>"
        f"<td>{_e(format_percent(None if pd.isna(r.utilisation) else r.utilisation))}</td></tr>"
        for r in table.itertuples()
    )
    sums = [_kr(int(table[c].sum())) for c in ("advance_ore", "actual_ore", "variance_ore")]
    total = f"<tr><th>Summa</th><th>{sums[0]}</th><th>{sums[1]}</th><th>{sums[2]}</th><th></th><th></th></tr>"
    return (f'<div class="smd"><table>{head}{body}{total}</table>'
            f'<div class="sub">Förskott enligt planen i avtalsfilen ({_e(a.compensation.clause)}); '
            f'avvikelse = förskott − utfall; kvarstående medel återbetalas vid avtalets slut '
            f'({_e(a.compensation.repayment_clause)}).</div></div>')


def findings_html(findings: list[Finding]) -> str:
    items = "".join(f'<li><span class="clause">{_e(f.clause)}</span><b>{_e(f.title)}</b><br>'
                    f'<span class="sub">{_e(f.detail)}</span></li>' for f in findings)
    return f'<div class="smd"><h2>Avtalets egna motsägelser och luckor</h2><ul class="findings">{items}</ul></div>'


def provenance_html(snapshot: Snapshot) -> str:
    uploads = snapshot.uploads
    if uploads.empty:
        return ('<div class="smd"><div class="message">Inga exporter är inlästa ännu. Kör <code>samordning demo</code> '
                'eller <code>samordning import FIL</code>.</div></div>')
    left = left_out_summary(snapshot.rows)
    left_text = "; ".join(f"{r.rows} {'rad' if r.rows == 1 else 'rader'} ({_e(r.label.lower())})"
                          for r in left.itertuples()) or "inga"
    newest = uploads.iloc[-1]
    uploaded = pd.Timestamp(newest.uploaded_at)
    uploaded = (uploaded.tz_localize("UTC") if uploaded.tzinfo is None else uploaded).tz_convert(LOCAL_TZ)
    return (f'<div class="smd sub">Underlag: {len(uploads)} inlästa exporter, senast {_e(newest.filename)} '
            f'(inläst {uploaded.strftime("%Y-%m-%d %H:%M")}). '
            f'Rader som inte räknas som utfall: {left_text}.</div>')


def build_view(snapshot: Snapshot) -> ipw.VBox:
    a = snapshot.agreement
    quarter_chart = go.FigureWidget(charts.quarter_figure(snapshot.quarters))
    balance_chart = go.FigureWidget(charts.balance_figure(snapshot.quarters))
    return ipw.VBox([
        ipw.HTML(CSS + header_html(a)),
        ipw.HTML(figures_html(snapshot.figures)),
        ipw.HTML(provenance_html(snapshot)),
        ipw.HTML('<div class="smd"><h2>Per kvartal</h2></div>'),
        ipw.GridBox([quarter_chart, balance_chart], layout=ipw.Layout(
            width="100%", grid_template_columns="repeat(auto-fit, minmax(520px, 1fr))", grid_gap="12px")),
        ipw.HTML(quarter_table_html(snapshot.quarters, a)),
        ipw.HTML(findings_html(snapshot.findings)),
    ], layout=ipw.Layout(padding="8px 16px", max_width="1600px"))


def message(text: str) -> ipw.HTML:
    return ipw.HTML(CSS + f'<div class="smd"><div class="message">{_e(text)}</div></div>')


def app() -> ipw.Widget:
    """The dashboard for the agreement and store named by the environment that ``samordning serve`` sets."""
    try:
        agreement = resolve_agreement()
        return build_view(Snapshot.load(Store.open(), agreement))
    except SamordningError as exc:
        return message(exc.describe())
    except Exception:
        log.exception("dashboard failed")
        return message("Instrumentpanelen kunde inte visas på grund av ett oväntat fel. "
                       "Kontakta den som förvaltar samordning.")
