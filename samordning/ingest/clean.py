"""Text cleaned on the way in: control characters that no report can hold are taken out of every text cell.

A CSV can carry ``\\x01`` or ``\\x1b``, an xlsx the escape ``_x000B_`` (a vertical tab), a text file a NUL
after its first 4 kB. Stored as they are, they break every .xlsx report (openpyxl refuses them) and, for NUL,
the import itself on PostgreSQL. :func:`clean_rows` removes them from the rows' text columns (tab, line feed
and carriage return stay: Excel and PostgreSQL hold them); the file itself is stored with its original bytes,
and the import summary says how many cells were cleaned.
"""

from __future__ import annotations

import re

import pandas as pd

from samordning.ingest.export import Export

# What openpyxl refuses (C0 controls but tab, LF, CR) and DEL, which no ledger text means.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TEXT_COLUMNS = ("sheet", "period", "account", "cost_centre", "activity", "project", "counterpart", "voucher",
                "text", "row_kind")


def clean_text(value: str) -> str:
    """``value`` without control characters (surrounding whitespace left by them stripped)."""
    return CONTROL.sub("", value).strip() if CONTROL.search(value) else value


def clean_rows(rows: pd.DataFrame, columns: tuple[str, ...] = TEXT_COLUMNS) -> int:
    """Take the control characters out of the text ``columns`` of ``rows`` (in place); how many cells changed.

    A column is searched once, as one joined string (C speed); only a column with a hit is cleaned cell by
    cell, so a clean file of 200 000 rows costs milliseconds."""
    changed = 0
    for name in columns:
        if name not in rows:
            continue
        column = rows[name]
        present = column.dropna()
        try:
            joined = "\t".join(present.to_numpy(dtype=object))
        except TypeError:  # a cell that is not text: as written
            present = present.astype(str)
            joined = "\t".join(present.to_numpy(dtype=object))
        if not CONTROL.search(joined):
            continue
        cleaned = present.map(clean_text)
        hits = cleaned.ne(present)
        changed += int(hits.sum())
        out = column.astype(object).copy()
        out[cleaned.index[hits.to_numpy()]] = cleaned[hits]
        rows[name] = out.astype(column.dtype)
    return changed


def clean_export(export: Export) -> None:
    """Clean an export's rows, sheet name and headers; a note for the summary says how many cells changed."""
    cells = clean_rows(export.rows)
    sheet = clean_text(export.sheet)
    cells += sheet != export.sheet
    export.sheet = sheet
    headers = {name: clean_text(header) for name, header in export.columns.items()}
    cells += sum(headers[n] != h for n, h in export.columns.items())
    export.columns = headers
    if cells:
        export.notes.append(f"{cells} {'cell' if cells == 1 else 'celler'} innehöll osynliga styrtecken som har "
                            "tagits bort (den sparade filen är oförändrad).")
