"""Read SIE 4 files (the Swedish standard for ledger transactions) into the same ledger rows as an Excel export.

A SIE 4 file is text in CP437 (``#FORMAT PC8``): vouchers ``#VER serie nr datum "text"`` with a block
``{ … }`` of ``#TRANS konto {objektlista} belopp [transdat] ["transtext"] …`` rows. ``#DIM`` names the
dimensions and ``#OBJEKT`` their objects; a row's ``{objektlista}`` says which object of each dimension it
belongs to (``{1 "0410" 6 "7301"}``). The dimension that carries the project (the standard's 6, or a ``#DIM``
named like one) becomes the ``project`` column the agreement maps to its areas, and so on for cost centre and
activity. ``#RTRANS`` rows (added) are followed by the same row as ``#TRANS`` and ``#BTRANS`` rows (removed)
no longer count, so only ``#TRANS`` is read. A row's "Excel row" is its line number in the file.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal

import numpy as np
import pandas as pd

from samordning.errors import Problem, SamordningError
from samordning.ingest import COLUMNS, MAX_LISTED, Export

SHEET = "SIE"
# SIE's standard dimension numbers, and names a #DIM may give them.
STANDARD_DIMENSIONS = {1: "cost_centre", 6: "project"}
DIMENSION_NAMES = (("projekt", "project"), ("kostnadsställe", "cost_centre"), ("kostnadsstalle", "cost_centre"),
                   ("resultatenhet", "cost_centre"), ("ansvar", "cost_centre"), ("verksamhet", "activity"),
                   ("aktivitet", "activity"), ("motpart", "counterpart"), ("kund", "counterpart"),
                   ("leverantör", "counterpart"))
# A field: a quoted string (with \" escapes), an object list {…}, or a bare word. What none of the first two
# alternatives can close (an opening quote or brace alone) falls to the last and is reported.
_FIELD = re.compile(r'"(?:[^"\\]|\\.)*"|\{[^{}]*\}|\S+')
_LABEL = re.compile(rb"#[A-Z][A-Z0-9]{1,11}(?:[ \t]|\r?\n|$)")
_AMOUNT = re.compile(r"^-?\d+(?:\.\d{1,2})?$")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_ESCAPE = re.compile(r"\\(.)")


def looks_like_sie(content: bytes) -> bool:
    """A SIE file starts (after an optional BOM and blank lines) with a ``#`` label such as ``#FLAGGA``."""
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return _LABEL.match(head) is not None


def _decode(content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="replace")
    declared = re.search(rb"^#FORMAT\s+(\S+)", content[:4096], re.MULTILINE)
    if declared is None or declared.group(1).upper() == b"PC8":
        return content.decode("cp437")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


class _Unclosed(ValueError):
    """A quote or an object list that does not close on its line."""

    def __init__(self, what: str, column: str) -> None:
        super().__init__(what)
        self.column = column


def _tokens(line: str) -> list[str]:
    """A SIE line's fields: quoted strings unquoted (``\\"`` → ``"``), an object list kept whole as ``{…}``."""
    fields = []
    for token in _FIELD.findall(line):
        if token.startswith('"'):
            if not _QUOTED.fullmatch(token):
                raise _Unclosed("ett citattecken stängs inte", "text")
            fields.append(_ESCAPE.sub(r"\1", token[1:-1]))
        elif token.startswith("{") and not token.endswith("}"):
            raise _Unclosed("objektlistan stängs inte med }", "objekt")
        else:
            fields.append(token)
    return fields


