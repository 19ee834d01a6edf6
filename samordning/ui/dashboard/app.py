"""The application: the list of tabs, each built and rendered when first shown, the agreement selector, and
:func:`app`, which the notebook calls.

Adding a tab is one module in ``tabs/`` (a :class:`~samordning.ui.dashboard.base.Tab` with a title and its
roles) and one line in :data:`TABS`. What each audience sees and may do is decided by :class:`samordning.ui.Role`.
"""

from __future__ import annotations

import gc
import logging
import os
import urllib.parse
from pathlib import Path
from typing import TypeVar

import ipywidgets as ipw
from IPython.display import HTML, display
from plotly.graph_objs import FigureWidget  # noqa: F401 - import now: its first import costs seconds (nbformat,

# jsonschema), which a preheated kernel pays before the page is requested, not after
from samordning.agreement import AGREEMENT_ENV
from samordning.agreements import SHOWN_ENV, agreement_ids, resolve, shown_ids
from samordning.errors import SamordningError
from samordning.imports import current_user
from samordning.store import Store
from samordning.ui import ROLE_ENV, USER_ENV, Role
from samordning.ui.dashboard.base import ALL, Context, Tab, guarded
from samordning.ui.dashboard.html import CSS, e, header_html, message, role_html, smd
from samordning.ui.dashboard.state import Actions, State
from samordning.ui.dashboard.tabs import quarters
from samordning.ui.dashboard.tabs.agreements import AgreementsTab
from samordning.ui.dashboard.tabs.areas import AreasTab
from samordning.ui.dashboard.tabs.comments import CommentsTab
from samordning.ui.dashboard.tabs.months import MonthsTab
from samordning.ui.dashboard.tabs.overview import OverviewTab, static_overview_html
from samordning.ui.dashboard.tabs.payments import PaymentsTab
from samordning.ui.dashboard.tabs.quarters import QuartersTab
from samordning.ui.dashboard.tabs.report import ReportTab
from samordning.ui.dashboard.tabs.transactions import TransactionsTab
from samordning.ui.dashboard.tabs.upload import UploadTab
from samordning.ui.widgets import FitCharts

log = logging.getLogger(__name__)
T = TypeVar("T", bound=Tab)

# The tabs in their order; each says who sees it (Transaktioner: the roles that see rows; Uppladdning: controllers).
TABS: list[type[Tab]] = [
    OverviewTab,
    QuartersTab,
    AreasTab,
    MonthsTab,
    TransactionsTab,
    UploadTab,
    CommentsTab,
    PaymentsTab,
    ReportTab,
    AgreementsTab,
]


def tabs_for(role: Role) -> list[type[Tab]]:
    """The tabs of a role's view."""
    return [kind for kind in TABS if kind.shown_to(role)]


