"""The UI layer: charts, widgets and the Voilà dashboard on top of the domain core.

:class:`Role` is the one place that decides what each audience sees and may do (it imports nothing, so that
``samordning serve`` can name a role without loading the dashboard).
"""

from __future__ import annotations

import enum

ROLE_ENV = "SAMORDNING_ROLE"  # set by `samordning serve`: a Role's value ("council", "insight", "controller")


class Role(enum.Enum):
    """Who a view is for. The council sees sums only; the commissioner's economist (insight, §8) sees the rows
    behind them too, and changes nothing; the controllers see the rows and make every change."""

    COUNCIL = "council"
    INSIGHT = "insight"
    CONTROLLER = "controller"

    @property
    def sees_rows(self) -> bool:
        """Whether the view shows individual ledger rows (row texts, amounts, files and their row numbers) and
        exports them."""
        return self in ROW_READERS

    @property
    def writes(self) -> bool:
        """Whether the view may store anything: uploads, comments, narratives, payments, withholdings and their
        release, sign-offs, finalized reports."""
        return self in WRITERS

    def title(self, insight_clause: str) -> str:
        """The view's name in the page's header (``insight_clause``: the agreement's clause on insight)."""
        return {Role.COUNCIL: "Samverkansrådets vy", Role.INSIGHT: f"Insynsvy ({insight_clause})",
                Role.CONTROLLER: "Controllervy"}[self]

    @classmethod
    def named(cls, value: str | None) -> Role:
        """The role ``serve`` put in :data:`ROLE_ENV`; anything else is the council's (the least shown)."""
        try:
            return cls(value)
        except ValueError:
            return cls.COUNCIL


EVERYONE = frozenset(Role)
ROW_READERS = frozenset({Role.INSIGHT, Role.CONTROLLER})
WRITERS = frozenset({Role.CONTROLLER})
