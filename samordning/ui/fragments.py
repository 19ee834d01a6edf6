"""The HTML fragments the dashboard and the report share (key-figure cards, forecast sentence, quarter table),
and the one Jinja environment both render with: the macros live in ``templates/fragments.html.j2``."""

from __future__ import annotations

from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup, escape

from samordning.agreement import quarter_label
from samordning.followup import Figure, Forecast
from samordning.localtime import local_time
from samordning.money import format_kr, format_percent, signed_kr

NBSP = "\u00a0"


def money(ore: object, precise: bool = False) -> Markup:
    """An amount for the page: ``1 329 750 kr`` with no-break spaces; a negative one marked ``neg`` (red on
    screen)."""
    value = int(ore)  # type: ignore[call-overload]
    text = escape(format_kr(value, nbsp=True, ore_precision=precise))
    return Markup(f'<span class="neg">{text}</span>') if value < 0 else Markup(text)


def variance(ore: object, printed: bool = False) -> Markup:
    """A variance to the öre: with its sign on paper (read without colour), as an amount on screen."""
    if printed:
        return Markup(escape(signed_kr(int(ore), ore_precision=True).replace(" ", NBSP)))  # type: ignore[call-overload]
    return money(ore, True)


def pct(ratio: object) -> str:
    return format_percent(None if ratio is None or pd.isna(ratio) else float(ratio))  # type: ignore[arg-type]


env = jinja2.Environment(loader=jinja2.PackageLoader("samordning.ui", "templates"),
                         autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
env.filters.update(
    money=money, variance=variance, pct=pct, quarter=quarter_label, stamp=local_time,
    kr=lambda ore: format_kr(int(ore), nbsp=True),
    kr_ore=lambda ore: format_kr(int(ore), nbsp=True, ore_precision=True),
    signed=lambda ore: signed_kr(int(ore)).replace(" ", NBSP),
    signed_ore=lambda ore: signed_kr(int(ore), ore_precision=True).replace(" ", NBSP),
)


def _macro(name: str, *args: Any, **kwargs: Any) -> str:
    return str(getattr(env.get_template("fragments.html.j2").module, name)(*args, **kwargs))


def cards_html(figures: list[Figure]) -> str:
    """The key figures as cards, each with its clause."""
    return _macro("cards", figures)


def forecast_html(fc: Forecast, css: str = "note") -> str:
    """The forecast (§6) as one sentence with its arithmetic; empty before there is any data."""
    return _macro("forecast", fc, css)


def quarter_table_html(table: pd.DataFrame, *, printed: bool = False, sources: dict[str, str] | None = None) -> str:
    """The quarterly table (``quarterly()``) with its sums; ``sources`` adds the uploads behind each quarter."""
    return _macro("quarter_table", table, printed, sources)