def _date(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%Y%m%d").date()  # a calendar date, no time of day


def read_sie(content: bytes, filename: str) -> Export:
    """Read the ``#TRANS`` rows of a SIE 4 file. Refuses with every unreadable line listed."""
    if not looks_like_sie(content):
        raise SamordningError(f"Filen {filename} är inte en SIE-fil (den börjar inte med en SIE-post som #FLAGGA).",
                              [Problem("inte SIE", file=filename)])
    text = _decode(content)
    problems: list[Problem] = []
    dims: dict[int, str] = dict(STANDARD_DIMENSIONS)
    rows: list[dict[str, object]] = []
    voucher: dict[str, object] | None = None
    sums: dict[str, Decimal] = defaultdict(Decimal)
    first_line: dict[str, int] = {}

    def bad(line_no: int, message: str, column: str | None = None, value: object = None) -> None:
        problems.append(Problem(message, file=filename, row=line_no, column=column, value=value))

    open_at = 0
    broken: set[str] = set()  # vouchers with an unreadable row: their balance is not checked
    for line_no, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line.startswith("#"):
            if line == "}":
                voucher, open_at = None, 0
            elif line == "{":
                open_at = line_no
            continue
        try:
            fields = _tokens(line)
        except _Unclosed as exc:
            bad(line_no, f"raden kan inte läsas: {exc}", exc.column, line[:60])
            if voucher is not None:
                broken.add(str(voucher["id"]))
            continue
        label = fields[0].upper()
        if label == "#DIM" and len(fields) >= 3 and fields[1].isdigit():
            name = fields[2].casefold()
            column = next((col for word, col in DIMENSION_NAMES if word in name), None)
            if column:
                dims = {k: v for k, v in dims.items() if v != column}
                dims[int(fields[1])] = column
        elif label == "#VER":
            if len(fields) < 4:
                bad(line_no, "verifikationen saknar serie, nummer eller datum", value=line[:60])
                voucher = {"id": f"rad {line_no}", "date": None, "text": ""}
                continue
            try:
                day = _date(fields[3])
            except ValueError:
                bad(line_no, "verifikationsdatumet kan inte läsas", "verdatum", fields[3])
                day = None
            voucher = {"id": f"{fields[1]}{fields[2]}", "date": day, "text": fields[4] if len(fields) > 4 else ""}
            first_line.setdefault(str(voucher["id"]), line_no)
        elif label == "#TRANS":
            if voucher is None:
                bad(line_no, "#TRANS utanför en verifikation (#VER { … })", value=line[:60])
                continue
            if len(fields) < 4 or not fields[2].startswith("{"):
                bad(line_no, "raden ska vara #TRANS konto {objekt} belopp", value=line[:60])
                continue
            if not _AMOUNT.match(fields[3]):
                bad(line_no, "beloppet kan inte läsas", "belopp", fields[3])
                broken.add(str(voucher["id"]))
                continue
            amount = Decimal(fields[3])
            day = voucher["date"]
            if len(fields) > 4 and fields[4]:
                try:
                    day = _date(fields[4])
                except ValueError:
                    bad(line_no, "transaktionsdatumet kan inte läsas", "transdat", fields[4])
                    broken.add(str(voucher["id"]))
                    continue
            if day is None:
                broken.add(str(voucher["id"]))
                continue  # the voucher's date was reported
            try:
                objects = _tokens(fields[2][1:-1])
            except _Unclosed:
                objects = ["?"]
            if len(objects) % 2:
                bad(line_no, "objektlistan ska bestå av par: dimension och objekt", "objekt", fields[2])
                continue
            row = {"excel_row": line_no, "booking_date": day, "period": day.strftime("%Y-%m"), "account": fields[1],
                   "voucher": str(voucher["id"]), "amount_ore": int(amount * 100),
                   "text": (fields[5] if len(fields) > 5 and fields[5] else str(voucher["text"])).strip()}
            for dim, obj in zip(objects[::2], objects[1::2], strict=True):
                if dim.isdigit() and int(dim) in dims:
                    row[dims[int(dim)]] = obj
            rows.append(row)
            sums[str(voucher["id"])] += amount
    if open_at:
        bad(open_at, "verifikationens block { … } stängs aldrig med }")
    for vid, total in sums.items():
        if total != 0 and vid not in broken:
            bad(first_line.get(vid, 0), f"verifikationen {vid} balanserar inte: summa "
                f"{str(total).replace('.', ',')}", "belopp", None)
    problems.sort(key=lambda p: p.row or 0)
    if problems:
        lines = "rad" if len(problems) == 1 else "rader"
        raise SamordningError(f"SIE-filen {filename} har {len(problems)} {lines} som inte kan läsas; inget har "
                              "sparats.",
                              problems[:MAX_LISTED * 20])
    if not rows:
        raise SamordningError(f"Filen {filename} innehåller inga transaktioner (#TRANS).",
                              [Problem("inga #TRANS-rader", file=filename)])
    frame = pd.DataFrame(rows)
    for column in ("cost_centre", "activity", "project", "counterpart"):
        frame[column] = frame[column].fillna("").astype(object) if column in frame else ""
    frame["sheet"] = SHEET
    frame["row_kind"] = np.array(["data"] * len(frame), dtype=object)
    frame["amount_ore"] = frame["amount_ore"].astype("int64")
    present = {name: "SIE #TRANS" for name in ("booking_date", "account", "voucher", "text", "amount",
                                               *[c for c in dims.values() if (frame[c] != "").any()])}
    return Export(filename, SHEET, 0, present, frame[list(COLUMNS)], kind="SIE")
