"""Find the ledger table of a workbook or CSV — the sheet, the header row, which column holds what — and
read its rows into the canonical columns, refusing with every unreadable or missing value listed.

Total rows ("Summa", "Totalt", or a row with only an amount) are kept with ``row_kind = "total"`` so that
they are counted, not lost.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from samordning.errors import Problem, SamordningError
from samordning.ingest.detect import Grids
from samordning.ingest.export import COLUMNS, Export
from samordning.ingest.period import period_from_file
from samordning.ingest.values import (
    MAX_AMOUNT_ORE,
    as_code,
    blank,
    by_distinct,
    parse_dates,
    parse_periods,
    read_amounts,
    split_code,
    text_cells,
)
from samordning.vocabulary import CANONICAL_SV  # re-exported: the parser reads it lightly

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
NAME_SV = {v: k for k, v in CANONICAL_SV.items()}
_CODES = ("account", "cost_centre", "activity", "project", "counterpart", "voucher", "text")
_NAMED_CODES = ("account", "cost_centre", "activity", "project", "counterpart")  # may hold "code name"
_TOTAL_WORDS = re.compile(r"^\s*(summa|totalt|total|delsumma|sum)\b", re.IGNORECASE)
_HEADER_SEARCH = 50                      # rows searched for the header
NO_DATE = "ingen datumkolumn"            # a sheet's table has amounts but no date or period column
_NO_DATE_PROBLEM = ("tabellen har ingen datum- eller periodkolumn; ange perioden för hela filen (--period ÅÅÅÅ-MM) "
                    "eller koppla datumkolumnen (--column datum=RUBRIK)")

Header = tuple[int, dict[str, int], str]  # (row index, canonical name → column index, mapping source)


def _norm(value: object) -> str:
    return re.sub(r"[\s_.\-/]+", "", str(value)).casefold()


def recognised(header: str) -> str | None:
    """The canonical name a header is recognised as (``"Verifikationsdatum"`` → ``"booking_date"``), if any."""
    return _LOOKUP.get(_norm(header))


def canonical_mapping(columns: dict[str, str], filename: str) -> dict[str, str]:
    """A mapping by hand keyed by canonical names, whether given by Swedish (``belopp``) or canonical name."""
    out = {}
    for key, header in columns.items():
        name = CANONICAL_SV.get(_norm(key), key if key in ALIASES else None)
        if name is None:
            raise SamordningError(f"Okänt fält {key!r} i kolumnkopplingen; använd " + ", ".join(CANONICAL_SV)
                                  + ".", [Problem("okänt fält", file=filename, value=key)])
        out[name] = header
    return out


def _layout(row: list[object]) -> str:
    """A fingerprint of a header row: the same ERP report gives the same fingerprint every time."""
    names = "|".join(_norm(v) for v in row if v is not None and str(v).strip())
    return hashlib.sha256(names.encode("utf-8")).hexdigest()[:16]


# -- the sheet and the header -------------------------------------------------------------------------------

def read_cells(filename: str, grids: Grids, *, chosen: str | None, columns: dict[str, str],
               header_row: int | None, saved: dict[str, dict[str, str]], period: str | None = None) -> Export:
    """Find the ledger table among the sheets (the largest one, unless a sheet is ``chosen``) and read it.
    ``period`` ("2016-03") is the month of every row, for a table without a date or period column."""
    found, sheets, tried = _survey(filename, grids, columns, header_row, saved, need_time=period is None)
    if not found:
        if any(v == NO_DATE for v in sheets.values()):
            raise _undated(filename, grids, sheets, tried)
        empty = all(v == "tomt" for v in sheets.values())
        raise SamordningError(
            f"Filen {filename} är tom." if empty else
            f"Filen {filename} innehåller ingen tabell med bokförda transaktioner som kan kännas igen. Ange "
            "kolumnerna för hand (i instrumentpanelen, eller med --column belopp=RUBRIK --column datum=RUBRIK).",
            tried or [Problem("arbetsboken är tom", file=filename)])
    name, (index, mapping, source) = max(found.items(), key=lambda f: len(grids[f[0]] or []) - f[1][0])
    cells = grids[name] or []
    export = _parse_table(filename, name, cells, index, mapping, period=period)
    export.sheets, export.layout, export.mapping_source = sheets, _layout(cells[index]), source
    size = len(export.rows)
    sheets[name] = f"{size} rader"
    if len(grids) > 1 and chosen is None:
        others = [n for n in grids if n != name]
        export.notes.append(f"Läste bladet {name!r} ({size} rader); övriga blad: "
                            + ", ".join(f"{n!r} ({sheets[n]})" for n in others) + ". Välj ett annat blad om det "
                            "behövs.")
    return export


def _undated(filename: str, grids: Grids, sheets: dict[str, str], tried: list[Problem]) -> SamordningError:
    """The refusal of a table without a date or period column, proposing the month its file name or title
    rows name (the rows above the header) for the controller to confirm."""
    titles = [row for name, state in sheets.items() if state == NO_DATE
              for p in tried if p.sheet == name and p.row for row in (grids[name] or [])[:p.row - 1]]
    proposal = period_from_file(filename, titles)
    found = (f" Filen nämner perioden {proposal}; stämmer den, läs in med --period {proposal} (i uppladdningen: "
             "bekräfta perioden)." if proposal else "")
    return SamordningError(
        f"Filen {filename} har ingen datum- eller periodkolumn (som Bokföringsdatum eller Period). Ange perioden "
        "för hela filen (--period ÅÅÅÅ-MM, eller Period i uppladdningen), eller koppla datumkolumnen för hand "
        f"(--column datum=RUBRIK).{found}", tried, remedy="period", proposal=proposal)


def _survey(filename: str, grids: Grids, columns: dict[str, str], header_row: int | None,
            saved: dict[str, dict[str, str]], *, need_time: bool = True,
            ) -> tuple[dict[str, Header], dict[str, str], list[Problem]]:
    """Each sheet's ledger table (if any), what was found on every sheet, and why the others were passed over."""
    tried: list[Problem] = []
    found: dict[str, Header] = {}
    sheets: dict[str, str] = {}
    for name, cells in grids.items():
        if cells is None:
            tried.append(Problem("bladet kan inte läsas", file=filename, sheet=name))
            sheets[name] = "kan inte läsas"
            continue
        try:
            header = _find_header(cells, columns, header_row, saved, need_time=need_time)
        except SamordningError as exc:
            tried += [dataclasses.replace(p, file=filename, sheet=name) for p in exc.problems]
            sheets[name] = NO_DATE if exc.problems[0].message == _NO_DATE_PROBLEM else "kolumnerna hittas inte"
            continue
        if header is None:
            tried.append(Problem("hittar ingen rubrikrad med en beloppskolumn (t.ex. Belopp) och en datum- eller "
                                 "periodkolumn", file=filename, sheet=name))
            sheets[name] = "ingen tabell" if any(any(v is not None for v in r) for r in cells) else "tomt"
            continue
        found[name] = header
        # rows below the header, blank ones included: enough to pick the largest
        sheets[name] = f"{len(cells) - header[0] - 1} rader"
    return found, sheets, tried


