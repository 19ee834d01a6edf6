"""Reading exports and looking at what was read: ``demo``, ``import``, ``history``, ``rows``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from samordning.cli.common import agreement_of, area, kronor, print_json, quarter, store_of
from samordning.errors import SamordningError
from samordning.vocabulary import CANONICAL_SV, REASONS

USER_HELP = "vem som laddar upp (annars inloggad användare)"


def import_options(args: argparse.Namespace) -> dict[str, object]:
    """The options of ``import`` as keyword arguments of :func:`samordning.imports.import_export`; a bad one
    is refused before any file is read."""
    from samordning.ingest import file_period

    options: dict[str, object] = {}
    if getattr(args, "sheet", None):
        options["sheet"] = args.sheet
    if getattr(args, "header_row", None) is not None:
        if args.header_row < 1:
            raise SamordningError(f"Rubrikraden ska vara ett radnummer i Excel, 1 eller större "
                                  f"(inte {args.header_row}).")
        options["header_row"] = args.header_row
    if getattr(args, "period", None):
        options["period"] = file_period(args.period)  # a quarter or a typo: refused before any file is read
    if getattr(args, "accept_unbalanced", False):
        options["accept_unbalanced"] = True
    if getattr(args, "column", None):
        columns = {}
        for item in args.column:
            key, sep, header = item.partition("=")
            if not sep or not header.strip():
                raise SamordningError(f"Ange kolumnkopplingen som FÄLT=RUBRIK, till exempel belopp=Utfall "
                                      f"(inte {item!r}).")
            columns[key.strip()] = header.strip()
        options["columns"] = columns
    return options


def cmd_import(args: argparse.Namespace, paths: Sequence[str] | None = None) -> int:
    from samordning import rules
    from samordning.imports import import_export
    from samordning.ingest import read_regular_file

    agreement = agreement_of(args)
    if getattr(args, "user", None) is not None:
        rules.user(args.user)  # a bad name is bad input (exit 2), not a refused file
    store = store_of(args)
    failed = 0
    options = import_options(args)
    for name in paths or args.files:
        path = Path(name)
        try:  # only a regular file, read with a bound: never a FIFO, a device or more than the size limit
            content = read_regular_file(path)
            result = import_export(store, agreement, path.name, content, user=args.user, **options)
        except SamordningError as exc:
            print(f"Avvisad: {exc.describe()}", file=sys.stderr)
            failed += 1
            continue
        print(result.summary())
    return 1 if failed else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from samordning.agreement import ROOT
    from samordning.store import resolve_url

    folder = ROOT / "data" / "exempel"
    files = sorted(folder.glob("*.xlsx"))
    if not files:
        raise SamordningError(f"Hittar inga exempelfiler i {folder}.")
    code = cmd_import(args, [str(f) for f in files])
    print(f"Demodata finns i {resolve_url(args.db)}.")
    return code


def cmd_history(args: argparse.Namespace) -> int:
    from samordning.localtime import local_iso
    from samordning.names import shown

    frame = store_of(args).uploads(agreement_of(args).id)
    records = [{
        "id": int(u.id), "sha256": u.sha256, "filename": u.filename, "user": u.uploaded_by,
        "uploaded_at": local_iso(u.uploaded_at), "sheet": u.sheet, "size_bytes": int(u.size_bytes),
        "periods": u.periods, "active_periods": u.active_periods, "status": u.status,
        "rows_read": u.summary.get("rows_read"), "rows_counted": u.summary.get("rows_counted"),
        "amount_counted": kronor(u.summary.get("amount_counted_ore", 0)),
        "left_out": {k: {"rows": v["rows"], "amount": kronor(v["amount_ore"])}
                     for k, v in u.summary.get("left_out", {}).items()},
        "period_given": u.summary.get("period_given"), "warnings": u.summary.get("warnings", []),
    } for u in frame.itertuples()]
    if args.json:
        print_json(records)
        return 0
    if not records:
        print("Inga uppladdningar ännu.")
    for r in records:
        given = " (angiven för hela filen)" if r["period_given"] else ""
        when = r["uploaded_at"][:16].replace("T", " ")
        print(f"{r['id']:>4}  {when}  {r['user']:<12} {shown(r['filename'])}  [{r['status']}]  "
              f"{', '.join(r['periods'])}{given}  {r['rows_read']} rader  sha256 {r['sha256'][:12]}…")
        for warning in r["warnings"]:
            print(f"      varning: {warning}")
    return 0


def cmd_rows(args: argparse.Namespace) -> int:
    """The rows behind a figure, streamed from the database a chunk at a time (as JSON: a valid array written
    as the rows come, ``null`` for what is missing)."""
    from samordning.queries import RowFilter, stream_rows

    agreement = agreement_of(args)
    store = store_of(args)
    reason = {"all": None, "counted": ""}.get(args.reason, args.reason)
    where = RowFilter(upload_id=args.upload, quarter=quarter(agreement, args.quarter),
                      area=area(agreement, args.area), reason=reason)
    rows = (r for chunk in stream_rows(store.engine, agreement, where) for r in chunk)
    records = ({
        "upload_id": r.upload_id, "file": r.filename, "sheet": r.sheet, "row": r.excel_row,
        "date": None if r.booking_date is None else r.booking_date.isoformat()[:10],
        "period": r.period, "account": r.account, "cost_centre": r.cost_centre, "project": r.project,
        "voucher": r.voucher, "text": r.text, "amount": kronor(r.amount_ore), "quarter": r.quarter,
        "area": r.area, "reason": r.reason or None, "in_force": r.in_force,
    } for r in rows)
    if args.json:
        first = True
        for item in _json_items(records):
            sys.stdout.write(("[\n  " if first else ",\n  ") + item)
            first = False
        sys.stdout.write("[]\n" if first else "\n]\n")
        return 0
    _print_rows(records)
    return 0


def _json_items(records: Iterable[dict]) -> Iterator[str]:
    """Each record as ``json.dumps(record, ensure_ascii=False, indent=2, allow_nan=False)`` writes it, indented once
    more (an item of the array): the same text, each value encoded by json's own C functions (``indent`` sends
    all of ``dumps`` through its pure-Python encoder, which took two thirds of ``rows --json``'s time)."""
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    string = json.encoder.encode_basestring  # what ``encode`` gives a str (ensure_ascii=False), without its checks

    def value(v: object) -> str:
        kind = type(v)
        if kind is str:
            return string(v)
        if v is None:
            return "null"
        if kind is int:
            return int.__repr__(v)  # type: ignore[arg-type]
        return encode(v)  # floats (NaN refused), booleans

    for record in records:
        yield "{\n" + ",\n".join(f"    {string(key)}: {value(v)}" for key, v in record.items()) + "\n  }"


