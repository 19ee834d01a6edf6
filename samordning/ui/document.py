"""The report as one self-contained HTML file (interactive charts, no network needed, prints well) and as a
PDF printed from that HTML by headless Chromium, with page numbers and the agreement id in the footer.

This is the UI layer's writer: the chart is the dashboard's own figure builder (plotly figures from the
follow-up tables, no widgets). The domain (:mod:`samordning.report`) gathers the :class:`EconomicReport` and writes
the Excel file. :func:`report_file` is what the CLI and the dashboard call for a file in any of the three
formats; :func:`renderer` is what they hand to :func:`samordning.report.finalize`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from samordning.agreement import Agreement
from samordning.errors import SamordningError
from samordning.report import EconomicReport, build_report, report_format
from samordning.store import Store
from samordning.ui.fragments import env

CHROMIUM_ENV = "SAMORDNING_CHROMIUM"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw", "--virtual-time-budget=15000"]


def _chart(r: EconomicReport) -> str:
    from samordning.ui import charts  # plotly: only for HTML and PDF, not for an Excel file

    figure = charts.quarter_figure(r.quarters, f"{charts.QUARTER_TITLE} – alla områden")
    figure.update_layout(width=1000, height=430, autosize=False)  # the size of the printed page
    return figure.to_html(full_html=False, include_plotlyjs=False, config={**charts.CONFIG, "responsive": False})


def write_html(r: EconomicReport, *, for_print: bool = False) -> bytes:
    from plotly.offline import get_plotlyjs

    html = env.get_template("report.html.j2").render(
        r=r, a=r.agreement, names=r.area_names, chart=_chart(r), plotlyjs=get_plotlyjs(),
        for_print=for_print)
    return html.encode("utf-8")


def chromium() -> str:
    found = os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise SamordningError("PDF-rapporten skrivs ut med Chromium, som inte finns på datorn. Installera paketet "
                              "chromium (apt-get install chromium) eller ange sökvägen i SAMORDNING_CHROMIUM; "
                              "välj annars .html eller .xlsx.")
    return found


def write_pdf(r: EconomicReport) -> bytes:
    browser = chromium()
    with tempfile.TemporaryDirectory(prefix="samordning-rapport-") as tmp:
        page, pdf = Path(tmp) / "rapport.html", Path(tmp) / "rapport.pdf"
        page.write_bytes(write_html(r, for_print=True))
        try:
            done = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profil",
                                   f"--print-to-pdf={pdf}", page.as_uri()],
                                  capture_output=True, text=True, timeout=180, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SamordningError("Chromium blev inte klar med PDF-rapporten inom tre minuter.") from exc
        if done.returncode != 0 or not pdf.is_file():
            raise SamordningError(f"Chromium kunde inte skriva PDF-rapporten (kod {done.returncode}).")
        return pdf.read_bytes()


def renderer(suffix: str) -> Callable[[EconomicReport], bytes]:
    """The writer for a file ending in ``suffix`` (``.xlsx``, ``.pdf`` or ``.html``); an unknown one is refused."""
    suffix = report_format(suffix)
    if suffix == ".xlsx":
        from samordning.report.excel import write_xlsx

        return write_xlsx
    return write_html if suffix == ".html" else write_pdf


def report_file(store: Store, agreement: Agreement, suffix: str, quarter: str | None = None,
                made_on: dt.date | None = None, *,
                presented_on: dt.date | None = None) -> tuple[EconomicReport, bytes]:
    """The report up to ``quarter`` (the newest with data by default) as the bytes of an ``.xlsx``, ``.pdf`` or
    ``.html`` file."""
    render = renderer(suffix)
    report = build_report(store, agreement, quarter, made_on, presented_on=presented_on)
    return report, render(report)
