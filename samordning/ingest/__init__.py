"""Read ledger exports (Excel) into a frame of ledger rows, collecting every problem with its place.

The frame has one row per transaction with the canonical columns of :data:`COLUMNS`; amounts are int64
öre. Total rows ("Summa", "Totalt", or a row with only an amount) are kept with ``row_kind = "total"``
so that they are counted, not lost. A file that cannot be read raises :class:`SamordningError` with
every problem found (file, sheet, Excel row, column, value).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from python_calamine import CalamineWorkbook

from samordning.errors import Problem, SamordningError

COLUMNS = ("sheet", "excel_row", "booking_date", "period", "account", "cost_centre", "activity",
           "project", "counterpart", "voucher", "text", "amount_ore", "row_kind")

# Header names as they appear in exports, normalised by :func:`_norm`.
ALIASES: dict[str, tuple[str, ...]] = {
    "booking_date": ("verifikationsdatum", "bokforingsdatum", "bokföringsdatum", "datum", "transaktionsdatum",
                     "date", "verdatum", "bokfdatum"),
    "period": ("period", "bokforingsperiod", "bokföringsperiod", "årmån", "arman", "månad"),
    "account": ("konto", "account", "ktoid", "kontonr", "kontonummer"),
    "cost_centre": ("ansvar", "kostnadsställe", "kostnadsstalle", "kstid", "ansvarsid", "costcenter", "costcentre",
                    "resultatenhet"),
    "activity": ("verksamhet", "aktivitet", "activity", "vhtid"),
    "project": ("projekt", "project", "projid", "projektnr"),
    "counterpart": ("motpart", "motpid", "counterpart"),
    "voucher": ("verifikation", "vernr", "verifikationsnummer", "verifikationsnr"),
    "text": ("text", "beskrivning", "description", "radtext", "verifikationstext"),
    "amount": ("belopp", "amount", "utfall", "utfv", "summa", "nettobelopp"),
    "debit": ("debet", "debit"),
    "credit": ("kredit", "credit"),
}
_LOOKUP = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
_TOTAL_WORDS = re.compile(r"^\s*(summa|totalt|total|delsumma|sum)\b", re.IGNORECASE)
MAX_LISTED = 50


def _norm(value: object) -> str:
    return re.sub(r"[\s_.\-/]+", "", str(value)).casefold()


def recognised(header: str) -> str | None:
    """The canonical name a header is recognised as (``"Verifikationsdatum"`` → ``"booking_date"``), if any."""
    return _LOOKUP.get(_norm(header))


@dataclass
class Export:
    """What was read from one file."""

    file: str
    sheet: str
    header_row: int                      # Excel row number of the header
    columns: dict[str, str]              # canonical name → header as written
    rows: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    kind: str = "Excel"                  # "Excel", "CSV" or "SIE"
    sheets: dict[str, str] = field(default_factory=dict)  # every sheet → what was found there
    notes: list[str] = field(default_factory=list)        # said to the user with the summary
    layout: str = ""                     # fingerprint of the header row: a saved column mapping is found by it
    mapping_source: str = "auto"         # "auto", "manual" (given now) or "saved" (given for this layout before)


# Limits against hostile files. A ledger export of 200 000 rows is about 8 MB packed and 60 MB unpacked.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNPACKED_BYTES = 600 * 1024 * 1024
MAX_RATIO = 250                          # unpacked / packed for one zip member (XML rarely exceeds 30)
CANONICAL_SV = {"datum": "booking_date", "period": "period", "konto": "account", "ansvar": "cost_centre",
                "verksamhet": "activity", "projekt": "project", "motpart": "counterpart",
                "verifikation": "voucher", "text": "text", "belopp": "amount", "debet": "debit", "kredit": "credit"}
NAME_SV = {v: k for k, v in CANONICAL_SV.items()}


def megabytes(size: int, decimals: int = 1) -> str:
    """``52,4 MB``: a file size as users read it (MiB, decimal comma)."""
    return f"{size / (1024 * 1024):.{decimals}f}".replace(".", ",") + " MB"


def too_large(filename: str, size: int) -> SamordningError:
    """The refusal of a file over :data:`MAX_FILE_BYTES` (the CLI and the upload widget say the same)."""
    return SamordningError(f"Filen {filename} är för stor ({megabytes(size)}); största tillåtna storlek är "
                           f"{megabytes(MAX_FILE_BYTES, 0)}.", [Problem("filen är för stor", file=filename)])


def read_export(content: bytes, filename: str, *, sheet: str | None = None, columns: dict[str, str] | None = None,
                header_row: int | None = None, saved: dict[str, dict[str, str]] | None = None) -> Export:
    """Read a ledger export: Excel (xlsx, xlsm, xls, ods), CSV or SIE 4. Refuses (raises) when no ledger table
    can be found or values are unreadable.

    ``sheet`` picks a sheet (else the one holding the largest ledger table); ``columns`` maps canonical names
    (or their Swedish names, see :data:`CANONICAL_SV`) to headers as written, for layouts detection misses;
    ``header_row`` (Excel's numbering) says where the header is; ``saved`` holds mappings given earlier, by
    layout fingerprint.
    """
    kind, grids, notes = _grids(content, filename, sheet)
    columns = _canonical_mapping(columns or {}, filename)
    if kind == "SIE":
        from samordning.sie import read_sie

        return read_sie(content, filename)
    return _read_cells(filename, grids, kind=kind, chosen=sheet, columns=columns, header_row=header_row,
                       saved=saved, notes=notes)


def peek(content: bytes, filename: str, rows: int = 40) -> dict[str, list[list[str]]]:
    """The first rows of every sheet as text, for choosing a sheet and mapping columns by hand."""
    kind, grids, _ = _grids(content, filename, None)
    if kind == "SIE":
        return {}
    return {name: [["" if v is None else str(v).strip() for v in row] for row in (cells or [])[:rows]]
            for name, cells in grids.items()}


def _grids(content: bytes, filename: str, sheet: str | None
           ) -> tuple[str, dict[str, list[list[object]] | None], list[str]]:
    """The file's kind ("Excel", "CSV", "SIE") and its sheets as rows of cells, after the safety checks."""
    if len(content) > MAX_FILE_BYTES:
        raise too_large(filename, len(content))
    if not content.strip():
        raise SamordningError(f"Filen {filename} är tom.", [Problem("filen innehåller inga data", file=filename)])
    head = content[:8]
    notes: list[str] = []
    if head.startswith(b"%PDF"):
        raise SamordningError(f"Filen {filename} är en PDF, inte ett kalkylark. Exportera huvudboken från "
                              "ekonomisystemet som Excel, CSV eller SIE.", [Problem("PDF-fil", file=filename)])
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: an old .xls, or an encrypted xlsx in its envelope
        if "EncryptedPackage".encode("utf-16-le") in content:
            raise SamordningError(f"Filen {filename} är lösenordsskyddad (krypterad) och kan inte läsas. Spara "
                                  "den utan lösenord och ladda upp igen.",
                                  [Problem("krypterad arbetsbok", file=filename)])
    elif head.startswith(b"PK\x03\x04"):
        notes += _check_zip(content, filename)
    else:
        from samordning.sie import looks_like_sie

        if looks_like_sie(content):
            return "SIE", {}, notes
        text = _decode_text(content)
        if text is None or "\x00" in text[:4096]:
            raise SamordningError(f"Filen {filename} är inte ett kalkylark, en CSV-fil eller en SIE-fil.",
                                  [Problem("okänt filformat", file=filename)])
        if not filename.lower().endswith((".csv", ".txt", ".skv", ".tsv")):
            raise SamordningError(
                f"Filen {filename} är en textfil (CSV), inte en Excel-arbetsbok, trots namnet. Byt filens ändelse "
                "till .csv och ladda upp den igen.", [Problem("textfil med Excel-ändelse", file=filename)])
        return "CSV", {"CSV": _csv_cells(text, filename)}, notes

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
    grids: dict[str, list[list[object]] | None] = {}
    for name in names if sheet is None else [sheet]:
        try:
            grids[name] = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception:
            grids[name] = None
    return "Excel", grids, notes


def _canonical_mapping(columns: dict[str, str], filename: str) -> dict[str, str]:
    out = {}
    for key, header in columns.items():
        name = CANONICAL_SV.get(_norm(key), key if key in ALIASES else None)
        if name is None:
            raise SamordningError(f"Okänt fält {key!r} i kolumnkopplingen; använd " + ", ".join(CANONICAL_SV)
                                  + ".", [Problem("okänt fält", file=filename, value=key)])
        out[name] = header
    return out


def _check_zip(content: bytes, filename: str) -> list[str]:
    """Refuse a zip bomb from the archive's directory alone, before anything is unpacked."""
    try:
        members = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError, EOFError) as exc:
        raise SamordningError(f"Filen {filename} är skadad och kan inte läsas som en Excel-arbetsbok.",
                              [Problem("zip-arkivet är skadat", file=filename)]) from exc
    unpacked = sum(m.file_size for m in members)
    worst = max(members, key=lambda m: m.file_size / max(m.compress_size, 1), default=None)
    if unpacked > MAX_UNPACKED_BYTES or (
            worst is not None and worst.file_size > 10 * 1024 * 1024
            and worst.file_size / max(worst.compress_size, 1) > MAX_RATIO):
        raise SamordningError(
            f"Filen {filename} packas upp till {unpacked / 1e6:,.0f} MB från {len(content) / 1e6:,.1f} MB och har "
            "inte lästs: det liknar en så kallad zip-bomb, inte en export från ett ekonomisystem.".replace(",", " "),
            [Problem("för stor uppackad", file=filename, value=worst.filename if worst else None)])
    if any(m.filename.lower().endswith("vbaproject.bin") for m in members):
        return ["Arbetsboken innehåller makron; de har inte körts (bara cellvärden läses)."]
    return []


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
        raise SamordningError(f"Filen {filename} kan inte läsas som CSV: citattecknen går inte ihop.",
                              [Problem(f"felaktig CSV ({exc})", file=filename)]) from exc
    return [[c if c.strip() else None for c in row] for row in rows]


