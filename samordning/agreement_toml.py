"""An agreement as TOML text from its fields: what the dashboard's form saves (validated afterwards by the same
model and messages as a file, :func:`samordning.agreement.parse_agreement`), and the blank agreement a new one
starts from.

The blank agreement holds no facts of any agreement: every field a controller must fill is empty, so that saving it
unchanged gives one Swedish message per field. The only values it proposes are the follow-up's conventions, not an
agreement's: the cost accounts of Kommun-Bas/Region-Bas (classes 4–7, personnel 5), and status *utkast*.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

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


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string: JSON's escapes are TOML's


def _table(name: str, fields: dict[str, Any], header: str) -> list[str]:
    return [header.format(name), *(f"{k} = {_value(v)}" for k, v in fields.items() if v is not None), ""]


def to_toml(data: dict[str, Any]) -> str:
    """``data`` (the fields of an agreement, as :func:`tomllib.loads` gives them) as TOML text: the plain fields
    first, then each table, then each array of tables, in the order the fields were given."""
    plain = [f"{k} = {_value(v)}" for k, v in data.items()
             if not isinstance(v, dict) and not (isinstance(v, list) and v and isinstance(v[0], dict))]
    lines = [*plain, ""]
    for key, value in data.items():
        if isinstance(value, dict):
            lines += _table(key, value, "[{}]")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                lines += _table(key, item, "[[{}]]")
    return "\n".join(lines).rstrip("\n") + "\n"
