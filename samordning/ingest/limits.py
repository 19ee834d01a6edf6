"""Limits on what a file may ask of the importer, checked before the work they bound is done.

A file under the size limit can still ask for hours or gigabytes: a workbook whose one cell sits at
XFD1048576, a sharedStrings part declaring four billion strings, a SIE file of a million vouchers, a CSV of one
40 MB line. Each limit below is checked from what costs nothing to read (the zip directory, the first bytes of
an XML part, a count of bytes), and a file beyond one is refused with the limit it broke, naming the file.

- :data:`MAX_ROWS` rows per sheet, CSV or SIE file (Excel's own maximum);
- :data:`MAX_COLUMNS` columns per sheet or CSV line; :data:`MAX_LINE_BYTES` bytes per CSV line;
- :data:`MAX_CELLS` cells in a sheet's extent (rows × columns), and at most :data:`MAX_CELLS_PER_BYTE` cells
  per byte of the file once the extent passes :data:`SPARSE_FROM` (a few kB cannot hold a million rows);
- :data:`MAX_VOUCHERS` vouchers (``#VER``) in a SIE file;
- only a regular file is read (:func:`read_regular_file`): not a device, FIFO, socket or folder.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
import zlib
from pathlib import Path

import numpy as np

from samordning.errors import Problem, SamordningError
from samordning.names import shown

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 1_048_576
MAX_COLUMNS = 500
MAX_CELLS = 30_000_000
MAX_CELLS_PER_BYTE = 20
SPARSE_FROM = 1_000_000
MAX_VOUCHERS = 500_000
MAX_LINE_BYTES = 1024 * 1024

_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"\$?([A-Z]{1,4})\$?(\d{1,9})(?::\$?([A-Z]{1,4})\$?(\d{1,9}))?\"")
_SST = re.compile(rb"<(?:\w+:)?sst\b[^>]*>")
_COUNT = re.compile(rb"\b(?:uniqueCount|count)=\"(\d+)\"")
_HEAD_BYTES = 4096


def number(n: int) -> str:
    """``1 048 576``: a count with a space between thousands."""
    return f"{n:,}".replace(",", " ")


def column_letters(count: int) -> str:
    """The letters of Excel's ``count``-th column (1 → A, 16384 → XFD)."""
    letters = ""
    while count > 0:
        count, rest = divmod(count - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def too_large(filename: str, size: int) -> SamordningError:
    """The refusal of a file over :data:`MAX_FILE_BYTES` (the CLI and the upload widget say the same)."""
    return SamordningError(f"Filen {filename} är för stor ({megabytes(size)}); största tillåtna storlek är "
                           f"{megabytes(MAX_FILE_BYTES, 0)}.", [Problem("filen är för stor", file=filename)])


def megabytes(size: int, decimals: int = 1) -> str:
    """``52,4 MB``: a file size as users read it (MiB, decimal comma)."""
    return f"{size / (1024 * 1024):.{decimals}f}".replace(".", ",") + " MB"


def _size(size: int) -> str:
    return megabytes(size) if size >= 1024 * 1024 else f"{size / 1024:.1f}".replace(".", ",") + " kB"


def check_extent(filename: str, sheet: str, rows: int, columns: int, file_bytes: int) -> None:
    """Refuse a sheet whose extent (``rows`` × ``columns``, declared or as the parser found it) is beyond the
    limits, before its cells are turned into Python objects."""
    where = Problem("", file=filename, sheet=sheet, row=rows, column=column_letters(columns))
    if columns > MAX_COLUMNS:
        raise SamordningError(
            f"Bladet {sheet!r} i filen {filename} är {number(columns)} kolumner brett (till kolumn "
            f"{column_letters(columns)}); högst {number(MAX_COLUMNS)} kolumner läses. Inget har sparats.",
            [_with(where, "för många kolumner")])
    if rows > MAX_ROWS:
        raise SamordningError(
            f"Bladet {sheet!r} i filen {filename} har {number(rows)} rader; högst {number(MAX_ROWS)} rader läses. "
            "Inget har sparats.", [_with(where, "för många rader")])
    cells = rows * columns
    if cells > MAX_CELLS or (cells > SPARSE_FROM and cells > MAX_CELLS_PER_BYTE * file_bytes):
        raise SamordningError(
            f"Bladet {sheet!r} i filen {filename} sträcker sig till rad {number(rows)} och kolumn "
            f"{column_letters(columns)} ({number(cells)} celler), men filen är bara {_size(file_bytes)}: nästan "
            "alla celler är tomma och en cell långt ut gör bladet enormt. Ta bort innehåll och formatering längst "
            "ner och till höger, eller exportera igen. Inget har sparats.", [_with(where, "för många tomma celler")])


def _with(where: Problem, message: str) -> Problem:
    return Problem(message, file=where.file, sheet=where.sheet, row=where.row, column=where.column)


def check_workbook_parts(archive: zipfile.ZipFile, filename: str, file_bytes: int) -> None:
    """Refuse a workbook whose XML declares more than the limits allow, from the first bytes of each part:
    a worksheet's ``<dimension ref="A1:G1048576">``, and sharedStrings counts the part cannot hold."""
    for info in archive.infolist():
        name = info.filename
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            found = _DIMENSION.search(_head(archive, info, filename))
            if found and found.group(3):
                first_col, first_row = _column_number(found.group(1).decode()), int(found.group(2))
                last_col, last_row = _column_number(found.group(3).decode()), int(found.group(4))
                check_extent(filename, name.rsplit("/", 1)[-1], max(last_row, first_row),
                             max(last_col, first_col), file_bytes)
        elif name.endswith("sharedStrings.xml"):
            tag = _SST.search(_head(archive, info, filename))
            declared = max((int(n) for n in _COUNT.findall(tag.group(0))), default=0) if tag else 0
            if declared > MAX_CELLS or declared > info.file_size // 8:  # an <si></si> takes 9 bytes
                raise SamordningError(
                    f"Filen {filename} säger sig ha {number(declared)} delade textvärden, men delen som ska hålla "
                    f"dem är bara {_size(info.file_size)}; filen är skadad eller konstruerad för att krascha "
                    "läsaren och har inte lästs. Inget har sparats.",
                    [Problem("orimligt antal delade textvärden (sharedStrings)", file=filename, value=declared)])


def _head(archive: zipfile.ZipFile, info: zipfile.ZipInfo, filename: str) -> bytes:
    try:
        with archive.open(info) as part:
            return part.read(_HEAD_BYTES)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, NotImplementedError, EOFError, RuntimeError) as exc:
        raise SamordningError(f"Filen {filename} är skadad och kan inte läsas som en Excel-arbetsbok.",
                              [Problem("en del av zip-arkivet kan inte packas upp", file=filename,
                                       value=info.filename)]) from exc


