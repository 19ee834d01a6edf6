"""Errors and problems that reach the user, always in Swedish and always pointing at their source."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, located as precisely as we know it.

    ``row`` is the row number as the user sees it (Excel's 1-based numbering, or the line of a text file).
    """

    message: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: object = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(f"fil {self.file}")
        if self.sheet:
            where.append(f"blad {self.sheet!r}")
        if self.row is not None:
            where.append(f"rad {self.row}")
        if self.column:
            where.append(f"kolumn {self.column!r}")
        text = self.message
        if self.value is not None and self.value != "":
            text += f" (värde: {self.value!r})"
        return f"{', '.join(where)}: {text}" if where else text


class SamordningError(Exception):
    """An error whose message is fit for the user: Swedish, no traceback needed.

    ``remedy`` names a read option that would let the input through when the user confirms it (``"period"``:
    a month for a file without dates, ``proposal`` the month found in its name or title rows;
    ``"accept_unbalanced"``: a SIE file whose vouchers do not balance), so the CLI and the upload view can offer
    the same way forward.
    """

    def __init__(self, message: str, problems: tuple[Problem, ...] | list[Problem] = (), *,
                 remedy: str | None = None, proposal: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = tuple(problems)
        self.remedy = remedy
        self.proposal = proposal

    def __str__(self) -> str:
        return self.describe()

    def describe(self, limit: int = 20) -> str:
        """The message and up to ``limit`` problems, saying how many more there are."""
        lines = [self.message]
        lines += [f"  – {p}" for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"  … och {len(self.problems) - limit} problem till.")
        return "\n".join(lines)