def _layout(row: list[object]) -> str:
    """A fingerprint of a header row: the same ERP report gives the same fingerprint every time."""
    names = "|".join(_norm(v) for v in row if v is not None and str(v).strip())
    return hashlib.sha256(names.encode("utf-8")).hexdigest()[:16]


def _read_cells(filename: str, grids: dict[str, list[list[object]] | None], *, kind: str, chosen: str | None,
                columns: dict[str, str], header_row: int | None, saved: dict[str, dict[str, str]] | None,
                notes: list[str]) -> Export:
    """Find the ledger table among the sheets (the largest one, unless a sheet is chosen) and read it."""
    tried: list[Problem] = []
    found: list[tuple[int, str, int, dict[str, int], str]] = []
    sheets: dict[str, str] = {}
    for name, cells in grids.items():
        if cells is None:
            tried.append(Problem("bladet kan inte läsas", file=filename, sheet=name))
            sheets[name] = "kan inte läsas"
            continue
        try:
            header = _find_header(cells, columns, header_row, saved or {})
        except SamordningError as exc:
            tried += [dataclasses.replace(p, file=filename, sheet=name) for p in exc.problems]
            sheets[name] = "kolumnerna hittas inte"
            continue
        if header is None:
            tried.append(Problem("hittar ingen rubrikrad med en beloppskolumn (t.ex. Belopp) och en datum- eller "
                                 "periodkolumn", file=filename, sheet=name))
            sheets[name] = "ingen tabell" if any(any(v is not None for v in r) for r in cells) else "tomt"
            continue
        index, mapping, source = header
        size = len(cells) - index - 1  # rows below the header, blank ones included: enough to pick the largest
        sheets[name] = f"{size} rader"
        found.append((size, name, index, mapping, source))
    if not found:
        empty = all(v == "tomt" for v in sheets.values())
        raise SamordningError(
            f"Filen {filename} är tom." if empty else
            f"Filen {filename} innehåller ingen tabell med bokförda transaktioner som kan kännas igen. Ange "
            "kolumnerna för hand (i instrumentpanelen, eller med --column belopp=RUBRIK --column datum=RUBRIK).",
            tried or [Problem("arbetsboken är tom", file=filename)])
    size, name, index, mapping, source = max(found, key=lambda f: f[0])  # the largest table; the first if equal
    cells = grids[name]
    assert cells is not None
    export = _parse_table(filename, name, cells, index, mapping)
    export.kind, export.sheets, export.notes = kind, sheets, notes
    export.layout, export.mapping_source = _layout(cells[index]), source
    sheets[name] = f"{len(export.rows)} rader"
    size = len(export.rows)
    if len(grids) > 1 and chosen is None:
        others = [n for n in grids if n != name]
        export.notes.append(f"Läste bladet {name!r} ({size} rader); övriga blad: "
                            + ", ".join(f"{n!r} ({sheets[n]})" for n in others) + ". Välj ett annat blad om det "
                            "behövs.")
    return export


