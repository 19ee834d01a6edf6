"""Write the hostile files of issue 16 (items 7–10) into a folder: small files that would crash, exhaust or hang
an importer without limits. Nothing here is committed as data; the tests and ``bench/bench_hostile.py`` write
the files to a temporary folder when they run:

    python tests/data/make_hostile.py OUT_DIR

Each file holds a recognisable ledger header (Verifikationsdatum, Belopp) and one good row, so a file refused
is refused for its hostile part, not for lacking a table.
"""

from __future__ import annotations

import io
import os
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

HEADER_ROW = ('<row r="1"><c r="A1" t="inlineStr"><is><t>Verifikationsdatum</t></is></c>'
              '<c r="B1" t="inlineStr"><is><t>Konto</t></is></c><c r="C1" t="inlineStr"><is><t>Projekt</t></is></c>'
              '<c r="D1" t="inlineStr"><is><t>Belopp</t></is></c></row>'
              '<row r="2"><c r="A2"><v>44941</v></c><c r="B2" t="inlineStr"><is><t>5011</t></is></c>'
              '<c r="C2" t="inlineStr"><is><t>7301</t></is></c><c r="D2"><v>100</v></c></row>')


def workbook(sheets: list[str], *, shared_strings: str | None = None) -> bytes:
    """A minimal xlsx with the given worksheet XML bodies (``<sheetData>…</sheetData>`` and around)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                            for i in range(1, len(sheets) + 1))
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                   '2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                   'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.sheet.main+xml"/>' + overrides + "</Types>")
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        names = "".join(f'<sheet name="Blad{i}" sheetId="{i}" r:id="rId{i}"/>' for i in range(1, len(sheets) + 1))
        z.writestr("xl/workbook.xml",
                   '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
                   'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                   f'relationships"><sheets>{names}</sheets></workbook>')
        rels = "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                       f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
                       for i in range(1, len(sheets) + 1))
        if shared_strings is not None:
            rels += ('<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                     'relationships/sharedStrings" Target="sharedStrings.xml"/>')
            z.writestr("xl/sharedStrings.xml", shared_strings)
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   f'package/2006/relationships">{rels}</Relationships>')
        for i, body in enumerate(sheets, 1):
            z.writestr(f"xl/worksheets/sheet{i}.xml",
                       '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                       f'spreadsheetml/2006/main">{body}</worksheet>')
    return out.getvalue()


def corner(ref: str, *, declared: bool) -> bytes:
    """The good rows, and one number at ``ref`` (``XFD1048576``): the sheet's extent runs from A1 to there."""
    row = "".join(ch for ch in ref if ch.isdigit())
    dimension = f'<dimension ref="A1:{ref}"/>' if declared else ""
    return workbook([f'{dimension}<sheetData>{HEADER_ROW}<row r="{row}"><c r="{ref}"><v>1</v></c></row>'
                     "</sheetData>"])


def shared_count() -> bytes:
    """A sharedStrings part that declares four billion strings and holds one."""
    sst = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
           'main" count="4000000000" uniqueCount="4000000000"><si><t>Belopp</t></si></sst>')
    return workbook([f"<sheetData>{HEADER_ROW}</sheetData>"], shared_strings=sst)


def many_sheets(count: int = 55, size: int = 10 * 1024 * 1024) -> bytes:
    """A workbook of ``count`` sheets, each about ``size`` bytes of repeated rows packed about 400:1: no member
    is large, the whole unpacks to hundreds of MB."""
    repeat = '<row r="3"><c r="A3"><v>44941</v></c><c r="D3"><v>1</v></c></row>'
    body = f"<sheetData>{HEADER_ROW}" + repeat * (size // len(repeat)) + "</sheetData>"
    return workbook([body] * count)


def sie_vouchers(count: int = 1_000_000) -> bytes:
    """A SIE 4 file of ``count`` small vouchers of one zero row each (about 40 MB for a million)."""
    head = b'#FLAGGA 0\n#FORMAT PC8\n#SIETYP 4\n#FNAMN "Fientlig"\n'
    voucher = b'#VER A %d 20230115\n{\n#TRANS 5011 {} 0\n}\n'
    return head + b"".join(voucher % i for i in range(1, count + 1))


def one_line_csv(size: int = 40 * 1024 * 1024) -> bytes:
    """A CSV of one line: the header, then ``size`` bytes of separators and cells with no line break."""
    return b"Verifikationsdatum;Belopp;" + b"1;" * (size // 2)


FILES: dict[str, Callable[[], bytes]] = {
    "hörn_xfd1048576.xlsx": lambda: corner("XFD1048576", declared=False),
    "hörn_xfd1048576_deklarerad.xlsx": lambda: corner("XFD1048576", declared=True),
    "hörn_g1048576.xlsx": lambda: corner("G1048576", declared=False),
    "hörn_xfd3.xlsx": lambda: corner("XFD3", declared=False),
    "delade_strängar.xlsx": shared_count,
    "många_blad.xlsx": many_sheets,
    "miljon_verifikationer.se": sie_vouchers,
    "en_rad.csv": one_line_csv,
}


def write(folder: Path) -> dict[str, Path]:
    """Every hostile file, plus a symlink to /dev/zero and a FIFO, written into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, make in FILES.items():
        paths[name] = folder / name
        paths[name].write_bytes(make())
    paths["noll.xlsx"] = folder / "noll.xlsx"
    paths["noll.xlsx"].unlink(missing_ok=True)
    paths["noll.xlsx"].symlink_to("/dev/zero")
    paths["rör.csv"] = folder / "rör.csv"
    paths["rör.csv"].unlink(missing_ok=True)
    os.mkfifo(paths["rör.csv"])
    return paths


if __name__ == "__main__":
    for name, path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "hostile")).items():
        print(f"{name}: {path}")