def check_text(content: bytes, filename: str) -> None:
    """Refuse a CSV with a line over :data:`MAX_LINE_BYTES` or more than :data:`MAX_ROWS` lines, from the
    positions of its line breaks (numpy finds them in milliseconds)."""
    data = np.frombuffer(content, dtype=np.uint8)
    ends = np.flatnonzero((data == 10) | (data == 13))
    lines = max(int((data == 10).sum()), int((data == 13).sum())) + 1
    if lines > MAX_ROWS + 1:
        raise SamordningError(f"Filen {filename} har {number(lines)} rader; högst {number(MAX_ROWS)} rader läses. "
                              "Inget har sparats.", [Problem("för många rader", file=filename, row=lines)])
    bounds = np.concatenate(([-1], ends, [len(data)]))
    gaps = np.diff(bounds) - 1
    longest = int(gaps.argmax())
    if gaps[longest] > MAX_LINE_BYTES:
        row = int(np.count_nonzero(data[:bounds[longest] + 1] == 10)) + 1 if longest else 1
        raise SamordningError(
            f"Rad {number(row)} i filen {filename} är {_size(int(gaps[longest]))} lång; längsta tillåtna rad är "
            f"{_size(MAX_LINE_BYTES)}. Filen saknar radbrytningar eller är inte en export. Inget har sparats.",
            [Problem("raden är för lång", file=filename, row=row)])


def check_columns(cells: list[list[object]], filename: str) -> None:
    """Refuse a CSV whose widest row has more than :data:`MAX_COLUMNS` cells."""
    widest = max(range(len(cells)), key=lambda i: len(cells[i]), default=None)
    if widest is not None and len(cells[widest]) > MAX_COLUMNS:
        check_extent(filename, "CSV", len(cells), len(cells[widest]), MAX_CELLS)


def check_sie(content: bytes, filename: str) -> None:
    """Refuse a SIE file of more than :data:`MAX_VOUCHERS` vouchers or :data:`MAX_ROWS` rows, counted as
    bytes before any line is decoded."""
    vouchers = content.count(b"#VER")
    if vouchers > MAX_VOUCHERS:
        raise SamordningError(f"SIE-filen {filename} har {number(vouchers)} verifikationer; högst "
                              f"{number(MAX_VOUCHERS)} läses. Inget har sparats.",
                              [Problem("för många verifikationer", file=filename)])
    rows = content.count(b"#TRANS")
    if rows > MAX_ROWS:
        raise SamordningError(f"SIE-filen {filename} har {number(rows)} transaktioner; högst {number(MAX_ROWS)} "
                              "läses. Inget har sparats.", [Problem("för många rader", file=filename)])


_KINDS = ((stat.S_ISDIR, "en mapp"), (stat.S_ISFIFO, "en namngiven pipe (FIFO)"), (stat.S_ISCHR, "en enhet"),
          (stat.S_ISBLK, "en enhet"), (stat.S_ISSOCK, "en socket"))


def read_regular_file(path: Path) -> bytes:
    """A file's bytes, refused unless it is a regular file (a symlink to one is fine) of at most
    :data:`MAX_FILE_BYTES`. Opened without blocking, so a FIFO is refused instead of waited on, and read with a
    bound, so a device such as /dev/zero cannot be read forever."""
    name = shown(path.name or str(path))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise SamordningError(f"Filen {shown(str(path))} kan inte läsas ({exc.strerror}).",
                              [Problem("filen kan inte öppnas", file=name)]) from exc
    with os.fdopen(fd, "rb") as file:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((k for test, k in _KINDS if test(mode)), "inte en vanlig fil")
            raise SamordningError(f"{shown(str(path))} är {kind}, inte en vanlig fil, och har inte lästs. Inget har "
                                  "sparats.", [Problem("inte en vanlig fil", file=name)])
        if os.fstat(fd).st_size > MAX_FILE_BYTES:
            raise too_large(name, os.fstat(fd).st_size)
        content = file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise too_large(name, len(content))
    return content
