"""Read ledger exports (Excel) into a frame of ledger rows, collecting every problem with its place.

The frame has one row per transaction with the canonical columns of :data:`COLUMNS`; amounts are int64
öre. Total rows ("Summa", "Totalt", or a row with only an amount) are kept with ``row_kind = "total"``
so that they are counted, not lost. A file that cannot be read raises :class:`SamordningError` with
every problem found (file, sheet, Excel row, column, value).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook

from samordning.errors import Problem, SamordningError

COLUMNS = ("sheet", "excel_row", "booking_date", "period", "account", "cost_centre", "activity",
           "project", "counterpart", "voucher", "text", "amount_ore", "row_kind")

# Header names as they appear in exports, normalised by :func:`_norm`.
ALIASES: dict[str, tuple[str, ...]] = {
    "booking_date": ("verifikationsdatum", "bokforingsdatum", "bokföringsdatum", "datum", "transaktionsdatum",
                     "date", "verdatum", "bokfdatum"),
    "period": ("period", "bokforingsperiod", "bokföringsperiod", "årmån", "arman", "månad"),
    "account": ("konto", "account", "ktoid", "kontonr", "kontonummer"),
    "cost_centre": ("ansvar", "kostnadsställe", "kostnadsstalle", "kstid", "ansvarsid"),
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


@dataclass
class Export:
    """What was read from one file."""

    file: str
    sheet: str
    header_row: int                      # Excel row number of the header
    columns: dict[str, str]              # canonical name → header as written
    rows: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)


def read_export(content: bytes, filename: str) -> Export:
    """Read an Excel export. Refuses (raises) when no ledger table can be found or values are unreadable."""
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
    except (CalamineError, ValueError, OSError) as exc:
        raise SamordningError(
            f"Filen {filename} kan inte läsas som ett Excel-ark (xlsx, xlsm, xls eller ods).",
            [Problem("filen är inte ett kalkylark eller är skadad", file=filename)],
        ) from exc
    except Exception as exc:  # calamine raises a handful of panic-like errors on broken zips
        raise SamordningError(
            f"Filen {filename} kan inte läsas som ett Excel-ark.",
            [Problem(f"filen är skadad ({type(exc).__name__})", file=filename)],
        ) from exc

    tried: list[Problem] = []
    for sheet in workbook.sheet_names:
        try:
            cells = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        except Exception:
            tried.append(Problem("bladet kan inte läsas", file=filename, sheet=sheet))
            continue
        found = _find_header(cells)
        if found is None:
            tried.append(Problem("hittar ingen rubrikrad med en beloppskolumn (t.ex. Belopp)", file=filename,
                                 sheet=sheet))
            continue
        header_index, mapping = found
        return _parse_table(filename, sheet, cells, header_index, mapping)
    raise SamordningError(f"Filen {filename} innehåller ingen tabell med bokförda transaktioner.",
                          tried or [Problem("arbetsboken är tom", file=filename)])


def _find_header(cells: list[list[object]]) -> tuple[int, dict[str, int]] | None:
    """The first row (of the first 50) whose cells name an amount column and at least one more column."""
    for index, row in enumerate(cells[:50]):
        mapping: dict[str, int] = {}
        for col, value in enumerate(row):
            if isinstance(value, str) and (name := _LOOKUP.get(_norm(value))) and name not in mapping:
                mapping[name] = col
        has_amount = "amount" in mapping or {"debit", "credit"} <= mapping.keys()
        if has_amount and len(mapping) >= 2:
            return index, mapping
    return None


def _parse_table(file: str, sheet: str, cells: list[list[object]], header_index: int,
                 mapping: dict[str, int]) -> Export:
    header = cells[header_index]
    width = len(header)
    body = [r + [None] * (width - len(r)) if len(r) < width else r[:width] for r in cells[header_index + 1:]]
    frame = pd.DataFrame(body, columns=range(width), dtype=object)
    frame.index = pd.RangeIndex(header_index + 2, header_index + 2 + len(frame))  # Excel row numbers
    blank = frame.map(lambda v: v is None or (isinstance(v, str) and not v.strip())).all(axis=1)
    frame = frame[~blank]
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
    period = booking_date.dt.strftime("%Y-%m").astype(object).where(booking_date.notna(), None)
    if "period" in mapping:
        from_period, bad_period = parse_periods(column("period"))
        unreadable.append((bad_period & booking_date.isna(), "period", "perioden kan inte läsas"))
        period = period.where(period.notna(), from_period)
    codes = {name: as_code(column(name)) for name in
             ("account", "cost_centre", "activity", "project", "counterpart", "voucher")}

    # A total row: a text cell starting with Summa/Totalt, or an amount with no date, period or coding.
    says_total = frame.map(lambda v: isinstance(v, str) and bool(_TOTAL_WORDS.match(v))).any(axis=1)
    no_coding = pd.concat([codes[c] == "" for c in codes], axis=1).all(axis=1) & period.isna()
    is_total = says_total | no_coding
    unreadable.append((amount.isna() & ~bad_amounts(unreadable), "amount" if "amount" in mapping else "debit",
                       "beloppet saknas"))
    unreadable.append((period.isna() & ~bad_date, "booking_date" if "booking_date" in mapping else "period",
                       "datum eller period saknas"))

    problems = [
        Problem(message, file=file, sheet=sheet, row=int(row), column=columns.get(name), value=column(name)[row])
        for mask, name, message in unreadable
        for row in mask.index[(mask & ~is_total).to_numpy()]
    ]
    problems.sort(key=lambda p: p.row or 0)
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
        "text": column("text").map(lambda v: "" if v is None else str(v).strip()),
        "amount_ore": amount.fillna(0).astype("int64"),
        "row_kind": np.where(is_total, "total", "data"),
    }).reset_index(drop=True)
    return Export(file, sheet, header_index + 1, columns, rows[list(COLUMNS)])


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
    empty = values.map(lambda v: v is None or (isinstance(v, str) and not v.strip()))
    numeric = values.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
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


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Excel dates, Excel serial numbers or text (``2023-02-15``, ``20230215``) to datetime64."""
    values = values.astype(object)
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[s]")
    bad = pd.Series(False, index=values.index)
    is_date = values.map(lambda v: isinstance(v, (dt.date, dt.datetime)))
    if is_date.any():
        result[is_date] = pd.to_datetime(values[is_date].map(
            lambda v: v.date() if isinstance(v, dt.datetime) else v)).astype("datetime64[s]")
    is_num = values.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
    if is_num.any():
        nums = values[is_num].astype(float)
        as_ymd = (nums >= 19000101) & (nums <= 21001231)
        serial = pd.to_datetime(nums.where(~as_ymd), unit="D", origin=_EXCEL_EPOCH, errors="coerce")
        ymd = pd.to_datetime(nums.where(as_ymd).astype("Int64").astype("string"), format="%Y%m%d", errors="coerce")
        parsed = serial.where(~as_ymd, ymd).astype("datetime64[s]")
        plausible = parsed.between(pd.Timestamp("1990-01-01"), pd.Timestamp("2100-12-31"))
        result[is_num] = parsed.where(plausible)
        bad[is_num] = ~plausible
    is_text = values.map(lambda v: isinstance(v, str) and bool(v.strip()))
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
    empty = values.map(lambda v: v is None or (isinstance(v, str) and not v.strip()))
    s = values.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)).str.strip()
    parts = s.str.extract(_PERIOD)
    month = pd.to_numeric(parts["m"], errors="coerce")
    ok = parts["y"].notna() & month.between(1, 12)
    period = (parts["y"] + "-" + month.astype("Int64").astype("string").str.zfill(2)).where(ok)
    return period.astype(object).where(ok & ~empty, None), ~ok & ~empty


def as_code(values: pd.Series) -> pd.Series:
    """Coding values (Konto, Projekt…) as text: ``7301.0`` → ``"7301"``, text kept as written."""
    def code(v: object) -> str:
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip()

    return values.map(code).astype(object)