class App:
    """One dashboard: a role, a store, the agreements to choose from, and the tabs. ``controller=True`` is short
    for ``role=Role.CONTROLLER``; without either it is the council's view.

    ``agreement`` is an agreement file (adopted by the store as the CLI's ``--agreement FILE`` is) or an agreement's
    id in the store; ``only`` limits the agreements this view may show (``serve --agreements``; None: every stored
    one), in the selector, the address and the portfolio."""

    def __init__(self, store: Store, agreement: Path | str, *, role: Role | None = None, controller: bool = False,
                 user: str | None = None, only: list[str] | None = None) -> None:
        self.store = store
        self.role = role or (Role.CONTROLLER if controller else Role.COUNCIL)
        self.user = user or current_user()
        self.only = only
        self.header, self.role_badge = ipw.HTML(), ipw.HTML()
        self.selector = ipw.Dropdown(description="Avtal:", style={"description_width": "initial"})
        self.selector_box = ipw.HBox([self.selector])
        self.bookmark = ipw.HTML()
        self.error = ipw.HTML()
        self.ctx = Context(store=store, user=self.user, role=self.role,
                           actions=Actions(store, self.user, self.reload), current=lambda: self.state,
                           drill=self.drill, open=self.select, shown=self.choices,
                           refresh=self.refresh)
        # Each tab is built when first shown: the page's first load then carries one tab's widgets (about 55 of
        # the council's 230, of the controllers' 450), which the browser fetches and draws before anything else.
        self.kinds = tabs_for(self.role)
        self.titles = [kind.title for kind in self.kinds]
        self.built: dict[int, Tab] = {}
        self.panels = [ipw.VBox() for _ in self.kinds]
        self.tabs = ipw.Tab(children=self.panels, titles=self.titles)
        self.stale: set[int] = set()
        self.state = State.load(store, agreement)
        if only is not None and self.state.agreement.id not in only:
            raise SamordningError(f"Avtalet {self.state.agreement.id} hör inte till de avtal den här vyn visar.")
        self.tabs.selected_index = self.kinds.index(self.start_kind())  # before the observer: rendered once, below
        self.tabs.observe(guarded(self.show_error)(lambda _c: self._render_visible()), names="selected_index")
        self.render()
        hide_static = "<style>.smd-static { display: none; }</style>"  # see static_overview_html()
        self.widget = ipw.VBox([ipw.HTML(CSS + hide_static), FitCharts(),
                                ipw.HBox([self.header], layout=ipw.Layout(width="100%")),
                                ipw.HBox([self.selector_box, self.bookmark, self.role_badge]),
                                self.error, self.tabs],
                               layout=ipw.Layout(padding="8px 16px", max_width="1760px", margin="0 auto"))
        self.widget.add_class("smd-app")

    def set_user(self, user: str) -> None:
        """The name every change from this page is stored with (the login's, known once the page is requested)."""
        self.user = self.ctx.user = self.ctx.actions.user = user
        self.role_badge.value = role_html(self.role, self.state.agreement, user)

    def show_error(self, value: str) -> None:
        self.error.value = value

    def view(self, index: int) -> Tab:
        """The tab at ``index``, built on first use."""
        if index not in self.built:
            self.built[index] = self.kinds[index](self.ctx)
        return self.built[index]

    def tab(self, kind: type[T]) -> T:
        """The tab of a kind, built on first use (KeyError if this role has none)."""
        if kind not in self.kinds:
            raise KeyError(kind.title)
        return self.view(self.kinds.index(kind))  # type: ignore[return-value]

    def show(self, kind: type[T]) -> T:
        """Select the tab of a kind (rendering it), as a click on its title does."""
        self.tabs.selected_index = self.kinds.index(kind)
        return self.tab(kind)

    @property
    def views(self) -> list[Tab]:
        """Every tab, built (for tests; the page builds a tab when it is first shown)."""
        return [self.view(i) for i in range(len(self.kinds))]

    def start_kind(self) -> type[Tab]:
        """The tab the page opens on: the portfolio (*Avtal*) when this view shows more than one agreement, else the
        first (*Översikt*)."""
        return AgreementsTab if AgreementsTab in self.kinds and len(self.choices()) > 1 else self.kinds[0]

    def open_start(self, named: bool = False) -> None:
        """Select the start tab again: a preheated page learns when it is requested whether agreements were stored
        meanwhile (nobody has chosen a tab on it yet). A page whose address ``named`` an agreement (a bookmark,
        the link under the selector) opens on that agreement's first tab, not on the portfolio."""
        self.tabs.selected_index = 0 if named else self.kinds.index(self.start_kind())

    def choices(self) -> list[str]:
        """The ids of the agreements this view may show (every stored one unless limited)."""
        stored = agreement_ids(self.store)
        return stored if self.only is None else [i for i in self.only if i in stored]

    def render(self) -> None:
        s = self.state
        self.header.value = header_html(s.agreement)
        self.role_badge.value = role_html(self.role, s.agreement, self.user)
        self.show_choices()
        query = urllib.parse.urlencode({"avtal": s.agreement.id})
        self.bookmark.value = (f'<div class="smd sub" style="margin: 4px 12px">Länk till detta avtal: '
                               f'<a href="?{e(query)}">?{e(query)}</a></div>') if len(self.choices()) > 1 else ""
        # Only the visible tab renders now: the others render when first shown, at their real size
        # (a plotly chart drawn in a hidden tab keeps a wrong width) and off the first page load's path.
        self.stale = set(range(len(self.kinds)))
        self._render_visible()

    def show_choices(self) -> None:
        """The agreement selector, with the agreements this view may show now (hidden when there is one)."""
        s = self.state
        choices = self.choices()
        self.selector.unobserve_all("value")
        if [v for _, v in self.selector.options] != choices:
            # A new dropdown rather than new options: a page's dropdown whose options change after it is drawn
            # (an agreement stored since the page's kernel was preheated) showed no choice in the browser.
            self.selector = ipw.Dropdown(description="Avtal:", style={"description_width": "initial"},
                                         options=[(i, i) for i in choices], value=s.agreement.id)
            self.selector_box.children = [self.selector]
        self.selector.value = s.agreement.id
        self.selector.layout.display = "flex" if len(choices) > 1 else "none"
        self.selector.observe(guarded(self.show_error)(lambda c: self.select(c["new"])), names="value")

    def _render_visible(self) -> None:
        index = self.tabs.selected_index or 0
        if not self.panels[index].children:
            self.panels[index].children = [self.view(index).widget]
        if index in self.stale:
            self.stale.discard(index)
            self.view(index).render(self.state)
        else:
            self.view(index).shown_again()

    def static_html(self) -> str:
        """The start tab as plain HTML for the page itself, drawn before the widgets connect (see
        :func:`static_overview_html`): the overview, or the portfolio when the page opens on it."""
        index = self.tabs.selected_index or 0
        panel = None
        if self.kinds[index] is AgreementsTab:
            panel = smd(f"<h2>{e(AgreementsTab.portfolio_title)}</h2>{self.tab(AgreementsTab).portfolio.value}")
        return static_overview_html(self.state, self.role, self.titles, index, panel)

    def reload(self) -> None:
        self.state = State.load(self.store, self.state.agreement.id)  # the version in force now
        self.render()

    def reload_if_changed(self) -> bool:
        """Reload when the store has changed since the state was loaded (one cheap query); True if it had."""
        if self.store.revision(self.state.agreement.id) == self.state.revision:
            return False
        self.reload()
        return True

    def refresh(self) -> bool:
        """What other pages and processes stored: the agreement shown reloaded if it changed (True), else only the
        selector's list of agreements brought up to date (one cheap query each)."""
        if self.reload_if_changed():
            return True
        self.show_choices()
        return False

    def select(self, agreement_id: str) -> None:
        """Show another agreement (from the selector, the portfolio or the address), one this view may show."""
        if agreement_id == self.state.agreement.id:
            return
        if agreement_id not in self.choices():
            raise SamordningError(f"Avtalet {agreement_id!r} finns inte bland de avtal den här vyn visar.")
        self.state = State.load(self.store, agreement_id)
        self.error.value = ""
        self.render()

    def drill(self, quarter: str | None, area: str | None) -> None:
        """From a figure to what lies behind it, for a quarter and an area: the rows (*Transaktioner*) where the
        role sees rows, else the sums per month and account class (*Månader*)."""
        self.show(TransactionsTab if self.role.sees_rows else MonthsTab).set_filter(quarter, area)