def _find_header(cells: list[list[object]], columns: dict[str, str], header_row: int | None,
                 saved: dict[str, dict[str, str]]) -> tuple[int, dict[str, int], str] | None:
    """The header row and the column of each canonical name.

    Without a mapping: the first row (of the first 50) whose cells name an amount column (or Debet and Kredit)
    and a date or period column. With one: the row (``header_row``, else the first) holding every mapped header,
    the other columns recognised by name as usual. A row whose layout has a saved mapping uses it.
    """
    rows = [header_row - 1] if header_row else range(min(len(cells), 50))
    for index in rows:
        if index >= len(cells):
            raise SamordningError("", [Problem("rubrikraden finns inte", row=header_row)])
        row = cells[index]
        normed = [_norm(v) if isinstance(v, (str, int, float)) and str(v).strip() else "" for v in row]
        mapping: dict[str, int] = {}
        for col, value in enumerate(normed):
            if (name := _LOOKUP.get(value)) and name not in mapping:
                mapping[name] = col
        source = "auto"
        given = columns or (saved.get(_layout(row)) if saved else None)
        if given:
            wanted = {name: _norm(h) for name, h in given.items()}
            if not all(h in normed for h in wanted.values()):
                if header_row:
                    missing = [given[n] for n, h in wanted.items() if h not in normed]
                    raise SamordningError("", [Problem("rubriken finns inte på rubrikraden", row=header_row,
                                                       value=", ".join(missing))])
                if columns:
                    continue
            else:
                for name, h in wanted.items():
                    mapping = {k: v for k, v in mapping.items() if v != normed.index(h)}
                    mapping[name] = normed.index(h)
                source = "manual" if columns else "saved"
        has_amount = "amount" in mapping or {"debit", "credit"} <= mapping.keys()
        has_time = "booking_date" in mapping or "period" in mapping
        if has_amount and has_time:
            return index, mapping, source
        if header_row:
            raise SamordningError("", [Problem("rubrikraden saknar en belopps- eller datumkolumn", row=header_row)])
    if columns:
        raise SamordningError("", [Problem("rubrikerna i kolumnkopplingen finns inte på någon rad",
                                           value=", ".join(columns.values()))])
    return None


