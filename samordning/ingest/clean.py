"""Text cleaned on the way in: control characters that no report can hold are taken out of every text cell.

A CSV can carry ``\\x01`` or ``\\x1b``, an xlsx the escape ``_x000B_`` (a vertical tab), a text file a NUL
after its first 4 kB. Stored as they are, they break every .xlsx report (openpyxl refuses them) and, for NUL,
the import itself on PostgreSQL. :func:`clean_array` removes them from the rows' text columns (tab, line feed
and carriage return stay: Excel and PostgreSQL hold them); the file itself is stored with its original bytes,
and the import summary says how many cells were cleaned.
"""

from __future__ import annotations

import re

import numpy as np

from samordning.ingest.export import Export

# What openpyxl refuses (C0 controls but tab, LF, CR) and DEL, which no ledger text means.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TEXT_COLUMNS = ("sheet", "period", "account", "cost_centre", "activity", "project", "counterpart", "voucher",
                "text", "row_kind")


def clean_text(value: str) -> str:
    """``value`` without control characters (surrounding whitespace left by them stripped)."""
    return CONTROL.sub("", value).strip() if CONTROL.search(value) else value


def clean_array(values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """An object array of text (or None) without control characters, and which entries changed (None when
    none did). The array is searched once, as one joined string (C speed); only an array with a hit is cleaned
    entry by entry, so the clean columns of 200 000 rows cost milliseconds."""
    try:
        joined = "\t".join(values)
    except TypeError:  # None or a non-text value among the texts
        joined = "\t".join(v for v in values if isinstance(v, str))
    if not CONTROL.search(joined):
        return values, None
    out = values.copy()
    changed = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values):
        if isinstance(value, str) and CONTROL.search(value):
            out[i], changed[i] = clean_text(value), True
    return out, changed


def clean_names(export: Export) -> int:
    """Clean an export's sheet name and headers (in place); how many changed."""
    sheet = clean_text(export.sheet)
    headers = {name: clean_text(header) for name, header in export.columns.items()}
    changed = int(sheet != export.sheet) + sum(headers[n] != h for n, h in export.columns.items())
    export.sheet, export.columns = sheet, headers
    return changed


def note_cleaned(export: Export, cells: int) -> None:
    """Tell the user (with the summary) how many cells were cleaned."""
    if cells:
        export.notes.append(f"{cells} {'cell' if cells == 1 else 'celler'} innehöll osynliga styrtecken som har "
                            "tagits bort (den sparade filen är oförändrad).")