def _find_header(cells: list[list[object]], columns: dict[str, str], header_row: int | None,
                 saved: dict[str, dict[str, str]], *, need_time: bool = True) -> Header | None:
    """The header row and the column of each canonical name.

    Without a mapping: the first row (of the first 50) whose cells name an amount column (or Debet and Kredit)
    and a date or period column (unless ``need_time`` is False: a period is given for the whole file). With
    one: the row (``header_row``, else the first) holding every mapped header, the other columns recognised by
    name as usual. A row whose layout has a saved mapping uses it. A header with an amount but no date or
    period column, where one is needed, is refused as such (not as "no table").
    """
    rows = [header_row - 1] if header_row else range(min(len(cells), _HEADER_SEARCH))
    undated: int | None = None
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
        given = columns or saved.get(_layout(row))
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
        has_time = "booking_date" in mapping or "period" in mapping or not need_time
        if has_amount and has_time:
            return index, mapping, source
        if has_amount and (source == "manual" or header_row):
            raise SamordningError("", [Problem(_NO_DATE_PROBLEM, row=index + 1)])
        if header_row:
            raise SamordningError("", [Problem("rubrikraden saknar en beloppskolumn", row=header_row)])
        if has_amount and undated is None:
            undated = index
    if undated is not None:
        raise SamordningError("", [Problem(_NO_DATE_PROBLEM, row=undated + 1)])
    if columns:
        raise SamordningError("", [Problem("rubrikerna i kolumnkopplingen finns inte på någon rad",
                                           value=", ".join(columns.values()))])
    return None


