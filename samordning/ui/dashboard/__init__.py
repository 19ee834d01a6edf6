"""The Voilà dashboard: the council's read-only view and the controllers' working view of one agreement.

The notebook only calls :func:`app`. ``app.py`` holds the tab list, ``state.py`` the state every tab reads
(computed once per load) and the writes, ``base.py`` the Tab contract, ``html.py`` the HTML helpers, and
``tabs/`` one module per tab.
"""

from samordning.ui.dashboard.app import App, app, tabs_for

__all__ = ["App", "app", "tabs_for"]