def requested_agreement(choices: list[str]) -> str | None:
    """The agreement named in the page's URL (``?avtal=RUN/305/2022``, or ``RUN-305-2022`` as its file is named),
    if any, among the ids ``choices``."""
    query = urllib.parse.parse_qs(os.environ.get("QUERY_STRING", ""))
    wanted = (query.get("avtal") or [""])[0].strip()
    if not wanted:
        return None
    for agreement_id in choices:
        if wanted in (agreement_id, agreement_id.replace("/", "-")):
            return agreement_id
    raise SamordningError(f"Adressen nämner avtalet {wanted!r}, som inte finns. Tillgängliga: "
                          + ", ".join(choices) + ".")


def logged_in_user() -> str | None:
    """The name the server's page handler gave this page's kernel from the login (``USER_ENV``; never from the
    query string or anything else the browser sends)."""
    return os.environ.get(USER_ENV, "").strip() or None


def _page_message(text: str) -> ipw.HTML:
    return ipw.HTML(CSS + message(text))


def app() -> ipw.Widget:
    """The dashboard for the store, agreement and role that ``samordning serve`` puts in the environment.

    Under Voilà's preheated kernels everything, the data included, is loaded before anyone asks; when the
    request comes, the URL may pick another agreement, and data stored since then is loaded (one cheap query
    tells). Without preheating ``wait_for_request`` returns at once.
    """
    try:
        from voila.utils import wait_for_request

        store = Store.open()
        only = shown_ids(os.environ.get(SHOWN_ENV))
        chosen = os.environ.get(AGREEMENT_ENV) or None
        ids = only or agreement_ids(store)
        default: Path | str = (Path(chosen).resolve() if chosen and Path(chosen).is_file()
                               else chosen or (ids[0] if ids else resolve(store).agreement_id))
        view = App(store, default, role=Role.named(os.environ.get(ROLE_ENV)), only=only)
        for area in (ALL, *view.state.area_names):  # the charts of every area filter, ready before anyone asks
            quarters.figures(view.state, area)
        # What is loaded now lives as long as the page (modules, widgets, charts); keep the garbage collector
        # from walking it on every widget message while the page loads.
        gc.collect()
        gc.freeze()
        wait_for_request()
        user = logged_in_user()
        if view.role.writes and not user:
            return _page_message("Controllervyn vet inte vem du är: inloggningen gav inget namn. Logga in "
                                 "igen, eller kontakta den som förvaltar samordning.")
        if user and view.role.sees_rows:
            view.set_user(user)
        wanted = requested_agreement(view.choices())
        view.open_start(named=wanted is not None)
        if wanted is not None and wanted != view.state.agreement.id:
            view.select(wanted)
        else:
            view.reload_if_changed()
        display(HTML(view.static_html()))
        return view.widget
    except SamordningError as exc:
        return _page_message(exc.describe())
    except Exception:
        log.exception("dashboard failed")
        return _page_message("Instrumentpanelen kunde inte visas på grund av ett oväntat fel. "
                             "Kontakta den som förvaltar samordning.")
