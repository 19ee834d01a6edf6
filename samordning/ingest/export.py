"""What one file gave: the ledger rows in canonical columns, and where in the file they were found."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# ``dimensions``: every SIE dimension of a row (dimension number → object, None for rows of other files), so
# that an agreement can map by any of them ("sie:2").
COLUMNS = ("sheet", "excel_row", "booking_date", "period", "account", "cost_centre", "activity",
           "project", "counterpart", "voucher", "text", "amount_ore", "row_kind", "dimensions")


@dataclass
class Export:
    """What was read from one file."""

    file: str
    sheet: str
    header_row: int                      # Excel row number of the header
    columns: dict[str, str]              # canonical name → header as written
    rows: pd.DataFrame
    kind: str = "Excel"                  # "Excel", "CSV" or "SIE"
    sheets: dict[str, str] = field(default_factory=dict)  # every sheet → what was found there
    notes: list[str] = field(default_factory=list)        # said to the user with the summary
    layout: str = ""                     # fingerprint of the header row: a saved column mapping is found by it
    mapping_source: str = "auto"         # "auto", "manual" (given now) or "saved" (given for this layout before)
    period_given: str | None = None      # the month given for a whole file without dates ("2016-03")
    warnings: list[str] = field(default_factory=list)  # what the controller accepted: stored with the upload
