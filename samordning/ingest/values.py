"""Cell values as people write them: amounts, dates, periods and codes, parsed a column at a time.

Each parser takes a column of cells (an object series straight from the sheet) and returns the parsed series
and a mask of the cells that hold something unreadable; blank cells are neither values nor unreadable.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

_AMOUNT = re.compile(r"^(?P<sign>-)?(?P<int>\d+)(?:\.(?P<frac>\d{1,2}))?$")
_PERIOD = re.compile(r"^(?P<y>\d{4})\s*[-/ ]?\s*(?P<m>\d{1,2})$")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_NUMBER_TYPES = [int, float, np.int64, np.float64]
MAX_AMOUNT_ORE = 10 ** 14                # ±1 000 000 000 000 kr: beyond it a single amount is a mistake, not a cost
_DATE_TYPES = [dt.date, dt.datetime, pd.Timestamp]


# Columns whose non-empty cells are all text, all floats or all dates (the readers give Python objects): cells
# that compare equal, and so share a distinct value, are read alike (a date never equals a datetime; a datetime
# equal to a Timestamp is read as it). Any other column is checked cell by cell (``1.0 == True``: counted as
# one, they would be read as one).
_ONE_KIND = {"string", "floating", "date", "datetime", "empty"}
_SAMPLE = 1000                           # cells looked at first: a column of nearly unique ones is parsed whole


def by_distinct(values: pd.Series, parse: Callable[[pd.Series], tuple[pd.Series, ...]]) -> tuple[pd.Series, ...]:
    """``parse`` (a column parser) applied to each distinct cell of a column once, its results spread back to
    every cell: a ledger column holds few distinct accounts, dates or texts. A column of nearly unique cells is
    parsed as it is. Empty cells (None, NaN) share one distinct value: every parser reads them alike."""
    cells = values.to_numpy(dtype=object)
    if len(pd.unique(cells[:_SAMPLE])) > _SAMPLE // 2:  # amounts, voucher numbers: not worth counting
        return parse(values)
    codes, uniques = pd.factorize(cells, use_na_sentinel=True)
    if len(uniques) > len(cells) // 4 or not _same_types(values, codes, uniques):
        return parse(values)
    distinct = np.empty(len(uniques) + 1, dtype=object)
    distinct[:-1] = uniques
    distinct[-1] = None  # code -1, an empty cell, reads the last entry
    results = parse(pd.Series(distinct, dtype=object))
    return tuple(_spread(result, codes, values.index) for result in results)


def _same_types(values: pd.Series, codes: np.ndarray, uniques: np.ndarray) -> bool:
    """Whether every cell has the type of the distinct value it was counted as (``True`` and ``1.0`` are
    equal: counted as one, they would be read as one)."""
    if pd.api.types.infer_dtype(uniques, skipna=True) in _ONE_KIND and pd.api.types.infer_dtype(
            values.to_numpy(dtype=object), skipna=True) in _ONE_KIND:
        return True
    types = cell_types(values).to_numpy()
    expected = np.array([type(u) for u in uniques] + [None], dtype=object)[codes]
    filled = codes >= 0
    return bool((types[filled] == expected[filled]).all())


def _spread(result: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """A result per distinct value, as one per cell (code -1: the last entry)."""
    if isinstance(result.dtype, np.dtype):
        return pd.Series(result.to_numpy()[codes], index=index, dtype=result.dtype, copy=False)
    return pd.Series(result.array.take(codes), index=index)


def cell_types(values: pd.Series) -> pd.Series:
    """Each cell's Python type (``map(type)`` runs in C: no Python frame per cell, unlike a lambda)."""
    return values.map(type)


def text_cells(values: pd.Series) -> pd.Series:
    """The text cells of a column (other cells NaN), ready for the vectorised ``.str`` methods."""
    return values.where(_is_text(values))


def _is_text(values: pd.Series, types: pd.Series | None = None) -> np.ndarray:
    """A boolean array: which cells are text (numpy compares the cells' types in C)."""
    return np.isin((cell_types(values) if types is None else types).to_numpy(), [str])


def _stripped(values: pd.Series, text: np.ndarray) -> list[str]:
    """The text cells (mask ``text``) with surrounding whitespace removed. A comprehension over the cells is
    what pandas' ``.str.strip`` runs too, without its per-call NaN handling (five times faster here)."""
    return [v.strip() for v in values.to_numpy()[text]]


def blank(values: pd.Series, types: pd.Series | None = None) -> pd.Series:
    """Empty cells: None, NaN or only whitespace. ``types``: the cells' types, where already known."""
    text = _is_text(values, types)
    empty = pd.isna(values.to_numpy()) & ~text
    empty[np.flatnonzero(text)] = [not v for v in _stripped(values, text)]
    return pd.Series(empty, index=values.index)


