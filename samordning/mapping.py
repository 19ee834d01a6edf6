"""The agreement's code mapping: which rows belong to which area, as rules over one coding dimension.

A rule is written as text in the agreement file (``codes = [...]`` of an area) and is one of:

- an exact code, ``"7301"``: the code itself (after surrounding spaces are removed; case counts). The empty
  code ``""`` catches the rows that have no code in the dimension;
- a range, ``"4000-7999"``: codes made only of digits, as many digits as the bounds (which have the same number
  of digits), from the lower to the upper bound inclusive — ``"4010"`` but not ``"46362"`` nor ``"401"``;
- a prefix, ``"73*"``: every code that starts with ``73`` (``"73"``, ``"7301"``, ``"73A"``);
- ``"*"``: every row, with or without a code.

The rules of different areas may not overlap (a code may belong to one area only): :func:`overlap` finds the
clash, and the agreement file is refused when one exists. This module is the one place the rules live: the
classification in pandas (:func:`area_of_codes`) and in SQL (:func:`condition`) both call it.

The dimension a mapping reads is a named column (``project``, ``cost_centre``, ``activity``, ``account``,
``counterpart``) or a SIE dimension by number, ``"sie:2"``, read from the row's kept SIE dimensions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa

NAMED_DIMENSIONS = ("project", "cost_centre", "activity", "account", "counterpart")
_SIE_DIMENSION = re.compile(r"^sie:(?P<number>\d{1,4})$")
_RANGE = re.compile(r"^(?P<low>\d+)\s*-\s*(?P<high>\d+)$")
_DIGITS = "0123456789"

Kind = Literal["exact", "range", "prefix", "all"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of an area's codes. ``low``/``high`` are the bounds of a range; ``code`` is the exact code or
    the prefix (without its ``*``)."""

    text: str
    kind: Kind
    code: str = ""
    low: str = ""
    high: str = ""

    def matches(self, code: str) -> bool:
        """Whether a code (already stripped of surrounding spaces) falls under the rule."""
        if self.kind == "all":
            return True
        if self.kind == "prefix":
            return code.startswith(self.code)
        if self.kind == "range":
            return len(code) == len(self.low) and code.isascii() and code.isdigit() and self.low <= code <= self.high
        return code == self.code


def parse_rule(text: str) -> Rule:
    """A rule as written in the agreement file; a ValueError with a Swedish message for what is not one.

    >>> parse_rule("4000-7999")
    Rule(text='4000-7999', kind='range', code='', low='4000', high='7999')
    """
    written = text.strip()
    if written == "*":
        return Rule(text, "all")
    if (found := _RANGE.match(written)) is not None:
        low, high = found["low"], found["high"]
        if len(low) != len(high):
            raise ValueError(f"intervallet {text!r} ska ha lika många siffror i båda gränserna, "
                             "till exempel \"4000-7999\"")
        if low > high:
            raise ValueError(f"intervallet {text!r} börjar efter sitt slut")
        return Rule(text, "range", low=low, high=high)
    if written.endswith("*"):
        prefix = written[:-1]
        if not prefix or "*" in prefix:
            raise ValueError(f"{text!r}: en asterisk får bara stå sist, som i \"73*\", eller ensam (\"*\")")
        return Rule(text, "prefix", code=prefix)
    if "*" in written:
        raise ValueError(f"{text!r}: en asterisk får bara stå sist, som i \"73*\", eller ensam (\"*\")")
    return Rule(text, "exact", code=written)


def _digits_between(prefix: str, low: str, high: str) -> bool:
    """Whether some code of ``len(low)`` digits that starts with ``prefix`` lies in [low, high]."""
    width = len(low)
    if len(prefix) > width or not (prefix.isascii() and prefix.isdigit()):
        return False
    pad = width - len(prefix)
    return prefix + "0" * pad <= high and prefix + "9" * pad >= low


def overlap(a: Rule, b: Rule) -> bool:
    """Whether some code falls under both rules."""
    if a.kind == "all" or b.kind == "all":
        return True
    if a.kind == "exact":
        return b.matches(a.code)
    if b.kind == "exact":
        return a.matches(b.code)
    if a.kind == "prefix" and b.kind == "prefix":
        return a.code.startswith(b.code) or b.code.startswith(a.code)
    if a.kind == "range" and b.kind == "range":
        return len(a.low) == len(b.low) and a.low <= b.high and b.low <= a.high
    prefix, span = (a, b) if a.kind == "prefix" else (b, a)
    return _digits_between(prefix.code, span.low, span.high)


