"""The application: the list of tabs, each built and rendered when first shown, the agreement selector, and
:func:`app`, which the notebook calls.

Adding a tab is one module in ``tabs/`` (a :class:`~samordning.ui.dashboard.base.Tab` with a title and its
roles) and one line in :data:`TABS`.
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
from samordning.agreement import agreement_files, agreement_path, agreements_dir, load_agreement
from samordning.errors import SamordningError
from samordning.imports import current_user
from samordning.store import Store
from samordning.ui import ROLE_ENV
from samordning.ui.dashboard.base import ALL, Context, Tab, guarded
from samordning.ui.dashboard.html import CSS, e, header_html, message, role_html
from samordning.ui.dashboard.state import Actions, State
from samordning.ui.dashboard.tabs import quarters
from samordning.ui.dashboard.tabs.agreements import AgreementsTab
from samordning.ui.dashboard.tabs.areas import AreasTab
from samordning.ui.dashboard.tabs.comments import CommentsTab
from samordning.ui.dashboard.tabs.overview import OverviewTab, static_overview_html
from samordning.ui.dashboard.tabs.payments import PaymentsTab
from samordning.ui.dashboard.tabs.quarters import QuartersTab
from samordning.ui.dashboard.tabs.report import ReportTab
from samordning.ui.dashboard.tabs.transactions import TransactionsTab
from samordning.ui.dashboard.tabs.upload import UploadTab
from samordning.ui.widgets import FitCharts

log = logging.getLogger(__name__)
T = TypeVar("T", bound=Tab)

# The tabs in their order; each says who sees it (Uppladdning: controllers only).
TABS: list[type[Tab]] = [
    OverviewTab,
    QuartersTab,
    AreasTab,
    TransactionsTab,
    UploadTab,
    CommentsTab,
    PaymentsTab,
    ReportTab,
    AgreementsTab,
]


def tabs_for(controller: bool) -> list[type[Tab]]:
    """The tabs of the controllers' view or of the council's."""
    return [kind for kind in TABS if kind.shown_to(controller)]


class App:
    """One dashboard: a role, a store, the agreements to choose from, and the tabs."""

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
        self.error = ipw.HTML()
        self.ctx = Context(store=store, user=self.user, controller=controller,
                           actions=Actions(store, self.user, self.reload), current=lambda: self.state,
                           drill=self.drill)
        # Each tab is built when first shown: the page's first load then carries one tab's widgets (about 55 of
        # the council's 230, of the controllers' 450), which the browser fetches and draws before anything else.
        self.kinds = tabs_for(controller)
        self.titles = [kind.title for kind in self.kinds]
        self.built: dict[int, Tab] = {}
        self.panels = [ipw.VBox() for _ in self.kinds]
        self.tabs = ipw.Tab(children=self.panels, titles=self.titles)
        self.stale: set[int] = set()
        self.tabs.observe(guarded(self.show_error)(lambda _c: self._render_visible()), names="selected_index")
        self.state = State.load(store, path)
        self.render()
        self.selector.observe(guarded(self.show_error)(lambda c: self.select(c["new"])), names="value")
        hide_static = "<style>.smd-static { display: none; }</style>"  # see static_overview_html()
        self.widget = ipw.VBox([ipw.HTML(CSS + hide_static), FitCharts(),
                                ipw.HBox([self.header], layout=ipw.Layout(width="100%")),
                                ipw.HBox([self.selector, self.bookmark, ipw.HTML(role_html(controller))]),
                                self.error, self.tabs],
                               layout=ipw.Layout(padding="8px 16px", max_width="1760px", margin="0 auto"))
        self.widget.add_class("smd-app")

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

    def render(self) -> None:
        s = self.state
        self.header.value = header_html(s.agreement)
        query = urllib.parse.urlencode({"avtal": s.agreement.id})
        self.bookmark.value = (f'<div class="smd sub" style="margin: 4px 12px">Länk till detta avtal: '
                               f'<a href="?{e(query)}">?{e(query)}</a></div>') if len(self.choices) > 1 else ""
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
            self.view(index).render(self.state)

    def reload(self) -> None:
        self.state = State.load(self.store, self.state.path)
        self.render()

    def reload_if_changed(self) -> bool:
        """Reload when the store has changed since the state was loaded (one cheap query); True if it had."""
        if self.store.revision(self.state.agreement.id) == self.state.revision:
            return False
        self.reload()
        return True

    def select(self, path: Path) -> None:
        if path == self.state.path:
            return
        self.state = State.load(self.store, path)
        self.selector.value = path  # when chosen by the URL
        self.error.value = ""
        self.render()

    def drill(self, quarter: str | None, area: str | None) -> None:
        """From a figure to the rows behind it: *Transaktioner*, filtered to a quarter and an area."""
        self.show(TransactionsTab).set_filter(quarter, area)


def requested_agreement(choices: list[Path]) -> Path | None:
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

        default = agreement_path()
        folder = agreements_dir()
        choices = agreement_files(folder) if default.parent == folder.resolve() else [default]
        choices = [p.resolve() for p in choices] or [default]
        store = Store.open()
        view = App(store, default.resolve(), controller=os.environ.get(ROLE_ENV) == "controller", choices=choices)
        for area in (ALL, *view.state.area_names):  # the charts of every area filter, ready before anyone asks
            quarters.figures(view.state, area)
        # What is loaded now lives as long as the page (modules, widgets, charts); keep the garbage collector
        # from walking it on every widget message while the page loads.
        gc.collect()
        gc.freeze()
        wait_for_request()
        path = requested_agreement(choices)
        if path is not None and path != view.state.path:
            view.select(path)
        else:
            view.reload_if_changed()
        display(HTML(static_overview_html(view.state, view.controller, view.titles)))
        return view.widget
    except SamordningError as exc:
        return _page_message(exc.describe())
    except Exception:
        log.exception("dashboard failed")
        return _page_message("Instrumentpanelen kunde inte visas på grund av ett oväntat fel. "
                             "Kontakta den som förvaltar samordning.")