def _parse_table(file: str, sheet: str, cells: list[list[object]], header_index: int,
                 mapping: dict[str, int]) -> Export:
    header = cells[header_index]
    width = len(header)
    body = cells[header_index + 1:]
    if any(len(r) != width for r in body):  # calamine gives rectangular rows; CSV rows may differ
        body = [r + [None] * (width - len(r)) if len(r) < width else r[:width] for r in body]
    frame = pd.DataFrame(body, columns=range(width), dtype=object)
    frame.index = pd.RangeIndex(header_index + 2, header_index + 2 + len(frame))  # Excel row numbers
    columns = {name: str(header[col]) for name, col in mapping.items()}
    if "booking_date" not in mapping and "period" not in mapping:
        raise SamordningError(f"Filen {file} har ingen datum- eller periodkolumn.",
                              [Problem("ange en kolumn som Verifikationsdatum, Bokföringsdatum eller Period",
                                       file=file, sheet=sheet, row=header_index + 1)])

    def column(name: str) -> pd.Series:
        return frame[mapping[name]] if name in mapping else pd.Series([None] * len(frame), index=frame.index,
                                                                      dtype=object)

    unreadable: list[tuple[pd.Series, str, str]] = []   # (mask, canonical column, message)
    if "amount" in mapping:
        amount, bad = parse_amounts(column("amount"))
        unreadable.append((bad, "amount", "beloppet kan inte läsas"))
    else:
        debit, bad_d = parse_amounts(column("debit"))
        credit, bad_c = parse_amounts(column("credit"))
        unreadable += [(bad_d, "debit", "beloppet kan inte läsas"), (bad_c, "credit", "beloppet kan inte läsas")]
        amount = (debit.fillna(0) - credit.fillna(0)).where(debit.notna() | credit.notna())
    booking_date, bad_date = parse_dates(column("booking_date"))
    unreadable.append((bad_date, "booking_date", "datumet kan inte läsas"))
    month = (booking_date.dt.year * 100 + booking_date.dt.month).astype("Int64")
    period = month.map({m: f"{m // 100:04d}-{m % 100:02d}" for m in month.dropna().unique()}).astype(object)
    period = period.where(booking_date.notna(), None)
    if "period" in mapping:
        from_period, bad_period = parse_periods(column("period"))
        unreadable.append((bad_period & booking_date.isna(), "period", "perioden kan inte läsas"))
        period = period.where(period.notna(), from_period)
    codes = {name: as_code(column(name)) for name in
             ("account", "cost_centre", "activity", "project", "counterpart", "voucher", "text")}

    # Blank rows (nothing in any cell) are not rows at all: mapped columns are empty when their parsed value
    # is, the other columns are looked at once.
    unmapped = [c for c in frame.columns if c not in mapping.values()]
    bad_amount = bad_amounts(unreadable)
    empty = [codes[c] == "" for c in codes] + [amount.isna() & ~bad_amount,
                                               booking_date.isna() & ~bad_date]
    if "period" in mapping:
        empty.append(_blank(column("period")))
    empty += [_blank(frame[c]) for c in unmapped]
    keep = ~pd.concat(empty, axis=1).all(axis=1).to_numpy()
    if not keep.all():
        frame, amount, booking_date, period = frame[keep], amount[keep], booking_date[keep], period[keep]
        bad_date, bad_amount = bad_date[keep], bad_amount[keep]
        codes = {name: code[keep] for name, code in codes.items()}
        unreadable = [(mask[keep], name, message) for mask, name, message in unreadable]
    text = codes.pop("text")

    # A total row: an amount with no date, period or coding, or, among rows without a date/period or an
    # account, a cell starting with Summa/Totalt (a transaction whose text begins "Summa" is still one).
    no_coding = pd.concat([codes[c] == "" for c in codes], axis=1).all(axis=1) & period.isna()
    candidates = frame[(period.isna() | (codes["account"] == "")).to_numpy()]
    says_total = pd.Series(False, index=frame.index)
    if len(candidates):
        says_total[candidates.index] = pd.concat(
            [_texts(candidates[c]).str.match(_TOTAL_WORDS).fillna(False).astype(bool) for c in candidates.columns],
            axis=1).any(axis=1)
    is_total = says_total | no_coding
    unreadable.append((amount.isna() & ~bad_amount, "amount" if "amount" in mapping else "debit",
                       "beloppet saknas"))
    unreadable.append((period.isna() & ~bad_date, "booking_date" if "booking_date" in mapping else "period",
                       "datum eller period saknas"))

    found = [
        (int(row), mapping.get(name, -1),
         Problem(message, file=file, sheet=sheet, row=int(row), column=columns.get(name), value=column(name)[row]))
        for mask, name, message in unreadable
        for row in mask.index[(mask & ~is_total).to_numpy()]
    ]
    problems = [p for _, _, p in sorted(found, key=lambda f: f[:2])]  # in reading order: by row, then column
    if problems:
        raise SamordningError(
            f"Filen {file} har {len(problems)} värden som inte kan läsas eller saknas; inget har sparats.",
            problems)
    rows = pd.DataFrame({
        "sheet": sheet,
        "excel_row": frame.index.to_numpy(dtype="int64"),
        "booking_date": booking_date.dt.date.astype(object).where(booking_date.notna(), None),
        "period": period,
        **codes,
        "text": text,
        "amount_ore": amount.fillna(0).astype("int64"),
        "row_kind": np.where(is_total, "total", "data"),
    }).reset_index(drop=True)
    return Export(file, sheet, header_index + 1, columns, rows[list(COLUMNS)])