# -- the rows ----------------------------------------------------------------------------------------------

@dataclass
class _Values:
    """A table's columns parsed (index: Excel row numbers), and its cells found unreadable as
    (mask, canonical column, message)."""

    amount: pd.Series
    booking_date: pd.Series
    period: pd.Series
    codes: dict[str, pd.Series]
    bad_date: pd.Series
    bad_amount: pd.Series
    unreadable: list[tuple[pd.Series, str, str]]
    empty: dict[str, np.ndarray]         # each code column: which codes are "" (known per distinct cell)
    day: pd.Series                       # the booking date as a date (None for none)

    def rows(self, keep: np.ndarray) -> _Values:
        """Only the rows ``keep`` (a boolean array)."""
        return _Values(self.amount[keep], self.booking_date[keep], self.period[keep],
                       {name: code[keep] for name, code in self.codes.items()}, self.bad_date[keep],
                       self.bad_amount[keep], [(mask[keep], name, message) for mask, name, message in self.unreadable],
                       {name: empty[keep] for name, empty in self.empty.items()}, self.day[keep])


def _parse_table(file: str, sheet: str, cells: list[list[object]], header_index: int,
                 mapping: dict[str, int], *, period: str | None = None) -> Export:
    """Read the rows below the header: every value parsed, blank rows dropped, total rows marked; refused with
    every unreadable or missing value listed, and when no row is left to read. ``period``: every row's month,
    for a table without a date or period column."""
    header = cells[header_index]
    columns = {name: str(header[col]) for name, col in mapping.items()}
    _check_time(file, sheet, header_index, columns, period)
    frame = _frame(cells, header_index)
    values = _parse_values(frame, mapping)
    keep = ~_blank_rows(frame, mapping, values)
    if not keep.all():
        frame, values = frame[keep], values.rows(keep)
    is_total = _total_rows(frame, values)
    if period is not None:
        values.period = pd.Series(period, index=frame.index, dtype=object)
    _refuse_unreadable(file, sheet, frame, values, mapping=mapping, columns=columns, is_total=is_total)
    if is_total.all():
        raise SamordningError(
            f"Filen {file} har inga rader att läsa under rubrikraden (blad {sheet!r}, rad {header_index + 1}); "
            "inget har sparats. Har filens radslut gått förlorade, så att allt står på en rad?",
            [Problem("inga rader att läsa", file=file, sheet=sheet, row=header_index + 1)])
    export = Export(file, sheet, header_index + 1, columns, _ledger_rows(sheet, frame, values, is_total))
    export.period_given = period
    return export


def _check_time(file: str, sheet: str, header_index: int, columns: dict[str, str], period: str | None) -> None:
    """A table needs its own date or period column, or a period given for the whole file — not both."""
    own = [columns[name] for name in ("booking_date", "period") if name in columns]
    if own and period is not None:
        raise SamordningError(
            f"Filen {file} har en egen datum- eller periodkolumn ({', '.join(own)}); en period för hela filen "
            f"({period}) anges bara för filer utan datum.",
            [Problem("perioden för hela filen behövs inte", file=file, sheet=sheet, row=header_index + 1,
                     column=own[0], value=period)])
    if not own and period is None:
        raise SamordningError(f"Filen {file} har ingen datum- eller periodkolumn.",
                              [Problem(_NO_DATE_PROBLEM, file=file, sheet=sheet, row=header_index + 1)])


def _frame(cells: list[list[object]], header_index: int) -> pd.DataFrame:
    """The cells below the header as a frame of objects, indexed by Excel row number."""
    width = len(cells[header_index])
    body = cells[header_index + 1:]
    if set(map(len, body)) - {width}:  # calamine gives rectangular rows; CSV rows may differ
        body = [r + [None] * (width - len(r)) if len(r) < width else r[:width] for r in body]
    grid = np.empty((len(body), width), dtype=object)
    if body:
        grid[:] = body  # numpy copies the cell references in C (a frame built from lists is twice as slow)
    frame = pd.DataFrame(grid, columns=range(width), dtype=object, copy=False)
    frame.index = pd.RangeIndex(header_index + 2, header_index + 2 + len(frame))
    return frame


