"""What every tab has in common: the Tab contract (title, roles, render(state)), forms built only for a role that
writes, the status line, guarded callbacks, and the builders of the quarter and area choices."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import ipywidgets as ipw

from samordning.agreement import Agreement, quarter_label
from samordning.errors import SamordningError
from samordning.store import Store
from samordning.ui import EVERYONE, WRITERS, Role
from samordning.ui.dashboard.html import message, section
from samordning.ui.dashboard.state import Actions, State

log = logging.getLogger(__name__)
ALL = ""  # the dropdowns' "all" choice (ipywidgets shows None as no selection at all)
CONTROLLERS = WRITERS  # a tab for the roles that write (Uppladdning)
STYLE = {"description_width": "initial"}


def guarded(show: Callable[[str], None]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run a callback so that any error becomes a Swedish message via ``show``, never a traceback."""
    def decorate(callback: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(callback)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return callback(*args, **kwargs)
            except SamordningError as exc:
                show(message(exc.describe(), "error"))
            except Exception:
                log.exception("callback %s failed", getattr(callback, "__name__", callback))
                show(message("Något gick fel och inget har ändrats. Försök igen, eller kontakta den som "
                             "förvaltar samordning.", "error"))
            return None
        return run
    return decorate


class Status:
    """A line for a part's messages; its callbacks are guarded through it."""

    def __init__(self) -> None:
        self.widget = ipw.HTML()

    @property
    def value(self) -> str:
        return str(self.widget.value)

    def show(self, value: str) -> None:
        self.widget.value = value

    def guard(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """``callback``, with any error shown here as a Swedish message."""
        return guarded(self.show)(callback)


def button(description: str, **kwargs: Any) -> ipw.Button:
    """A button as wide as its label (ipywidgets' fixed width cuts Swedish labels short)."""
    return ipw.Button(description=description, layout=ipw.Layout(width="auto", min_width="120px"), **kwargs)


def date_field(description: str, *, today: bool = False, width: str = "270px") -> ipw.Text:
    """A date typed as ISO text, ``ÅÅÅÅ-MM-DD``: the browser's date picker follows the browser's locale
    (mm/dd/yyyy in an English one) whatever the page's language. Read it with :func:`read_date`."""
    return ipw.Text(description=description, placeholder="ÅÅÅÅ-MM-DD", style=STYLE, layout=ipw.Layout(width=width),
                    value=dt.date.today().isoformat() if today else "")


def read_date(field: ipw.Text, *, required: bool = False) -> dt.date | None:
    """The date in a :func:`date_field` (None when empty and not required), or a Swedish message naming the field."""
    text = str(field.value).strip()
    name = str(field.description).rstrip(":")
    if not text:
        if required:
            raise SamordningError(f"Skriv ett datum i fältet {name}, som ÅÅÅÅ-MM-DD (till exempel 2023-10-12).")
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise SamordningError(f"{name}: {text!r} är inget datum; skriv ÅÅÅÅ-MM-DD, till exempel 2023-10-12.") from None


def heading(title: str, note: str = "") -> ipw.HTML:
    return ipw.HTML(section(title, note))


def row(*children: ipw.Widget) -> ipw.HBox:
    """Widgets side by side, wrapping on a narrow screen."""
    return ipw.HBox(list(children), layout=ipw.Layout(flex_flow="row wrap"))


def set_options(dropdown: ipw.Dropdown, options: list[tuple[str, Any]]) -> None:
    """Give a dropdown new choices, keeping its choice where it still exists, else the first.

    ipywidgets leaves the value as it was when the options change, and a value outside the options shows
    as an empty box; so the value is set explicitly.
    """
    values = [v for _, v in options]
    keep = dropdown.value if dropdown.value in values else (values[0] if values else None)
    dropdown.options = options
    dropdown.value = keep


def quarter_options(a: Agreement, all_label: str | None = None,
                    only: set[str] | None = None) -> list[tuple[str, str]]:
    """The agreement's quarters as choices (``only`` those, when given), after an "all" choice if labelled."""
    return ([(all_label, ALL)] if all_label else []) + [(quarter_label(q), q) for q in a.quarters
                                                          if only is None or q in only]


def area_options(a: Agreement, all_label: str | None = None) -> list[tuple[str, str]]:
    """The agreement's areas as choices, after an "all" choice if labelled."""
    return ([(all_label, ALL)] if all_label else []) + [(x.name, x.key) for x in a.areas]


def quarter_area_choices(quarter: ipw.Dropdown, area: ipw.Dropdown, a: Agreement) -> None:
    """A filter of every quarter and area ("alla" first) follows the agreement shown: Månader's and
    Transaktioner's."""
    set_options(quarter, quarter_options(a, "alla"))
    set_options(area, area_options(a, "alla"))


def has_class(widget: ipw.DOMWidget, name: str) -> bool:
    """Whether a widget carries a CSS class (ipywidgets has add_class and remove_class, no test)."""
    return name in widget._dom_classes


@dataclass
class Context:
    """What a tab may use besides the state: the role, the user, the writes, the current state, the way from a
    figure to what lies behind it (the rows, or for the council the sums per month and account class), and the way
    to another agreement (among those this view may show)."""

    store: Store
    user: str
    role: Role
    actions: Actions
    current: Callable[[], State]
    drill: Callable[[str | None, str | None], None]
    open: Callable[[str], None] = lambda _agreement_id: None       # show another agreement (by its id)
    shown: Callable[[], list[str] | None] = lambda: None             # the agreements this view may show (None: all)
    refresh: Callable[[], bool] = lambda: False  # reload if the store changed for the agreement shown (True if it had)


class Part:
    """A piece of a page that renders from the state."""

    widget: ipw.Widget

    def render(self, state: State) -> None:
        raise NotImplementedError


class Form(Part):
    """A form that stores something, inside a tab: built only for a role that writes (the controllers), so the
    council's and the insight view's pages have none of it."""

    def __init__(self, ctx: Context, tab: Tab) -> None:
        self.ctx = ctx
        self.tab = tab
        self.status = Status()
        self.widget = ipw.VBox(self.build())

    def build(self) -> list[ipw.Widget]:
        raise NotImplementedError

    def render(self, state: State) -> None:
        """Fill the form's choices from the state (most forms have none to fill)."""


class Tab(Part):
    """A tab: its title, the roles that see it, the forms it holds, and how it renders from the state.

    A subclass builds its widgets in :meth:`build` (``self.forms`` are there already, to be placed) and
    shows the state in :meth:`show`; :meth:`render` keeps the state and renders the forms as well.
    """

    title: ClassVar[str]
    roles: ClassVar[frozenset[Role]] = EVERYONE
    form_kinds: ClassVar[tuple[type[Form], ...]] = ()

    def __init__(self, ctx: Context) -> None:
        if not self.shown_to(ctx.role):  # never built for a role it is not for, whoever asks
            raise PermissionError(f"{self.title} is not for {ctx.role.value}")
        self.ctx = ctx
        self.state: State | None = None
        self.status = Status()
        self.forms: list[Form] = [kind(ctx, self) for kind in self.form_kinds] if ctx.role.writes else []
        self.widget = ipw.VBox(self.build())

    @classmethod
    def shown_to(cls, role: Role) -> bool:
        return role in cls.roles

    def build(self) -> list[ipw.Widget]:
        raise NotImplementedError

    def show(self, state: State) -> None:
        raise NotImplementedError

    def shown_again(self) -> None:
        """The tab is selected again, the state unchanged since it rendered (most tabs have nothing to do)."""

    def render(self, state: State) -> None:
        self.state = state
        self.show(state)
        for form in self.forms:
            form.render(state)

    def form(self, kind: type[Form]) -> Form | None:
        """This tab's form of a kind, if it has one (none for the council)."""
        return next((f for f in self.forms if isinstance(f, kind)), None)