def _types(values: pd.Series) -> pd.Series:
    """Each cell's Python type (``map(type)`` runs in C: no Python frame per cell, unlike a lambda)."""
    return values.map(type)


def _texts(values: pd.Series) -> pd.Series:
    """The text cells of a column (other cells NaN), ready for the vectorised ``.str`` methods."""
    return values.where(_is_text(values))


def _is_text(values: pd.Series, types: pd.Series | None = None) -> np.ndarray:
    """A boolean array: which cells are text (numpy compares the cells' types in C)."""
    return np.isin((_types(values) if types is None else types).to_numpy(), [str])


def _stripped(values: pd.Series, text: np.ndarray) -> list[str]:
    """The text cells (mask ``text``) with surrounding whitespace removed. A comprehension over the cells is
    what pandas' ``.str.strip`` runs too, without its per-call NaN handling (five times faster here)."""
    return [v.strip() for v in values.to_numpy()[text]]


def _blank(values: pd.Series, types: pd.Series | None = None) -> pd.Series:
    """Empty cells: None, NaN or only whitespace. ``types``: the cells' types, where already known."""
    text = _is_text(values, types)
    blank = pd.isna(values.to_numpy()) & ~text
    blank[np.flatnonzero(text)] = [not v for v in _stripped(values, text)]
    return pd.Series(blank, index=values.index)


