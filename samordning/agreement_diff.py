"""The readable difference between two versions of an agreement: their content compared as data, field by field.

Two texts are read as TOML (:mod:`tomllib`), so comments, blank lines, key order and layout never count: a version
saved from the dashboard's form (written in the form's layout) differs from the uploaded file before it only where a
value differs. Each change is one line, its path named as users know the field — an area by its name, a party by its
role, an advance by its due date, an annex by its name — with the value before and after::

    areas[Social välfärd].codes: ["7301"] → ["7301", "7303"]
    advances[2023-10-01]: tillagt fraction = "1/4", clause = "§6"
    contacts.performer: "" → "Eva Berg"
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from dataclasses import dataclass
from typing import Any

# An array of tables: the field that identifies an item across versions, and the field it is shown by.
ITEM_KEYS: dict[str, tuple[str, str]] = {
    "areas": ("key", "name"), "parties": ("role", "role"), "advances": ("due", "due"), "annexes": ("name", "name"),
}
MISSING = object()


@dataclass(frozen=True, slots=True)
class Change:
    """One field that differs: its path, and its value before and after (``None``: the field is not there)."""

    path: str
    before: str | None
    after: str | None

    def line(self) -> str:
        if self.before is None:
            return f"{self.path}: tillagt {self.after}"
        if self.after is None:
            return f"{self.path}: borttaget (var {self.before})"
        return f"{self.path}: {self.before} → {self.after}"


def value_text(value: Any) -> str:
    """A value as the TOML file writes it (and :func:`samordning.agreement_toml.to_toml` writes it): strings
    quoted (a TOML basic string: JSON's escapes are TOML's), dates ISO, booleans true/false, lists in brackets; a
    table, for a difference's line, as its fields."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k} = {value_text(v)}" for k, v in value.items())
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def _is_tables(value: Any) -> bool:
    """An array of tables (``[[areas]]``), which is compared item by item."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _keyed(name: str, before: list[dict[str, Any]], after: list[dict[str, Any]]
           ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[str, str]]:
    """Both versions of an array of tables keyed by the field that identifies an item (:data:`ITEM_KEYS`), and the
    label each key is shown by (the newer version's); by index when that field is missing or repeated."""
    ident, label = ITEM_KEYS.get(name, ("", ""))
    idents = [[value_text(i[ident]) if ident in i else None for i in items] for items in (before, after)]
    if any(None in keys or len(set(keys)) < len(keys) for keys in idents):
        by_index = [{str(n): item for n, item in enumerate(items)} for items in (before, after)]
        return by_index[0], by_index[1], {k: k for k in {**by_index[0], **by_index[1]}}
    old, new = (dict(zip(keys, items, strict=True)) for keys, items in zip(idents, (before, after), strict=True))
    labels = {k: value_text(item[label]).strip('"') if item.get(label) not in (None, "") else k
              for k, item in {**old, **new}.items()}
    return old, new, labels


def _compare(path: str, before: Any, after: Any, out: list[Change]) -> None:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*before, *(k for k in after if k not in before)]:
            _compare(f"{path}.{key}" if path else key, before.get(key, MISSING), after.get(key, MISSING), out)
    elif (_is_tables(before) or _is_tables(after)) and all(_is_tables(v) or v is MISSING or v == []
                                                           for v in (before, after)):
        before, after = ([] if v is MISSING else v for v in (before, after))
        name = path.rsplit(".", 1)[-1]
        old, new, labels = _keyed(name, before, after)
        for key in [*old, *(k for k in new if k not in old)]:
            _compare(f"{path}[{labels[key]}]", old.get(key, MISSING), new.get(key, MISSING), out)
    elif before is MISSING or after is MISSING:
        out.append(Change(path, None if before is MISSING else value_text(before),
                          None if after is MISSING else value_text(after)))
    elif type(before) is not type(after) or before != after:
        out.append(Change(path, value_text(before), value_text(after)))


def field_changes(before: str, after: str) -> list[Change]:
    """Every field that differs between two agreement texts, in the order of the earlier text (new fields after)."""
    out: list[Change] = []
    _compare("", tomllib.loads(before), tomllib.loads(after), out)
    return out


def field_diff(before: str | None, after: str) -> str:
    """The difference as lines (empty for a first version, and when only comments or layout differ)."""
    if before is None:
        return ""
    return "\n".join(c.line() for c in field_changes(before, after))