def overlaps(areas: Iterable[tuple[str, Iterable[str]]]) -> list[str]:
    """Swedish messages for every pair of rules of different areas that overlap; ``areas`` are (key, codes)."""
    rules = [(key, parse_rule(text)) for key, codes in areas for text in codes]
    found = []
    for i, (key_a, rule_a) in enumerate(rules):
        for key_b, rule_b in rules[i + 1:]:
            if key_a != key_b and overlap(rule_a, rule_b):
                found.append(f"koden {rule_a.text!r} i området {key_a} och koden {rule_b.text!r} i området "
                             f"{key_b} täcker samma koder; en kod får höra till ett område")
    return found


def check_dimension(dimension: str) -> str:
    """A mapping's dimension, as written: a named column or ``sie:N``; a ValueError in Swedish otherwise."""
    if dimension in NAMED_DIMENSIONS or _SIE_DIMENSION.match(dimension):
        return dimension
    raise ValueError("ska vara något av " + ", ".join(repr(d) for d in NAMED_DIMENSIONS)
                     + " eller en SIE-dimension med nummer, till exempel 'sie:2'")


def sie_dimension(dimension: str) -> str | None:
    """The SIE dimension number of ``"sie:2"`` (``"2"``), None for a named dimension."""
    found = _SIE_DIMENSION.match(dimension)
    return str(int(found["number"])) if found else None


def area_of_codes(codes: Iterable[str], areas: Mapping[str, Iterable[str]]) -> dict[str, str | None]:
    """Each distinct code (stripped) → the key of the area whose rules it falls under, None for no area.
    ``areas`` maps area keys to their rules as written."""
    parsed = [(key, parse_rule(text)) for key, texts in areas.items() for text in texts]
    out: dict[str, str | None] = {}
    for code in codes:
        stripped = str(code).strip()
        out[code] = next((key for key, rule in parsed if rule.matches(stripped)), None)
    return out


def condition(rule: Rule, code: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """A rule as an SQL condition on a code column (already trimmed; NULL is no code), for SQLite and
    PostgreSQL alike: no LIKE (case-insensitive in SQLite) and no regular expressions."""
    text = sa.func.coalesce(code, "")
    if rule.kind == "all":
        return sa.true()
    if rule.kind == "prefix":
        return sa.func.substr(text, 1, len(rule.code)) == rule.code
    if rule.kind == "range":
        # ltrim(x, digits) is empty exactly when x is digits only (both databases have the two-argument form).
        return sa.and_(sa.func.length(text) == len(rule.low), sa.func.ltrim(text, _DIGITS) == "",
                       text >= rule.low, text <= rule.high)
    return text == rule.code


def code_expression(dimension: str, rows: sa.FromClause) -> sa.ColumnElement[str]:
    """The code a mapping reads, as SQL on ledger rows: a named column, or for ``"sie:N"`` object N of the rows'
    ``dimensions`` (a JSON column: number → object), trimmed; NULL where a row has none."""
    number = sie_dimension(dimension)
    if number is None:
        return sa.func.trim(rows.c[dimension])
    return sa.func.trim(sa.type_coerce(rows.c.dimensions, sa.JSON)[number].as_string())


def area_case(areas: Iterable[tuple[str, Iterable[str]]], code: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """The key of the area a code (an SQL expression, trimmed) falls under, areas given as (key, rules); NULL
    when none: a CASE built rule by rule. Rules of different areas never overlap (the agreement is refused
    otherwise), so the order of the branches does not matter."""
    whens = [(sa.or_(*[condition(parse_rule(text), code) for text in codes]), key) for key, codes in areas]
    return sa.case(*whens, else_=sa.null())


def area_expression(dimension: str, areas: Iterable[tuple[str, Iterable[str]]],
                    rows: sa.FromClause) -> sa.ColumnElement[str]:
    """:func:`area_case` on the code the mapping's ``dimension`` reads from ``rows``."""
    return area_case(areas, code_expression(dimension, rows))
