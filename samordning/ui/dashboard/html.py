"""The dashboard's HTML: escaping, amounts, messages, tables, and the page's header (one home for each).

Key-figure cards, the forecast sentence and the quarter table come from :mod:`samordning.ui.fragments`, the
macros the report renders too.
"""

from __future__ import annotations

import html
from importlib.resources import files

from samordning.agreement import Agreement
from samordning.ui import Role
from samordning.ui.fragments import money

CSS = ("<style>\n" + files("samordning.ui.dashboard").joinpath("dashboard.css").read_text(encoding="utf-8")
       + "</style>\n")


def e(text: object) -> str:
    """Text for HTML, escaped."""
    return html.escape(str(text))


def kr(ore: object, precise: bool = False) -> str:
    """An amount for the page (``1 329 750 kr``; a negative one in red)."""
    return str(money(ore, precise))


def smd(body: str, css: str = "") -> str:
    """A fragment in the dashboard's style."""
    return f'<div class="smd{" " + css if css else ""}">{body}</div>'


def sub(body: str) -> str:
    """A quiet line of explanation (``body`` is HTML)."""
    return smd(body, "sub")


def message(text: str, kind: str = "") -> str:
    """A message box; ``kind`` is ``ok``, ``error`` or empty (a note). ``text`` is plain text."""
    return smd(f'<div class="message {kind}"><pre>{e(text)}</pre></div>')


def section(title: str, note: str = "") -> str:
    """A section heading with an optional explanation (``note`` is HTML)."""
    extra = f'<div class="sub">{note}</div>' if note else ""
    return smd(f"<h2>{e(title)}</h2>{extra}")


def table(head: list[str], rows: list[list[str]], left: int | set[int] = 1, foot: list[str] | None = None) -> str:
    """An HTML table of HTML cells; amounts right-aligned, the columns in ``left`` (the first ``left`` if a
    number) left-aligned."""
    lefts = set(range(left)) if isinstance(left, int) else left

    def cells(values: list[str], tag: str) -> str:
        return "".join(f'<{tag}{" class=l" if i in lefts else ""}>{v}</{tag}>' for i, v in enumerate(values))
    body = "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows)
    footer = f"<tr>{cells(foot, 'th')}</tr>" if foot else ""
    return smd(f'<table><tr>{cells(head, "th")}</tr>{body}{footer}</table>')


def whole(text: object) -> str:
    """``text`` escaped and kept on one line in a table cell whose long file names may break anywhere."""
    return f'<span class="whole">{e(text)}</span>'


def header_html(a: Agreement) -> str:
    """The agreement's title, id, status, parties and validity, at the top of every page."""
    status = ('<span class="badge warn">Utkast, ej undertecknat</span>' if a.status == "utkast"
              else '<span class="badge">Undertecknat</span>')
    return smd(f'<h1>{e(a.short_title or a.title)}</h1>'
               f'<div class="sub">Avtal {e(a.id)}{status} · {e(a.party("utförare").name)} (utförare) och '
               f'{e(a.party("beställare").name)} (beställare) · giltigt {a.validity.start} – {a.validity.end}'
               f'<span class="badge">{e(a.validity.clause)}</span></div>')


ROLE_NOTES = {Role.COUNCIL: "summor per kvartal, område, månad och kontoklass; inga enskilda rader",
              Role.INSIGHT: "raderna bakom varje siffra; endast läsning",
              Role.CONTROLLER: "kan ladda upp och ändra"}


def role_html(role: Role, a: Agreement, user: str | None = None) -> str:
    """Which view this is, in the header: its name and what it shows; in the views one logs in to, the name
    the login gave (the one a controller's changes are stored with) and the way out."""
    badge = (f'<span class="badge{" warn" if role.writes else ""}" data-role="{role.value}">'
             f'<b>{e(role.title(a.insight.clause))}</b>: {e(ROLE_NOTES[role])}</span>')
    # "logout" is relative: the page is served at the server's base URL, where the logout page is too.
    who = (f'<span class="sub smd-user" style="margin-left: 8px">Inloggad som <strong>{e(user)}</strong> · '
           f'<a href="logout" style="color: #0b4f8a">Logga ut</a></span>' if user and role.sees_rows else "")
    return smd(badge + who)
