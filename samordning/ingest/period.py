"""A period for a whole file: for exports that carry no date or period column (a monthly supplier-invoice
workbook whose month is only in its file name or title rows).

The controller gives the period (``--period 2016-03``, or confirms the one the upload view proposes); it must be
one calendar month. A quarter (``2016Q1``) is refused: spreading a quarter's rows over its three months would
invent the month of every row, and the follow-up's replacement of uploads by month would then replace the wrong
rows. A quarter's file is imported as three monthly files, or with its own date column.
"""

from __future__ import annotations

import re

from samordning.errors import Problem, SamordningError

_MONTH = re.compile(r"^(?P<y>(?:19|20)\d\d)\s*[-/ ]?\s*(?P<m>0?[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(?P<y>\d{4})\s*[-/ ]?\s*(?:Q|KV|K)\s*(?P<q>[1-4])$", re.IGNORECASE)
_MONTHS_SV = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
              "november", "december")
# In a file name or title: 2016-03, 2016_03, 201603, "mars 2016", "Mars-2016", "2016 mars".
_NUMERIC_IN_TEXT = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d\d)[-_ .]?(?P<m>0[1-9]|1[0-2])(?!\d)")
_WORD_IN_TEXT = re.compile(
    r"(?<![^\W\d_])(?P<word>" + "|".join(m[:3] + f"(?:{m[3:]})?" for m in _MONTHS_SV)
    + r")[-_ .]*(?P<y>(?:19|20)\d\d)(?!\d)|(?<!\d)(?P<y2>(?:19|20)\d\d)[-_ .]*(?P<word2>"
    + "|".join(_MONTHS_SV) + r")(?![^\W\d_])", re.IGNORECASE)


def file_period(text: str) -> str:
    """The period a controller gave for a whole file, as ``"2016-03"``; refused (in Swedish) unless it is one
    month. ``"2016-03"``, ``"201603"`` and ``"2016 3"`` are March 2016."""
    written = text.strip()
    if (month := _MONTH.match(written)) is not None:
        return f"{month['y']}-{int(month['m']):02d}"
    if _QUARTER.match(written):
        raise SamordningError(
            f"Perioden {text!r} är ett kvartal. Ange en månad (ÅÅÅÅ-MM, till exempel 2016-03): raderna i en fil "
            "utan datum fördelas inte på ett kvartals månader, eftersom varje rads månad då skulle vara påhittad. "
            "Läs in kvartalet som en fil per månad.", [Problem("perioden är inte en månad", value=text)])
    raise SamordningError(f"Perioden {text!r} kan inte läsas; ange en månad som ÅÅÅÅ-MM, till exempel 2016-03.",
                          [Problem("perioden kan inte läsas", value=text)])


def _month_number(word: str) -> int:
    return next(i for i, name in enumerate(_MONTHS_SV, start=1) if name.startswith(word.casefold()[:3]))


def period_in_text(text: str) -> str | None:
    """The one month a text names (a file name or a title row), as ``"2016-03"``; None when it names none
    or several different ones. ``"Leverantörsfakturor 2016-03.xlsx"``, ``"utfall_201603.csv"`` and
    ``"Fakturor mars 2016"`` all name 2016-03."""
    found = {f"{m['y']}-{m['m']}" for m in _NUMERIC_IN_TEXT.finditer(text)}
    for m in _WORD_IN_TEXT.finditer(text):
        year, word = (m["y"], m["word"]) if m["y"] else (m["y2"], m["word2"])
        found.add(f"{year}-{_month_number(word):02d}")
    return found.pop() if len(found) == 1 else None


def period_from_file(filename: str, title_rows: list[list[object]] | None = None) -> str | None:
    """The period to propose for a file without dates: the one month its name names, else the one its title
    rows (the rows above the table) name; None when neither names exactly one. The controller confirms it."""
    stem = filename.rsplit("/", 1)[-1]
    if (period := period_in_text(stem)) is not None:
        return period
    cells = " | ".join(str(v) for row in title_rows or [] for v in row if v is not None and str(v).strip())
    return period_in_text(cells) if cells else None