def _column(frame: pd.DataFrame, mapping: dict[str, int], name: str) -> pd.Series:
    """The cells of a canonical column (all None when the table has no such column)."""
    if name in mapping:
        return frame[mapping[name]]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _parse_values(frame: pd.DataFrame, mapping: dict[str, int]) -> _Values:
    """Amounts (or debit − credit), dates, periods (from the date, else the period column) and codes."""
    unreadable: list[tuple[pd.Series, str, str]] = []
    if "amount" in mapping:
        amount, bad_amount = _amounts(frame, mapping, "amount", unreadable)
    else:
        debit, bad_d = _amounts(frame, mapping, "debit", unreadable)
        credit, bad_c = _amounts(frame, mapping, "credit", unreadable)
        amount = (debit.fillna(0) - credit.fillna(0)).where(debit.notna() | credit.notna())
        bad_amount = bad_d | bad_c
    booking_date, bad_date, period, day = by_distinct(_column(frame, mapping, "booking_date"), _dates)
    unreadable.append((bad_date, "booking_date", "datumet kan inte läsas"))
    if "period" in mapping:
        from_period, bad_period = by_distinct(_column(frame, mapping, "period"), parse_periods)
        unreadable.append((bad_period & booking_date.isna(), "period", "perioden kan inte läsas"))
        period = period.where(period.notna(), from_period)
    codes, empty = _split_names({name: by_distinct(_column(frame, mapping, name),
                                                   _code_and_name if name in _NAMED_CODES else _code)
                                 for name in _CODES})
    return _Values(amount, booking_date, period, codes, bad_date, bad_amount, unreadable, empty, day)


def _dates(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Booking dates (datetime64), the cells that are not dates, each date's month ("2023-02", None for no
    date) and the date as a ``datetime.date`` (None for none)."""
    booking_date, bad_date = parse_dates(values)
    month = (booking_date.dt.year * 100 + booking_date.dt.month).astype("Int64")
    period = month.map({m: f"{m // 100:04d}-{m % 100:02d}" for m in month.dropna().unique()}).astype(object)
    day = booking_date.dt.date.astype(object).where(booking_date.notna(), None)
    return booking_date, bad_date, period.where(booking_date.notna(), None), day


def _code(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Cells as text (:func:`.values.as_code`), and which of them are ""."""
    code = as_code(values)
    return code, code == ""


