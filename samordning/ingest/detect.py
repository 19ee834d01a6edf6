"""What kind of file this is, refused before any parsing when it is none we read or looks hostile.

A file is Excel (xlsx, xlsm, xls, ods: read with python-calamine), CSV (text) or SIE 4. A PDF, an encrypted
workbook, an empty file, a file over :data:`MAX_FILE_BYTES`, a CSV named ``.xlsx`` and a zip that would unpack
too far are refused with a Swedish message naming the file; nothing of it is read.
"""

from __future__ import annotations

import csv
import io
import zipfile

from python_calamine import CalamineWorkbook

from samordning.errors import Problem, SamordningError
from samordning.ingest.limits import (
    MAX_FILE_BYTES,
    check_columns,
    check_extent,
    check_sie,
    check_text,
    check_workbook_parts,
    megabytes,
    too_large,
)
from samordning.ingest.sie import looks_like_sie

__all__ = ["MAX_FILE_BYTES", "MAX_RATIO", "MAX_UNPACKED_BYTES", "Grids", "grids", "megabytes", "too_large"]

# Limits against zip bombs. A ledger export of 200 000 rows is about 8 MB packed and 60 MB unpacked.
MAX_UNPACKED_BYTES = 600 * 1024 * 1024   # all members together
MAX_RATIO = 250                          # unpacked / packed, for every member and for the whole (XML rarely > 30)
RATIO_FROM = 1024 * 1024                 # a member smaller than this unpacked is harmless whatever its ratio
TEXT_SUFFIXES = (".csv", ".txt", ".skv", ".tsv")

Grids = dict[str, list[list[object]] | None]   # sheet name → its rows of cells (None: the sheet is unreadable)


def grids(content: bytes, filename: str, sheet: str | None) -> tuple[str, Grids, list[str]]:
    """The file's kind ("Excel", "CSV", "SIE"), its sheets as rows of cells (none for SIE) and notes for the
    user, after the safety checks. ``sheet`` reads only that sheet of a workbook."""
    _refuse_before_reading(content, filename)
    head = content[:8]
    notes: list[str] = []
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: an old .xls, or an encrypted xlsx in its envelope
        if "EncryptedPackage".encode("utf-16-le") in content:
            raise SamordningError(f"Filen {filename} är lösenordsskyddad (krypterad) och kan inte läsas. Spara "
                                  "den utan lösenord och ladda upp igen.",
                                  [Problem("krypterad arbetsbok", file=filename)])
    elif head.startswith(b"PK\x03\x04"):
        notes += _check_zip(content, filename)
    elif looks_like_sie(content):
        check_sie(content, filename)
        return "SIE", {}, notes
    else:
        check_text(content, filename)
        cells = _csv_cells(_text(content, filename), filename)
        check_columns(cells, filename)
        return "CSV", {"CSV": cells}, notes
    return "Excel", _sheets(content, filename, sheet), notes


def _refuse_before_reading(content: bytes, filename: str) -> None:
    """Refuse a file that is too large, empty or a PDF, from its size and first bytes."""
    if len(content) > MAX_FILE_BYTES:
        raise too_large(filename, len(content))
    if not content.strip():
        raise SamordningError(f"Filen {filename} är tom.", [Problem("filen innehåller inga data", file=filename)])
    if content.startswith(b"%PDF"):
        raise SamordningError(f"Filen {filename} är en PDF, inte ett kalkylark. Exportera huvudboken från "
                              "ekonomisystemet som Excel, CSV eller SIE.", [Problem("PDF-fil", file=filename)])


def _text(content: bytes, filename: str) -> str:
    """A file that is neither a workbook nor SIE, as text: refused unless it is text named like CSV."""
    text = _decode_text(content)
    if text is None or "\x00" in text[:4096]:
        raise SamordningError(f"Filen {filename} är inte ett kalkylark, en CSV-fil eller en SIE-fil.",
                              [Problem("okänt filformat", file=filename)])
    if not filename.lower().endswith(TEXT_SUFFIXES):
        raise SamordningError(
            f"Filen {filename} är en textfil (CSV), inte en Excel-arbetsbok, trots namnet. Byt filens ändelse "
            "till .csv och ladda upp den igen.", [Problem("textfil med Excel-ändelse", file=filename)])
    return text


