"""Plotly figures for the dashboard and the report: pure functions from follow-up tables to figures.

Amounts arrive as integer öre and are shown in kronor with Swedish separators (space for thousands,
decimal comma). Plan is drawn outlined, actual solid, variance with its sign in the label, so that
colour is never the only cue (IBCS manner).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from samordning.agreement import quarter_label
from samordning.money import format_kr

PLAN = "#1f3b57"
ACTUAL = "#1f3b57"
GOOD = "#2e7d32"
BAD = "#c62828"
GRID = "#d9dde3"
FONT = "Segoe UI, Roboto, Helvetica Neue, Arial, sans-serif"


def _base_layout(title: str) -> dict[str, object]:
    return dict(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=18)),
        separators=", ",
        font=dict(family=FONT, size=14, color="#1b1f24"),
        plot_bgcolor="white",
        paper_bgcolor="white",
        margin=dict(l=10, r=40, t=70, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
        yaxis=dict(gridcolor=GRID, zerolinecolor="#8a949e", tickformat=",.0f", ticksuffix=" kr",
                   rangemode="tozero", automargin=True),
        xaxis=dict(automargin=True),
        hoverlabel=dict(font=dict(family=FONT)),
        height=380,
    )


def _kr(ore: pd.Series) -> list[float]:
    # Display only: öre → kronor as floats for plotting; nothing is summed here.
    return [int(v) / 100 for v in ore]


QUARTER_TITLE = "Förskott och utfall per kvartal<br><sup>avvikelse = förskott − utfall</sup>"


def quarter_figure(table: pd.DataFrame, title: str = QUARTER_TITLE) -> go.Figure:
    """Advance (outlined) against actual (solid) per quarter, with the variance labelled above.

    ``table`` is :func:`samordning.followup.quarterly` output (one row per quarter).
    """
    labels = [quarter_label(q) for q in table["quarter"]]
    advance, actual, variance = _kr(table["advance_ore"]), _kr(table["actual_ore"]), _kr(table["variance_ore"])
    fig = go.Figure()
    fig.add_bar(
        name="Förskott (plan)", x=labels, y=advance, marker=dict(color="rgba(0,0,0,0)", line=dict(color=PLAN, width=2)),
        hovertemplate="%{x}<br>Förskott: %{y:,.0f} kr<extra></extra>",
    )
    fig.add_bar(
        name="Utfall", x=labels, y=actual, marker=dict(color=ACTUAL),
        hovertemplate="%{x}<br>Utfall: %{y:,.0f} kr<extra></extra>",
    )
    fig.add_scatter(
        name="Avvikelse", showlegend=False, x=labels, y=[max(a, b) for a, b in zip(advance, actual, strict=True)],
        mode="text", text=[("+" if v >= 0 else "") + format_kr(int(v)) for v in table["variance_ore"]],
        textposition="top center",
        textfont=dict(color=[GOOD if v >= 0 else BAD for v in variance], size=14),
        customdata=variance, hovertemplate="%{x}<br>Avvikelse: %{customdata:,.0f} kr<extra></extra>",
    )
    fig.update_layout(**_base_layout(title), barmode="overlay", bargap=0.35)
    fig.update_traces(selector=dict(type="bar"), width=0.5)
    fig.data[1].width = 0.3
    return fig


def balance_figure(table: pd.DataFrame, title: str = "Kvarstående medel (ackumulerat)") -> go.Figure:
    """The cumulative balance (advances so far − actuals so far) after each quarter (§6)."""
    labels = [quarter_label(q) for q in table["quarter"]]
    balance = _kr(table["balance_ore"])
    fig = go.Figure()
    fig.add_scatter(
        name="Kvarstående medel", x=labels, y=balance, mode="lines+markers+text",
        line=dict(color=PLAN, width=3), marker=dict(size=10),
        text=[format_kr(int(v)) for v in table["balance_ore"]], textposition="top center", cliponaxis=False,
        hovertemplate="%{x}<br>Kvarstående: %{y:,.0f} kr<extra></extra>",
    )
    layout = _base_layout(title)
    layout["showlegend"] = False
    fig.update_layout(**layout)
    return fig