def _print_rows(records: Iterable[dict]) -> None:
    from samordning.money import format_kr
    from samordning.names import shown

    count = total = 0
    for r in records:
        why = f"  [{REASONS[r['reason']]}]" if r["reason"] else ""
        ore = round(r["amount"] * 100)
        print(f"{shown(r['file'])}:{r['row']:<5} {r['date'] or r['period'] or '':<10} {r['account']:<6} "
              f"{r['project']:<6} {format_kr(ore, ore_precision=True):>18}  {r['text']}{why}")
        count, total = count + 1, total + ore
    print(f"{count} rader, summa {format_kr(total, ore_precision=True)}")


# -- the parsers --------------------------------------------------------------------------------------------

def add_demo(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("demo", parents=[common], help="läs in exempelexporterna i databasen")
    p.add_argument("--user", help=USER_HELP)
    p.set_defaults(func=cmd_demo)


def add_import(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("import", parents=[common],
                       help="läs in exporter från ekonomisystemet (Excel, CSV eller SIE 4)")
    p.add_argument("files", nargs="+", metavar="FIL")
    p.add_argument("--sheet", metavar="BLAD", help="bladet att läsa (annars bladet med den största tabellen)")
    p.add_argument("--column", action="append", metavar="FÄLT=RUBRIK",
                   help="koppla en kolumn för hand när den inte känns igen; FÄLT är något av "
                        + ", ".join(CANONICAL_SV) + ". Kopplingen sparas för filer med samma rubriker.")
    p.add_argument("--header-row", type=int, metavar="RAD", help="rubrikradens radnummer i Excel")
    p.add_argument("--period", metavar="ÅÅÅÅ-MM",
                   help="månaden för alla rader i en fil utan datum- eller periodkolumn (ett kvartal avvisas)")
    p.add_argument("--accept-unbalanced", action="store_true",
                   help="läs in en SIE-fil trots verifikationer som inte balanserar; varningen sparas")
    p.add_argument("--user", help=USER_HELP)
    p.set_defaults(func=cmd_import)


def add_history(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("history", parents=[common], help="uppladdningarnas historik (med sha256)")
    p.add_argument("--json", action="store_true", help="skriv JSON")
    p.set_defaults(func=cmd_history)


def add_rows(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("rows", parents=[common], help="raderna bakom en siffra, med källfil och rad")
    p.add_argument("--upload", type=int, help="bara en uppladdning (också ersatta rader)")
    p.add_argument("--quarter", help="kvartal, t.ex. 2023Q2")
    p.add_argument("--area", help="område (nyckel eller namn)")
    p.add_argument("--reason", default="all", choices=["all", "counted", *REASONS],
                   help="counted = räknas som utfall; annars skälet att raden utelämnats")
    p.add_argument("--json", action="store_true", help="skriv JSON")
    p.set_defaults(func=cmd_rows)