def _sheets(content: bytes, filename: str, sheet: str | None) -> Grids:
    """A workbook's sheets (or the one chosen) as rows of cells; an unreadable sheet is None."""
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        names = workbook.sheet_names
    except Exception as exc:  # CalamineError, and a handful of panic-like errors on broken files
        raise SamordningError(
            f"Filen {filename} kan inte läsas som ett Excel-ark (xlsx, xlsm, xls eller ods); den är skadad eller "
            "har ett annat format.", [Problem(f"filen kan inte öppnas ({type(exc).__name__})", file=filename)],
        ) from exc
    if sheet is not None and sheet not in names:
        raise SamordningError(f"Filen {filename} har inget blad som heter {sheet!r}. Bladen är: "
                              + ", ".join(repr(n) for n in names) + ".")
    out: Grids = {}
    for name in names if sheet is None else [sheet]:
        try:
            cells = workbook.get_sheet_by_name(name)
        except Exception:
            out[name] = None
            continue
        # calamine has built the sheet's range; its Python objects (the costly part) come after this check
        check_extent(filename, name, cells.height, cells.width, len(content))
        try:
            out[name] = cells.to_python(skip_empty_area=False)
        except Exception:
            out[name] = None
    return out


def _check_zip(content: bytes, filename: str) -> list[str]:
    """Refuse a zip bomb from the archive's directory alone, before anything is unpacked; a note when the
    workbook holds macros."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError, EOFError) as exc:
        raise SamordningError(f"Filen {filename} är skadad och kan inte läsas som en Excel-arbetsbok.",
                              [Problem("zip-arkivet är skadat", file=filename)]) from exc
    unpacked = sum(m.file_size for m in members)
    worst = max((m for m in members if m.file_size > RATIO_FROM),
                key=lambda m: m.file_size / max(m.compress_size, 1), default=None)
    if unpacked > MAX_UNPACKED_BYTES or unpacked > MAX_RATIO * len(content) or (
            worst is not None and worst.file_size > max(RATIO_FROM, MAX_RATIO * worst.compress_size)):
        raise SamordningError(
            f"Filen {filename} packas upp till {_swedish(unpacked / 1e6, 0)} MB från "
            f"{_swedish(len(content) / 1e6, 1)} MB och har inte lästs: det liknar en så kallad zip-bomb, inte en "
            "export från ett ekonomisystem.",
            [Problem("för stor uppackad", file=filename, value=worst.filename if worst else None)])
    check_workbook_parts(archive, filename, len(content))
    if any(m.filename.lower().endswith("vbaproject.bin") for m in members):
        return ["Arbetsboken innehåller makron; de har inte körts (bara cellvärden läses)."]
    return []


def _swedish(number: float, decimals: int) -> str:
    """``1 074`` or ``1,0``: a number with a space between thousands and a decimal comma."""
    return f"{number:,.{decimals}f}".replace(",", " ").replace(".", ",")


def _decode_text(content: bytes) -> str | None:
    """UTF-8 (with or without BOM), else Windows-1252, as Swedish ERP systems write CSV."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        return None


def _csv_cells(text: str, filename: str) -> list[list[object]]:
    """A CSV text as rows of cells (text; empty cells None). The separator is sniffed: ; , tab or |."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=";,\t|").delimiter
    except csv.Error:
        delimiter = ";"
    try:  # universal newlines: a lone CR ends a line too
        rows = list(csv.reader(io.StringIO(text, newline=None), delimiter=delimiter))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise SamordningError(f"Filen {filename} har en cell längre än {csv.field_size_limit():,} tecken (eller "
                                  "ett citattecken som aldrig stängs); inget har sparats.".replace(",", " "),
                                  [Problem("för lång cell", file=filename)]) from exc
        raise SamordningError(f"Filen {filename} kan inte läsas som CSV: citattecknen går inte ihop.",
                              [Problem(f"felaktig CSV ({exc})", file=filename)]) from exc
    return [[c if c.strip() else None for c in row] for row in rows]