def parse_amounts(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers or Swedish-formatted text (``"1 234,50"``, ``"−12,5"``, ``"12-"``, ``"(12)"``) to öre.

    Returns (Int64 öre with <NA> for empty cells, mask of cells that are not amounts); an amount beyond
    ±:data:`MAX_AMOUNT_ORE` is not one.
    """
    result, bad, too_large = read_amounts(values)
    return result, bad | too_large


def read_amounts(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """:func:`parse_amounts`, with the cells beyond ±:data:`MAX_AMOUNT_ORE` in a mask of their own (they are
    readable, and refused for their size): (öre, unreadable, too large)."""
    values = values.astype(object)
    if pd.api.types.infer_dtype(values.to_numpy(), skipna=True) == "floating":
        return _float_amounts(values.to_numpy(dtype=float, na_value=np.nan), values.index)
    types = cell_types(values)
    empty = blank(values, types)
    numeric = types.isin(_NUMBER_TYPES) & ~empty
    result = pd.Series(pd.NA, index=values.index, dtype="Int64")
    bad = pd.Series(False, index=values.index)
    too_large = pd.Series(False, index=values.index)
    if numeric.any():
        ore = np.round(values[numeric].astype(float).to_numpy() * 100)
        finite = np.isfinite(ore)
        fits = finite & (np.abs(np.where(finite, ore, 0)) <= MAX_AMOUNT_ORE)
        result[numeric] = pd.array(np.where(fits, ore, 0).astype("int64"))
        bad[numeric] = ~finite
        too_large[numeric] = finite & ~fits
    texts = ~numeric & ~empty
    if texts.any():
        ore, ok, big = _text_amounts(values[texts])
        result[texts] = pd.array(ore.where(ok & ~big, 0).to_numpy(), dtype="Int64")
        result[texts & ~(ok & ~big).reindex(values.index, fill_value=False)] = pd.NA
        bad[texts] = ~ok
        too_large[texts] = big
    result[too_large] = pd.NA
    return result, bad, too_large


def _float_amounts(floats: np.ndarray, index: pd.Index) -> tuple[pd.Series, pd.Series, pd.Series]:
    """:func:`read_amounts` of a column whose cells are all numbers or empty (NaN), in one pass of numpy: the
    same rounding to öre, an infinity unreadable (0 öre), an amount beyond the bound too large (no öre)."""
    filled = ~np.isnan(floats)
    ore = np.round(floats * 100)
    finite = np.isfinite(ore)
    fits = finite & (np.abs(np.where(finite, ore, 0)) <= MAX_AMOUNT_ORE)
    too_large = filled & finite & ~fits
    result = pd.arrays.IntegerArray(np.where(fits, ore, 0).astype("int64"), ~filled | too_large)
    return (pd.Series(result, index=index), pd.Series(filled & ~finite, index=index),
            pd.Series(too_large, index=index))


def _text_amounts(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Amounts written as text, to öre (int64, 0 where unreadable or too large), which of them could be read,
    and which are beyond ±:data:`MAX_AMOUNT_ORE` (compared as digits, so 23 digits cannot overflow int64)."""
    s = values.astype(str).str.strip()
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
    digits = (parts["int"].where(ok, "0") + frac.where(ok, "00")).str.lstrip("0")
    big = ok & (digits.str.len() > len(str(MAX_AMOUNT_ORE)))  # more digits than the bound has
    ore = digits.where(~big & (digits != ""), "0").astype("int64")
    big |= ok & (ore > MAX_AMOUNT_ORE)
    return ore.where(parts["sign"].isna(), -ore).where(~big, 0), ok, big


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Excel dates, Excel serial numbers or text (``2023-02-15``, ``20230215``) to datetime64."""
    values = values.astype(object)
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[s]")
    bad = pd.Series(False, index=values.index)
    types = cell_types(values)
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
    is_text = np.isin(types.to_numpy(), [str]) & ~blank(values, types).to_numpy()
    if is_text.any():
        s = values[is_text].astype(str).str.strip().str.replace(r"[ T]\d{1,2}:\d{2}(:\d{2})?$", "", regex=True)
        s = s.str.replace(r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3", regex=True).str.replace("/", "-")
        parsed = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce").astype("datetime64[s]")
        result[is_text] = parsed
        bad[is_text] = parsed.isna()
    return result, bad


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
    if pd.api.types.infer_dtype(arr, skipna=False) == "string":  # only text: as written, stripped
        out = np.empty(len(arr), dtype=object)
        out[:] = list(map(str.strip, arr))
        return pd.Series(out, index=values.index, dtype=object)
    types = cell_types(values).to_numpy()
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


# A code followed by its name in one cell: "46362 Köp medicinskt …", "7301 - Social välfärd". The code starts
# with a digit; the name starts with neither a digit nor a space, so "2023 02" or "12 500" stay whole.
_CODE_AND_NAME = re.compile(r"^(?P<code>\d[0-9A-Za-z.]*)\s+(?:[-–:]\s*)?(?P<name>[^\d\s\-–:].*)$", re.DOTALL)


def split_code(codes: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Code cells (text, from :func:`as_code`) written as a code and its name: the code alone, and the name
    ("" where the cell holds only a code). Each distinct cell is looked at once."""
    distinct = pd.unique(codes.to_numpy())
    code, name = {}, {}
    for cell in distinct:
        found = _CODE_AND_NAME.match(cell) if isinstance(cell, str) else None
        code[cell], name[cell] = (found["code"], found["name"].strip()) if found else (cell, "")
    return codes.map(code).astype(object), codes.map(name).astype(object)
