"""Plotly figures for the dashboard and the report: pure functions from follow-up tables to figures.

Amounts arrive as integer öre and are shown in kronor with Swedish separators (space for thousands,
decimal comma). Plan is drawn outlined, actual solid, the variance as its own bars with the sign in the
label, so that colour is never the only cue (IBCS manner).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from samordning.agreement import quarter_label
from samordning.money import format_kr, signed_kr

PLAN = "#1f3b57"
ACTUAL = "#1f3b57"
GOOD = "#2e7d32"
BAD = "#c62828"
GRID = "#d9dde3"
AREA_COLOURS = ("#1f3b57", "#8a5a00", "#4a6b2f", "#6b2f5a", "#2f5a6b")
FONT = "Segoe UI, Roboto, Helvetica Neue, Arial, sans-serif"
QUARTER_TITLE = "Förskott och utfall per kvartal"
VARIANCE_NOTE = "avvikelse = förskott − utfall"
TEXT = 14  # px: the smallest text in a chart, readable on a projector at 1366×768


# plotly.js's toolbar, ours: one button (download the chart as an image) with a Swedish tooltip, no plotly logo,
# and none of the buttons that send a chart to a cloud ("Share chart…"). The strings are
# plotly.js's own keys (plotly/src/components/modebar/buttons.js), given as a locale with the chart.
SWEDISH = {
    "Download plot as a PNG": "Spara diagrammet som bild (PNG)",
    "Download plot": "Spara diagrammet som bild",
    "Taking snapshot - this may take a few seconds": "Sparar bilden – det kan ta några sekunder",
    "Snapshot succeeded": "Bilden är sparad",
    "Sorry, there was a problem downloading your snapshot!": "Bilden kunde inte sparas.",
    "Double-click to zoom back out": "Dubbelklicka för att zooma ut igen",
    "Click to enter Plot title": "Klicka för att skriva diagrammets rubrik",
    "Click to enter X axis title": "Klicka för att skriva x-axelns rubrik",
    "Click to enter Y axis title": "Klicka för att skriva y-axelns rubrik",
}
CONFIG: dict[str, object] = {
    "displaylogo": False,
    "modeBarButtons": [["toImage"]],
    "showSendToCloud": False,
    "toImageButtonOptions": {"format": "png", "filename": "diagram", "scale": 2},
    "locale": "sv-samordning",
    "locales": {"sv-samordning": {"dictionary": SWEDISH, "format": {}}},
}


def _base_layout(title: str, height: int = 400, subtitle: str = "") -> dict[str, object]:
    heading: dict[str, object] = dict(text=title, x=0, xanchor="left", font=dict(size=18))
    if subtitle:  # plotly draws a <sup> at 70 %, under 14 px: a subtitle keeps its own size
        heading["subtitle"] = dict(text=subtitle, font=dict(size=TEXT, color="#4a5561"))
    return dict(
        title=heading,
        separators=", ",
        font=dict(family=FONT, size=TEXT, color="#1b1f24"),
        plot_bgcolor="white",
        paper_bgcolor="white",
        margin=dict(l=10, r=40, t=70, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1),
        hoverlabel=dict(font=dict(family=FONT)),
        height=height,
    )


def _money_axis() -> dict[str, object]:
    return dict(gridcolor=GRID, zerolinecolor="#8a949e", tickformat=",.0f", ticksuffix=" kr", automargin=True)


def _kr(ore: pd.Series) -> list[float]:
    # Display only: öre → kronor as floats for plotting; nothing is summed here.
    return [int(v) / 100 for v in ore]


def quarter_figure(table: pd.DataFrame, title: str = QUARTER_TITLE) -> go.Figure:
    """Advance (outlined) against actual (solid) per quarter, and below it the variance
    (advance − actual) as green/red bars with signed labels.

    ``table`` is :func:`samordning.followup.quarterly` output with one row per quarter.
    """
    labels = [quarter_label(q) for q in table["quarter"]]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.06)
    fig.add_bar(
        name="Förskott", x=labels, y=_kr(table["advance_ore"]), width=0.55,
        marker=dict(color="rgba(0,0,0,0)", line=dict(color=PLAN, width=2)),
        customdata=table.get("source"),
        hovertemplate="%{x}<br>Förskott: %{y:,.0f} kr<extra></extra>", row=1, col=1,
    )
    fig.add_bar(
        name="Utfall", x=labels, y=_kr(table["actual_ore"]), width=0.32, marker=dict(color=ACTUAL),
        hovertemplate="%{x}<br>Utfall: %{y:,.0f} kr<extra></extra>", row=1, col=1,
    )
    variance = table["variance_ore"]
    fig.add_bar(
        name="Avvikelse", x=labels, y=_kr(variance), width=0.32,
        marker=dict(color=[GOOD if v >= 0 else BAD for v in variance],
                    pattern=dict(shape=["" if v >= 0 else "/" for v in variance])),
        text=[signed_kr(v) for v in variance], textposition="outside", cliponaxis=False,
        # plotly shrinks a label that does not fit beside its bar (to ~8 px): never, the axis has room for it
        constraintext="none", textfont=dict(size=TEXT),
        hovertemplate="%{x}<br>Avvikelse: %{y:,.0f} kr<extra></extra>", row=2, col=1,
    )
    layout = _base_layout(title, height=480, subtitle=VARIANCE_NOTE)
    # Below the plot: beside a long title (an area's name) on half a laptop screen the legend overlaps it.
    layout["legend"] = dict(orientation="h", yanchor="top", y=-0.08, xanchor="left", x=0)
    layout["margin"] = dict(l=10, r=40, t=80, b=10)
    fig.update_layout(**layout, barmode="overlay", bargap=0.35)
    fig.update_yaxes(**_money_axis())
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    span = max([abs(int(v)) for v in variance] + [1]) / 100
    fig.update_yaxes(range=[-1.35 * span if (variance < 0).any() else 0, 1.35 * span], nticks=4, row=2, col=1)
    return fig


def balance_figure(table: pd.DataFrame, title: str = "Kvarstående medel (ackumulerat)") -> go.Figure:
    """The cumulative balance (advances so far − actuals so far) after each quarter (§6)."""
    labels = [quarter_label(q) for q in table["quarter"]]
    fig = go.Figure()
    fig.add_scatter(
        name="Kvarstående medel", x=labels, y=_kr(table["balance_ore"]), mode="lines+markers+text",
        line=dict(color=PLAN, width=3), marker=dict(size=10),
        text=[format_kr(int(v)) for v in table["balance_ore"]], cliponaxis=False, textfont=dict(size=TEXT),
        # The first and last points sit on the plot's edges: their labels lean inwards, clear of the axis.
        textposition=["top right" if i == 0 else "top left" if i == len(table) - 1 else "top center"
                      for i in range(len(table))],
        hovertemplate="%{x}<br>Kvarstående: %{y:,.0f} kr<extra></extra>",
    )
    layout = _base_layout(title, height=460)
    layout["showlegend"] = False
    layout["margin"] = dict(l=10, r=70, t=70, b=10)  # room for the last point's label
    fig.update_layout(**layout)
    fig.update_yaxes(**_money_axis(), rangemode="tozero")
    # The first and last quarters half a step in from the edges: the first x label clear of the y axis's "0 kr".
    fig.update_xaxes(range=[-0.4, len(table) - 0.6])
    return fig


def area_figure(table: pd.DataFrame, area_names: dict[str, str],
                title: str = "Förskott och utfall per område och kvartal") -> go.Figure:
    """Per quarter, one pair of bars per area: advance outlined, actual solid.

    ``table`` is :func:`samordning.followup.quarterly` output with ``by_area=True``.
    """
    fig = go.Figure()
    for i, (key, name) in enumerate(area_names.items()):
        part = table[table["area"] == key]
        labels = [quarter_label(q) for q in part["quarter"]]
        colour = AREA_COLOURS[i % len(AREA_COLOURS)]
        fig.add_bar(name=f"{name}: förskott", x=labels, y=_kr(part["advance_ore"]), offsetgroup=key,
                    marker=dict(color="rgba(0,0,0,0)", line=dict(color=colour, width=2)), legendgroup=key,
                    hovertemplate=f"{name}<br>%{{x}}<br>Förskott: %{{y:,.0f}} kr<extra></extra>")
        fig.add_bar(name=f"{name}: utfall", x=labels, y=_kr(part["actual_ore"]), offsetgroup=key,
                    marker=dict(color=colour, pattern=dict(shape="" if i % 2 == 0 else "x", fgcolor="white")),
                    legendgroup=key, width=0.25,
                    hovertemplate=f"{name}<br>%{{x}}<br>Utfall: %{{y:,.0f}} kr<extra></extra>")
    layout = _base_layout(title, height=460)
    # Below the plot: four entries beside a long title would overlap it on a laptop.
    layout["legend"] = dict(orientation="h", yanchor="top", y=-0.1, xanchor="left", x=0)
    fig.update_layout(**layout, barmode="group", bargap=0.25)
    fig.update_yaxes(**_money_axis(), rangemode="tozero")
    return fig


def _same(a: object, b: object) -> bool:
    try:
        return bool(a == b)
    except ValueError:  # numpy arrays compare element by element
        return bool(np.array_equal(a, b))


def update_in_place(widget: go.FigureWidget, figure: go.Figure) -> None:
    """Give a live FigureWidget the data of a freshly built figure in one message to the browser, sending
    (and validating) only the properties that changed: a filter changes the values and the title, not the
    styling."""
    with widget.batch_update():
        for live, new in zip(widget.data, figure.data, strict=True):
            old, wanted = live.to_plotly_json(), new.to_plotly_json()
            changed = {k: v for k, v in wanted.items() if not _same(old.get(k), v)}
            if changed:
                live.update(changed)
        old, wanted = widget.layout.to_plotly_json(), figure.layout.to_plotly_json()
        changed = {k: v for k, v in wanted.items() if not _same(old.get(k), v)}
        if changed:
            widget.layout.update(changed)
