"""Read SIE 4 files (the Swedish standard for ledger transactions) into the same ledger rows as an Excel export.

A SIE 4 file is text in CP437 (``#FORMAT PC8``): vouchers ``#VER serie nr datum "text"`` with a block
``{ … }`` of ``#TRANS konto {objektlista} belopp [transdat] ["transtext"] …`` rows. ``#DIM`` names the
dimensions and ``#OBJEKT`` their objects; a row's ``{objektlista}`` says which object of each dimension it
belongs to (``{1 "0410" 6 "7301"}``). The dimension that carries the project (the standard's 6, or a ``#DIM``
named like one) becomes the ``project`` column the agreement maps to its areas, and so on for cost centre and
activity. ``#RTRANS`` rows (added) are followed by the same row as ``#TRANS`` and ``#BTRANS`` rows (removed)
no longer count, so only ``#TRANS`` is read. A row's "Excel row" is its line number in the file.

Every dimension of a row's object list is kept (``dimensions``: number → object), so that an agreement can map
by any of them (``"sie:2"``). Files as programs really write them are read with a warning where the standard is
bent but the meaning is plain: a quote that does not close on its line reads to the end of the line; text whose
bytes are not the declared encoding (UTF-8 or ISO-8859-1/15 under ``#FORMAT PC8``) is read in the encoding it
is. A voucher that does not balance is refused, unless the controller accepts the file anyway; the warning is
then kept with the upload.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from samordning.errors import Problem, SamordningError
from samordning.ingest.export import COLUMNS, Export

SHEET = "SIE"
MAX_PROBLEMS = 1000                      # a refusal lists at most this many lines
# SIE's standard dimension numbers, and names a #DIM may give them.
STANDARD_DIMENSIONS = {1: "cost_centre", 6: "project"}
DIMENSION_NAMES = (("projekt", "project"), ("kostnadsställe", "cost_centre"), ("kostnadsstalle", "cost_centre"),
                   ("resultatenhet", "cost_centre"), ("ansvar", "cost_centre"), ("verksamhet", "activity"),
                   ("aktivitet", "activity"), ("motpart", "counterpart"), ("kund", "counterpart"),
                   ("leverantör", "counterpart"), ("project", "project"), ("cost cent", "cost_centre"),
                   ("costcent", "cost_centre"), ("department", "cost_centre"), ("activity", "activity"),
                   ("counterpart", "counterpart"))
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


def _decode(content: bytes) -> tuple[str, str | None]:
    """The file's text, and a warning when its bytes are not in the encoding it declares. ``#FORMAT PC8``
    (CP437, the standard's) is checked: bytes that are valid UTF-8 are UTF-8; bytes only in ISO-8859-1/15's
    letter range (never 0x80–0x9F, where CP437 has å, ä, ö) are ISO-8859-15."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="replace"), None
    declared = re.search(rb"^#FORMAT\s+(\S+)", content[:4096], re.MULTILINE)
    if declared is not None and declared.group(1).upper() != b"PC8":
        try:
            return content.decode("utf-8"), None
        except UnicodeDecodeError:
            return content.decode("cp1252", errors="replace"), None
    high = bytes(b for b in set(content) if b >= 0x80)
    if not high:
        return content.decode("ascii"), None
    try:
        text, actual = content.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        if any(0x80 <= b < 0xA0 for b in high):
            return content.decode("cp437"), None
        text, actual = content.decode("iso8859_15"), "ISO-8859-15"
    said = "anger #FORMAT PC8 (teckenkodningen CP437)" if declared else "anger ingen teckenkodning (#FORMAT)"
    return text, f"Filen {said} men är skriven i {actual}; den har lästs som {actual}."


class _Unclosed(ValueError):
    """A quote or an object list that does not close on its line."""

    def __init__(self, what: str, column: str) -> None:
        super().__init__(what)
        self.column = column


def _tokens(line: str) -> tuple[list[str], bool]:
    """A SIE line's fields: quoted strings unquoted (``\\"`` → ``"``), an object list kept whole as ``{…}``; and
    whether a quote did not close — its text then runs to the end of the line."""
    fields = []
    for found in _FIELD.finditer(line):
        token = found.group()
        if token.startswith('"'):
            if not _QUOTED.fullmatch(token):
                fields.append(_ESCAPE.sub(r"\1", line[found.start() + 1:]).strip())
                return fields, True
            fields.append(_ESCAPE.sub(r"\1", token[1:-1]))
        elif token.startswith("{") and not token.endswith("}"):
            raise _Unclosed("objektlistan stängs inte med }", "objekt")
        else:
            fields.append(token)
    return fields, False


def _date(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%Y%m%d").date()  # a calendar date, no time of day


@dataclass
class _Voucher:
    series: str
    number: str
    date: dt.date | None
    text: str

    @property
    def id(self) -> str:
        """The voucher as stored with its rows: series and number apart (``"1 11"`` is not ``"11 1"``)."""
        return f"{self.series} {self.number}".strip()

    @property
    def name(self) -> str:
        """The voucher as a message names it: ``serie 1 nr 11``."""
        return f"serie {self.series or '(tom)'} nr {self.number or '(tomt)'}"


@dataclass
class _Reader:
    """One pass over a SIE file's lines: the dimensions mapped so far, the open voucher, the rows read, each
    voucher's sum, the problems found and the warnings of a tolerant read."""

    filename: str
    dims: dict[int, str] = field(default_factory=lambda: dict(STANDARD_DIMENSIONS))
    rows: list[dict[str, object]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unclosed: list[int] = field(default_factory=list)   # lines whose quote was read to the end of the line
    voucher: _Voucher | None = None
    open_at: int = 0                     # the line of an open voucher block "{"
    sums: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    first_line: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)  # vouchers with an unreadable row: their balance is not checked

    def bad(self, line_no: int, message: str, column: str | None = None, value: object = None) -> None:
        self.problems.append(Problem(message, file=self.filename, row=line_no, column=column, value=value))

    def line(self, line_no: int, line: str) -> None:
        """Read one line (stripped): a block brace, or a labelled record."""
        if not line.startswith("#"):
            if line == "}":
                self.voucher, self.open_at = None, 0
            elif line == "{":
                self.open_at = line_no
            return
        try:
            fields, unclosed = _tokens(line)
        except _Unclosed as exc:
            self.bad(line_no, f"raden kan inte läsas: {exc}", exc.column, line[:60])
            if self.voucher is not None:
                self.broken.add(self.voucher.id)
            return
        if unclosed:
            self.unclosed.append(line_no)
        label = fields[0].upper()
        if label == "#DIM" and len(fields) >= 3 and fields[1].isdigit():
            self.dim(int(fields[1]), fields[2])
        elif label == "#VER":
            self.ver(line_no, line, fields)
        elif label == "#TRANS":
            self.trans(line_no, line, fields)

    def dim(self, number: int, name: str) -> None:
        """``#DIM nr "namn"``: a dimension named like a project, cost centre… carries that column."""
        column = next((col for word, col in DIMENSION_NAMES if word in name.casefold()), None)
        if column:
            self.dims = {k: v for k, v in self.dims.items() if v != column}
            self.dims[number] = column

    def ver(self, line_no: int, line: str, fields: list[str]) -> None:
        """``#VER serie nr datum ["text"]``: opens a voucher."""
        if len(fields) < 4:
            self.bad(line_no, "verifikationen saknar serie, nummer eller datum", value=line[:60])
            self.voucher = _Voucher("", f"(rad {line_no})", None, "")
            return
        try:
            day: dt.date | None = _date(fields[3])
        except ValueError:
            self.bad(line_no, "verifikationsdatumet kan inte läsas", "verdatum", fields[3])
            day = None
        self.voucher = _Voucher(fields[1], fields[2], day, fields[4] if len(fields) > 4 else "")
        self.first_line.setdefault(self.voucher.id, line_no)
        self.names.setdefault(self.voucher.id, self.voucher.name)

    def trans(self, line_no: int, line: str, fields: list[str]) -> None:
        """``#TRANS konto {objektlista} belopp [transdat] ["transtext"]``: a row of the open voucher."""
        voucher = self.voucher
        if voucher is None:
            self.bad(line_no, "#TRANS utanför en verifikation (#VER { … })", value=line[:60])
            return
        if len(fields) < 4 or not fields[2].startswith("{"):
            self.bad(line_no, "raden ska vara #TRANS konto {objekt} belopp", value=line[:60])
            return
        if not _AMOUNT.match(fields[3]):
            self.bad(line_no, "beloppet kan inte läsas", "belopp", fields[3])
            self.broken.add(voucher.id)
            return
        day = self.trans_day(line_no, fields, voucher)
        objects = self.objects(line_no, fields[2])
        if day is None or objects is None:
            self.broken.add(voucher.id)
            return  # reported with the voucher or the row
        amount = Decimal(fields[3])
        row: dict[str, object] = {
            "excel_row": line_no, "booking_date": day, "period": day.strftime("%Y-%m"), "account": fields[1],
            "voucher": voucher.id, "amount_ore": int(amount * 100),
            "text": (fields[5] if len(fields) > 5 and fields[5] else voucher.text).strip(),
            "dimensions": {dim: obj for dim, obj in objects}}
        for dim, obj in objects:
            if int(dim) in self.dims:
                row[self.dims[int(dim)]] = obj
        self.rows.append(row)
        self.sums[voucher.id] += amount

    def objects(self, line_no: int, written: str) -> list[tuple[str, str]] | None:
        """A row's object list ``{1 "0410" 6 "7301"}`` as (dimension number, object) pairs; None (reported)
        when it cannot be read."""
        try:
            objects, unclosed = _tokens(written[1:-1])
        except _Unclosed:
            objects, unclosed = [], True
        if unclosed or len(objects) % 2 or not all(d.isdigit() for d in objects[::2]):
            self.bad(line_no, "objektlistan ska bestå av par: dimension och objekt", "objekt", written)
            return None
        return [(str(int(d)), o) for d, o in zip(objects[::2], objects[1::2], strict=True)]

    def trans_day(self, line_no: int, fields: list[str], voucher: _Voucher) -> dt.date | None:
        """The row's own date (transdat) if it has one, else the voucher's; None when unreadable."""
        if len(fields) > 4 and fields[4]:
            try:
                return _date(fields[4])
            except ValueError:
                self.bad(line_no, "transaktionsdatumet kan inte läsas", "transdat", fields[4])
                return None
        return voucher.date

    def unbalanced(self) -> list[Problem]:
        """Every readable voucher whose rows do not sum to zero."""
        return [Problem(f"verifikationen {self.names.get(vid, vid)} balanserar inte: summa "
                        f"{str(total).replace('.', ',')} kr", file=self.filename, row=self.first_line.get(vid, 0),
                        column="belopp")
                for vid, total in self.sums.items() if total != 0 and vid not in self.broken]

    def finish(self) -> None:
        """The checks of the whole file: every block closed; the tolerant reads said."""
        if self.open_at:
            self.bad(self.open_at, "verifikationens block { … } stängs aldrig med }")
        self.problems.sort(key=lambda p: p.row or 0)
        if self.unclosed:
            lines = ", ".join(map(str, self.unclosed[:20])) + (
                f" och {len(self.unclosed) - 20} till" if len(self.unclosed) > 20 else "")
            self.warnings.append(f"{_count(len(self.unclosed), 'rad', 'rader')} har ett citattecken som inte stängs "
                                 f"(rad {lines}); texten har lästs till radens slut.")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def read_sie(content: bytes, filename: str, *, accept_unbalanced: bool = False) -> Export:
    """Read the ``#TRANS`` rows of a SIE 4 file. Refuses with every unreadable line listed, and when a
    voucher does not balance unless ``accept_unbalanced`` (then each is a warning kept with the upload)."""
    if not looks_like_sie(content):
        raise SamordningError(f"Filen {filename} är inte en SIE-fil (den börjar inte med en SIE-post som #FLAGGA).",
                              [Problem("inte SIE", file=filename)])
    reader = _Reader(filename)
    text, encoding = _decode(content)
    reader.warnings += [encoding] if encoding else []
    for line_no, raw in enumerate(text.split("\n"), start=1):
        reader.line(line_no, raw.strip())
    reader.finish()
    unbalanced = reader.unbalanced()
    if reader.problems or (unbalanced and not accept_unbalanced):
        _refuse(filename, reader.problems, unbalanced)
    if not reader.rows:
        raise SamordningError(f"Filen {filename} innehåller inga transaktioner (#TRANS): inga rader att läsa.",
                              [Problem("inga #TRANS-rader", file=filename)])
    reader.warnings += [f"V{p.message[1:]} (rad {p.row}); filen lästes ändå, godkänt vid inläsningen."
                        for p in unbalanced]
    export = _export(filename, reader.rows, reader.dims)
    export.warnings = reader.warnings
    return export


def _refuse(filename: str, problems: list[Problem], unbalanced: list[Problem]) -> None:
    """The refusal of a SIE file: the lines that cannot be read, and the vouchers that do not balance."""
    parts = [f"{_count(len(problems), 'rad', 'rader')} som inte kan läsas"] if problems else []
    if unbalanced:
        parts.append(f"{_count(len(unbalanced), 'verifikation', 'verifikationer')} som inte balanserar")
    advice = (" Stämmer exporten ändå kan filen läsas in med --accept-unbalanced (i uppladdningen: Läs in trots "
              "obalans); varningen sparas då med uppladdningen." if unbalanced and not problems else "")
    every = sorted(problems + unbalanced, key=lambda p: p.row or 0)
    raise SamordningError(f"SIE-filen {filename} har {' och '.join(parts)}; inget har sparats.{advice}",
                          every[:MAX_PROBLEMS], remedy="accept_unbalanced" if advice else None)


def _export(filename: str, rows: list[dict[str, object]], dims: dict[int, str]) -> Export:
    """The rows read, in the canonical columns (a dimension no row uses is an empty column)."""
    frame = pd.DataFrame(rows)
    frame["dimensions"] = [r["dimensions"] or None for r in rows]
    for column in ("cost_centre", "activity", "project", "counterpart"):
        frame[column] = frame[column].fillna("").astype(object) if column in frame else ""
    frame["sheet"] = SHEET
    frame["row_kind"] = np.array(["data"] * len(frame), dtype=object)
    frame["amount_ore"] = frame["amount_ore"].astype("int64")
    present = {name: "SIE #TRANS" for name in ("booking_date", "account", "voucher", "text", "amount",
                                               *[c for c in dims.values() if (frame[c] != "").any()])}
    return Export(filename, SHEET, 0, present, frame[list(COLUMNS)], kind="SIE")
