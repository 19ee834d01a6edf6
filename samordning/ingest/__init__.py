"""Read ledger exports (Excel, CSV, SIE 4) into a frame of ledger rows, collecting every problem with its place.

The frame has one row per transaction with the canonical columns of :data:`COLUMNS`; amounts are int64
öre. A file that cannot be read raises :class:`SamordningError` with every problem found (file, sheet, Excel
row, column, value). The package's parts, in the order a file meets them:

- :mod:`.detect`: the file's kind, and the refusals before parsing (size, PDF, encryption, zip bombs);
- :mod:`.tables`: the sheet, the header row and its columns (aliases, a mapping by hand), the rows;
- :mod:`.values`: amounts, dates, periods and codes as people write them;
- :mod:`.sie`: SIE 4 files; :mod:`.export`: what a file gave (:class:`Export`).
"""

from __future__ import annotations

from samordning.errors import Problem, SamordningError
from samordning.ingest import isolate
from samordning.ingest.clean import TEXT_COLUMNS, clean_array, clean_names, note_cleaned
from samordning.ingest.detect import grids
from samordning.ingest.export import COLUMNS, Export
from samordning.ingest.limits import MAX_FILE_BYTES, megabytes, read_regular_file, too_large
from samordning.ingest.period import file_period, period_from_file
from samordning.ingest.sie import looks_like_sie, read_sie
from samordning.ingest.tables import ALIASES, CANONICAL_SV, NAME_SV, canonical_mapping, read_cells, recognised
from samordning.ingest.values import as_code, parse_amounts, parse_dates, parse_periods

__all__ = ["ALIASES", "CANONICAL_SV", "COLUMNS", "MAX_FILE_BYTES", "NAME_SV", "Export", "as_code", "file_period",
           "looks_like_sie", "megabytes", "parse_amounts", "parse_dates", "parse_periods", "peek", "period_from_file",
           "read_export", "read_regular_file", "read_sie", "recognised", "too_large"]


def read_export(content: bytes, filename: str, *, sheet: str | None = None, columns: dict[str, str] | None = None,
                header_row: int | None = None, saved: dict[str, dict[str, str]] | None = None,
                period: str | None = None, accept_unbalanced: bool = False) -> Export:
    """Read a ledger export: Excel (xlsx, xlsm, xls, ods), CSV or SIE 4. Refuses (raises) when no ledger table
    can be found or values are unreadable.

    ``sheet`` picks a sheet (else the one holding the largest ledger table); ``columns`` maps canonical names
    (or their Swedish names, see :data:`CANONICAL_SV`) to headers as written, for layouts detection misses;
    ``header_row`` (Excel's numbering) says where the header is; ``saved`` holds mappings given earlier, by
    layout fingerprint; ``period`` ("2016-03", see :func:`.period.file_period`) is the month of every row of
    a table without a date or period column; ``accept_unbalanced`` reads a SIE file whose vouchers do not
    balance, with a warning (refused otherwise).

    The file is read in a child process with memory and time limits (:mod:`.isolate`): a reader that crashes
    or runs away gives a refusal here, never the caller's death. Text cells come back cleaned of control
    characters (:mod:`.clean`).
    """
    if period is not None:
        period = file_period(period)  # checked here, before any child is started

    def read() -> tuple[Export, dict[str, object]]:
        export = _read_export(content, filename, sheet=sheet, columns=columns, header_row=header_row, saved=saved,
                              period=period, accept_unbalanced=accept_unbalanced)
        rows, export.rows = export.rows, export.rows.iloc[:0]
        packed, cells = isolate.pack_frame(rows, text=TEXT_COLUMNS, clean=clean_array)
        note_cleaned(export, cells + clean_names(export))
        return export, packed

    export, rows = isolate.run(filename, read)
    export.rows = isolate.unpack_frame(rows)
    return export


def _read_export(content: bytes, filename: str, *, sheet: str | None, columns: dict[str, str] | None,
                 header_row: int | None, saved: dict[str, dict[str, str]] | None, period: str | None,
                 accept_unbalanced: bool) -> Export:
    kind, cells, notes = grids(content, filename, sheet)
    mapping = canonical_mapping(columns or {}, filename)
    if kind == "SIE":
        if period is not None:
            raise SamordningError(f"Filen {filename} är en SIE-fil med egna datum; en period för hela filen "
                                  "anges bara för filer utan datum.", [Problem("perioden behövs inte", file=filename)])
        return read_sie(content, filename, accept_unbalanced=accept_unbalanced)
    export = read_cells(filename, cells, chosen=sheet, columns=mapping, header_row=header_row, saved=saved or {},
                        period=period)
    export.kind, export.notes = kind, notes + export.notes
    return export


def peek(content: bytes, filename: str, rows: int = 40) -> dict[str, list[list[str]]]:
    """The first rows of every sheet as text, for choosing a sheet and mapping columns by hand (read in a
    child process, as :func:`read_export`)."""
    return isolate.run(filename, lambda: _peek(content, filename, rows))


def _peek(content: bytes, filename: str, rows: int) -> dict[str, list[list[str]]]:
    _, cells, _ = grids(content, filename, None)
    return {name: [["" if v is None else str(v).strip() for v in row] for row in (sheet or [])[:rows]]
            for name, sheet in cells.items()}