def bad_amounts(unreadable: list[tuple[pd.Series, str, str]]) -> pd.Series:
    masks = [mask for mask, name, _ in unreadable if name in ("amount", "debit", "credit")]
    return pd.concat(masks, axis=1).any(axis=1)


# -- value parsers (vectorised; each returns the parsed series and a mask of unreadable cells) ------

_AMOUNT = re.compile(r"^(?P<sign>-)?(?P<int>\d+)(?:\.(?P<frac>\d{1,2}))?$")


def parse_amounts(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers or Swedish-formatted text (``"1 234,50"``, ``"−12,5"``, ``"12-"``, ``"(12)"``) to öre.

    Returns (Int64 öre with <NA> for empty cells, mask of cells that are not amounts).
    """
    values = values.astype(object)
    types = _types(values)
    empty = _blank(values, types)
    numeric = types.isin(_NUMBER_TYPES) & ~empty
    result = pd.Series(pd.NA, index=values.index, dtype="Int64")
    bad = pd.Series(False, index=values.index)

    if numeric.any():
        nums = values[numeric].astype(float)
        finite = np.isfinite(nums.to_numpy())
        result[numeric] = pd.array(np.where(finite, np.round(nums.to_numpy() * 100), 0).astype("int64"))
        bad[numeric] = ~finite

    texts = ~numeric & ~empty
    if texts.any():
        s = values[texts].astype(str).str.strip()
        s = s.str.replace(r"[\s\u00a0\u202f\u2009']", "", regex=True).str.replace("\u2212", "-", regex=False)
        s = s.str.removesuffix("kr").str.removesuffix("SEK")
        trailing = s.str.endswith("-") & ~s.str.startswith("-")
        s = s.where(~trailing, "-" + s.str[:-1])
        paren = s.str.startswith("(") & s.str.endswith(")")
        s = s.where(~paren, "-" + s.str[1:-1])
        # Decimal comma; a text with both separators uses the last one as decimal mark.
        s = s.str.replace(r"[.,](?=\d{3}(?:[.,]|$))(?=.*[.,])", "", regex=True).str.replace(",", ".", regex=False)
        parts = s.str.extract(_AMOUNT)
        ok = parts["int"].notna()
        frac = parts["frac"].fillna("").str.ljust(2, "0")
        ore = (parts["int"].where(ok, "0") + frac.where(ok, "00")).astype("int64")
        ore = ore.where(parts["sign"].isna(), -ore)
        result[texts] = pd.array(ore.where(ok, 0).to_numpy(), dtype="Int64")
        result[texts & ~ok.reindex(values.index, fill_value=False)] = pd.NA
        bad[texts] = ~ok
    return result, bad


_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_NUMBER_TYPES = [int, float, np.int64, np.float64]
_DATE_TYPES = [dt.date, dt.datetime, pd.Timestamp]


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Excel dates, Excel serial numbers or text (``2023-02-15``, ``20230215``) to datetime64."""
    values = values.astype(object)
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[s]")
    bad = pd.Series(False, index=values.index)
    types = _types(values)
    is_date = types.isin(_DATE_TYPES)
    if is_date.any():
        result[is_date] = pd.to_datetime(values[is_date]).dt.normalize().astype("datetime64[s]")
    is_num = types.isin(_NUMBER_TYPES) & values.notna()
    if is_num.any():
        nums = values[is_num].astype(float)
        as_ymd = (nums >= 19000101) & (nums <= 21001231)
        serial = pd.to_datetime(nums.where(~as_ymd), unit="D", origin=_EXCEL_EPOCH, errors="coerce")
        ymd = pd.to_datetime(nums.where(as_ymd).astype("Int64").astype("string"), format="%Y%m%d", errors="coerce")
        parsed = serial.where(~as_ymd, ymd).astype("datetime64[s]")
        plausible = parsed.between(pd.Timestamp("1990-01-01"), pd.Timestamp("2100-12-31"))
        result[is_num] = parsed.where(plausible)
        bad[is_num] = ~plausible
    is_text = np.isin(types.to_numpy(), [str]) & ~_blank(values, types).to_numpy()
    if is_text.any():
        s = values[is_text].astype(str).str.strip().str.replace(r"[ T]\d{1,2}:\d{2}(:\d{2})?$", "", regex=True)
        s = s.str.replace(r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3", regex=True).str.replace("/", "-")
        parsed = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce").astype("datetime64[s]")
        result[is_text] = parsed
        bad[is_text] = parsed.isna()
    return result, bad


_PERIOD = re.compile(r"^(?P<y>\d{4})\s*[-/ ]?\s*(?P<m>\d{1,2})$")


def parse_periods(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Periods as ``202302``, ``"2023-02"``, ``"2023 02"`` to ``"2023-02"``."""
    values = values.astype(object)
    s = as_code(values)
    empty = s == ""  # as_code gives "" for exactly the blank cells
    parts = s.str.extract(_PERIOD)
    month = pd.to_numeric(parts["m"], errors="coerce")
    ok = parts["y"].notna() & month.between(1, 12)
    period = (parts["y"] + "-" + month.astype("Int64").astype("string").str.zfill(2)).where(ok)
    return period.astype(object).where(ok & ~empty, None), ~ok & ~empty


def as_code(values: pd.Series) -> pd.Series:
    """Coding values (Konto, Projekt…) as text: ``7301.0`` → ``"7301"``, text kept as written."""
    values = values.astype(object)
    arr = values.to_numpy()
    types = _types(values).to_numpy()
    out = np.full(len(arr), "", dtype=object)
    text = np.isin(types, [str])
    out[np.flatnonzero(text)] = _stripped(values, text)
    numbers = np.isin(types, _NUMBER_TYPES) & ~pd.isna(arr)
    if numbers.any():
        nums = arr[numbers].astype(float)
        finite = np.isfinite(nums)
        whole = finite & (nums == np.floor(nums)) & (np.abs(nums) < 2**53)
        where = np.flatnonzero(numbers)
        out[where[whole]] = nums[whole].astype("int64").astype(str).astype(object)
        rest = where[finite & ~whole]
        out[rest] = [str(v) for v in arr[rest]]
    other = ~text & ~numbers & ~pd.isna(arr)
    if other.any():  # dates, booleans, anything else: as written
        out[other] = [str(v).strip() for v in arr[other]]
    return pd.Series(out, index=values.index, dtype=object)