def _code_and_name(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Coding cells as text (:func:`.values.as_code`) split into the code and the name written after it, and
    which codes are "" and which cells have a name."""
    code, name = split_code(as_code(values))
    return code, code == "", name, name != ""


def _amounts(frame: pd.DataFrame, mapping: dict[str, int], name: str,
             unreadable: list[tuple[pd.Series, str, str]]) -> tuple[pd.Series, pd.Series]:
    """An amount column in öre, and its cells that are not amounts (unreadable, or beyond the bound), each
    kind added to ``unreadable`` with its message."""
    amount, bad, too_large = by_distinct(_column(frame, mapping, name), read_amounts)
    limit = f"{MAX_AMOUNT_ORE // 100:,}".replace(",", " ")
    unreadable += [(bad, name, "beloppet kan inte läsas"),
                   (too_large, name, f"beloppet är orimligt stort (mer än {limit} kr åt något håll)")]
    return amount, bad | too_large


def _split_names(coded: dict[str, tuple[pd.Series, ...]]) -> tuple[dict[str, pd.Series], dict[str, np.ndarray]]:
    """Code cells written with their name ("46362 Köp medicinskt") keep the code as the code; the names become
    the row's text where the row has none (several joined by "; "). ``coded``: each coding column as (code,
    empty, name, has name) from :func:`_code_and_name`, the others as (code, empty) from :func:`_code`.
    Returns the codes and which of them are ""."""
    codes = {column: found[0] for column, found in coded.items()}
    empty = {column: found[1].to_numpy() for column, found in coded.items()}
    names = pd.Series("", index=codes["text"].index, dtype=object)
    named = np.zeros(len(names), dtype=bool)
    for column in _NAMED_CODES:
        _, _, name, has_name = coded[column]
        has = has_name.to_numpy()
        if has.any():
            joined = names.where(~named, names + "; ") + name
            names = names.where(~has, joined)
            named |= has
    if named.any():
        codes["text"] = codes["text"].where(~empty["text"], names)
        empty["text"] = empty["text"] & ~named
    return codes, empty


def _blank_rows(frame: pd.DataFrame, mapping: dict[str, int], values: _Values) -> np.ndarray:
    """Rows with nothing in any cell, which are not rows at all: mapped columns are empty when their parsed
    value is, the other columns are looked at once."""
    empty = np.logical_and.reduce(list(values.empty.values()))
    empty &= (values.amount.isna() & ~values.bad_amount).to_numpy()
    empty &= (values.booking_date.isna() & ~values.bad_date).to_numpy()
    if "period" in mapping:
        empty &= blank(frame[mapping["period"]]).to_numpy()
    for c in frame.columns:
        if c not in mapping.values() and empty.any():
            empty &= blank(frame[c]).to_numpy()
    return empty


def _total_rows(frame: pd.DataFrame, values: _Values) -> pd.Series:
    """A total row: an amount with no date, period or coding, or, among rows without a date/period or an
    account, a cell starting with Summa/Totalt (a transaction whose text begins "Summa" is still one)."""
    no_period = values.period.isna().to_numpy()
    no_coding = np.logical_and.reduce([e for name, e in values.empty.items() if name != "text"]) & no_period
    candidates = frame[no_period | values.empty["account"]]
    says_total = pd.Series(False, index=frame.index)
    if len(candidates):
        says_total[candidates.index] = pd.concat(
            [text_cells(candidates[c]).str.match(_TOTAL_WORDS).fillna(False).astype(bool)
             for c in candidates.columns], axis=1).any(axis=1)
    return says_total | no_coding


def _refuse_unreadable(file: str, sheet: str, frame: pd.DataFrame, values: _Values, *, mapping: dict[str, int],
                       columns: dict[str, str], is_total: pd.Series) -> None:
    """Refuse the table when a value (not on a total row) is unreadable or missing, listing every one in
    reading order: by row, then column."""
    missing = [(values.amount.isna() & ~values.bad_amount, "amount" if "amount" in mapping else "debit",
                "beloppet saknas"),
               (values.period.isna() & ~values.bad_date, "booking_date" if "booking_date" in mapping else "period",
                "datum eller period saknas")]
    found = [
        (int(row), mapping.get(name, -1),
         Problem(message, file=file, sheet=sheet, row=int(row), column=columns.get(name),
                 value=_column(frame, mapping, name)[row]))
        for mask, name, message in values.unreadable + missing
        for row in mask.index[(mask & ~is_total).to_numpy()]
    ]
    problems = [p for _, _, p in sorted(found, key=lambda f: f[:2])]
    if problems:
        raise SamordningError(
            f"Filen {file} har {len(problems)} värden som inte kan läsas eller saknas; inget har sparats.",
            problems)


def _ledger_rows(sheet: str, frame: pd.DataFrame, values: _Values, is_total: pd.Series) -> pd.DataFrame:
    """The rows in the canonical :data:`COLUMNS`, amounts as int64 öre: one frame built in place from the
    columns' arrays (no copies: a million rows)."""
    count = len(frame)
    index = pd.RangeIndex(count)

    def same(column: pd.Series) -> pd.Series:  # the column renumbered from 0, its array and dtype kept
        return pd.Series(column.to_numpy(), index=index, dtype=column.dtype, copy=False)

    data = {
        "sheet": sheet,
        "excel_row": frame.index.to_numpy(dtype="int64"),
        "booking_date": same(values.day),
        "period": same(values.period),
        **{name: same(code) for name, code in values.codes.items()},
        "amount_ore": values.amount.fillna(0).to_numpy(dtype="int64"),
        "row_kind": np.where(is_total, "total", "data"),
        "dimensions": None,
    }
    return pd.DataFrame({name: data[name] for name in COLUMNS}, index=index, copy=False)
