"""An agreement as TOML text from its fields: what the dashboard's form saves (validated afterwards by the same
model and messages as a file, :func:`samordning.agreement.parse_agreement`), and the blank agreement a new one
starts from. A change to a version that has a text (a stored version, an uploaded file) is written into that text
(:func:`edit`), with tomlkit: a well-kept style-preserving TOML library, so the file's comments and layout stay and
only the changed values are rewritten.

The blank agreement holds no facts of any agreement: every field a controller must fill is empty, so that saving it
unchanged gives one Swedish message per field. The only values it proposes are the follow-up's conventions, not an
agreement's: the cost accounts of Kommun-Bas/Region-Bas (classes 4–7, personnel 5), and status *utkast*.
"""

from __future__ import annotations

import copy
import tomllib
from typing import Any

import tomlkit

from samordning.agreement_diff import value_text

BLANK: dict[str, Any] = {
    "id": "", "title": "", "short_title": "", "status": "utkast", "status_clause": "",
    "parties": [{"name": "", "role": "utförare", "clause": ""}, {"name": "", "role": "beställare", "clause": ""}],
    "validity": {"start": "", "end": "", "clause": ""},
    "compensation": {"total": "", "clause": "", "installment_fraction": "", "installments_per_year": "",
                     "in_advance": True, "unspent_repaid": True, "repayment_clause": ""},
    "advances": [],
    "mapping": {"dimension": "project"},
    "areas": [{"key": "", "name": "", "share": "", "share_confirmed": False, "codes": [], "clause": ""}],
    "accounts": {"cost_classes": ["4", "5", "6", "7"], "personnel_classes": ["5"], "basis": "Kommun-Bas/Region-Bas"},
    "dispute": {"withholding_cap": "", "clause": "", "settlement_rule": ""},
    "report": {"recipients": [], "clause": ""},
    "insight": {"recipient": "", "clause": ""},
    "contacts": {"clause": "", "performer": "", "commissioner": ""},
    "signing": {"clause": "", "date": ""},
}


def blank() -> dict[str, Any]:
    """A new blank agreement's fields (a copy: the caller may change it)."""
    return copy.deepcopy(BLANK)


def _table(name: str, fields: dict[str, Any], header: str) -> list[str]:
    return [header.format(name), *(f"{k} = {value_text(v)}" for k, v in fields.items() if v is not None), ""]


def to_toml(data: dict[str, Any]) -> str:
    """``data`` (the fields of an agreement, as :func:`tomllib.loads` gives them) as TOML text: the plain fields
    first, then each table, then each array of tables, in the order the fields were given."""
    plain = [f"{k} = {value_text(v)}" for k, v in data.items()
             if not isinstance(v, dict) and not (isinstance(v, list) and v and isinstance(v[0], dict))]
    lines = [*plain, ""]
    for key, value in data.items():
        if isinstance(value, dict):
            lines += _table(key, value, "[{}]")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                lines += _table(key, item, "[[{}]]")
    return "\n".join(lines).rstrip("\n") + "\n"


def _same(old: Any, new: Any) -> bool:
    """Equal as TOML data, type and all (``true`` is not ``1``): ``old`` a tomlkit item, ``new`` a plain value."""
    plain = old.unwrap() if hasattr(old, "unwrap") else old
    return type(plain) is type(new) and plain == new


def _update(table: Any, data: dict[str, Any]) -> None:
    """Make a tomlkit table (or document) hold ``data``, changing only what differs: comments, order and layout
    of the rest stay as written."""
    for key in [k for k in table if k not in data]:
        del table[key]
    for key, value in data.items():
        old = table.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            _update(old, value)
        elif (isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
              and isinstance(old, tomlkit.items.AoT)):
            _update_tables(old, value)
        elif old is None or not _same(old, value):
            table[key] = value


def _update_tables(tables: Any, items: list[dict[str, Any]]) -> None:
    """An array of tables (``[[areas]]``) made to hold ``items``: the first ones changed in place, the rest added
    or removed at the end. The comments after the last table introduce what follows it, so they move to stay last."""
    if len(tables) == len(items):
        for table, item in zip(tables, items, strict=True):
            _update(table, item)
        return
    trailing = _trailing(tables[-1])
    while len(tables) > len(items):
        del tables[len(tables) - 1]
    for i, item in enumerate(items):
        if i < len(tables):
            _update(tables[i], item)
            continue
        _trailing(tables[-1])
        tables[-1].add(tomlkit.nl())  # a blank line between tables
        table = tomlkit.table()
        for key, value in item.items():
            table[key] = value
        tables.append(table)
    _trailing(tables[-1])
    tables[-1].value.body.extend(trailing or [(None, tomlkit.items.Whitespace("\n"))])


def _trailing(table: Any) -> list[tuple[None, Any]]:
    """The blank lines and comments at the end of a table's body, taken out of it."""
    body = table.value.body
    n = len(body)
    while n and body[n - 1][0] is None and isinstance(body[n - 1][1], tomlkit.items.Whitespace | tomlkit.items.Comment):
        n -= 1
    taken = body[n:]
    del body[n:]
    return taken


def edit(text: str, data: dict[str, Any]) -> str:
    """``text`` (an agreement's TOML, as a file had it) changed to hold ``data`` (its fields as the form holds them):
    only the values that differ are rewritten, so the file's comments, key order and layout are kept. When the
    result does not read back as ``data`` exactly, the fields are written in the form's layout instead
    (:func:`to_toml`): what is stored always says what the form held."""
    try:
        doc = tomlkit.parse(text)
        _update(doc, data)
        edited = tomlkit.dumps(doc)
        if tomllib.loads(edited) == tomllib.loads(to_toml(data)):
            return edited
    except Exception:  # any surprise of the library: the form's own layout, which the loader then checks
        pass
    return to_toml(data)
