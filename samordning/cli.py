"""The ``samordning`` command: a thin layer over the core, one subcommand per core function.

Errors reach the user as Swedish messages, never as tracebacks; an unexpected error is written to a
log file whose path the message names (``SAMORDNING_DEBUG=1`` prints it instead).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from samordning import __version__
from samordning.agreement import AGREEMENT_ENV, ROOT, agreement_path, load_agreement, quarter_label, resolve_agreement
from samordning.check import check
from samordning.errors import SamordningError
from samordning.followup import quarterly
from samordning.imports import import_export, ledger
from samordning.money import format_kr
from samordning.store import DB_ENV, Store, default_db_path, resolve_url


def kronor(ore: int) -> float:
    """Öre as a JSON number of kronor. A float's shortest repr of ``ore / 100`` is the exact two-decimal
    amount for any sum a ledger holds (below 2**53 öre), so the JSON text is exact to the öre."""
    return ore / 100


# -- subcommands ---------------------------------------------------------------------------------

def cmd_import(args: argparse.Namespace, paths: Sequence[str] | None = None) -> int:
    agreement = resolve_agreement(args.agreement)
    store = Store.open(args.db)
    failed = 0
    for name in paths or args.files:
        path = Path(name)
        try:
            content = path.read_bytes()
        except OSError as exc:
            print(f"{path}: filen kan inte läsas ({exc.strerror}).", file=sys.stderr)
            failed += 1
            continue
        try:
            result = import_export(store, agreement, path.name, content, user=args.user)
        except SamordningError as exc:
            print(f"Avvisad: {exc.describe()}", file=sys.stderr)
            failed += 1
            continue
        print(result.summary())
    return 1 if failed else 0


def cmd_demo(args: argparse.Namespace) -> int:
    folder = ROOT / "data" / "exempel"
    files = sorted(folder.glob("*.xlsx"))
    if not files:
        raise SamordningError(f"Hittar inga exempelfiler i {folder}.")
    code = cmd_import(args, [str(f) for f in files])
    print(f"Demodata finns i {resolve_url(args.db)}.")
    return code


def cmd_quarters(args: argparse.Namespace) -> int:
    agreement = resolve_agreement(args.agreement)
    table = quarterly(agreement, ledger(Store.open(args.db), agreement), by_area=args.by_area)
    if args.json:
        records = []
        for row in table.itertuples():
            record: dict[str, object] = {"quarter": row.quarter}
            if args.by_area:
                record["area"] = agreement.area(row.area).name
            record.update(advance=kronor(row.advance_ore), actual=kronor(row.actual_ore),
                          variance=kronor(row.variance_ore), balance=kronor(row.balance_ore),
                          utilisation=None if pd.isna(row.utilisation) else round(row.utilisation, 4))
            records.append(record)
        print(json.dumps(records, ensure_ascii=False, indent=2))
        return 0
    for row in table.itertuples():
        area = f" {agreement.area(row.area).name}" if args.by_area else ""
        print(f"{quarter_label(row.quarter)}{area}: förskott {format_kr(row.advance_ore)}, "
              f"utfall {format_kr(row.actual_ore)}, avvikelse {format_kr(row.variance_ore)}, "
              f"kvarstående {format_kr(row.balance_ore)}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    agreement = resolve_agreement(args.agreement)
    findings = check(agreement)
    if args.json:
        print(json.dumps([{"rule": f.rule, "clause": f.clause, "title": f.title, "detail": f.detail,
                           "amount": None if f.amount_ore is None else kronor(f.amount_ore)} for f in findings],
                         ensure_ascii=False, indent=2))
        return 0
    print(f"Avtal {agreement.id}: {len(findings)} iakttagelser")
    for f in findings:
        print(f"\n[{f.clause}] {f.title}\n    {f.detail}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    path = agreement_path(args.agreement)
    load_agreement(path)  # refuse a malformed file here, not in the browser
    notebook = ROOT / "notebooks" / "dashboard.ipynb"
    if not notebook.is_file():
        raise SamordningError(f"Hittar inte instrumentpanelen {notebook}.")
    env = dict(os.environ, **{DB_ENV: resolve_url(args.db), AGREEMENT_ENV: str(path)})
    Store.open(env[DB_ENV])  # create or upgrade the schema before any kernel starts
    command = [
        sys.executable, "-m", "voila", str(notebook),
        f"--port={args.port}", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
        "--no-browser" if args.no_browser else "--Voila.open_browser=True",
        "--VoilaConfiguration.show_tracebacks=False",
        "--MappingKernelManager.cull_idle_timeout=3600", "--MappingKernelManager.cull_interval=300",
        "--Voila.token=",
        "--theme=light",
    ]
    print(f"Instrumentpanelen startar på http://127.0.0.1:{args.port}/ (avsluta med Ctrl+C).", flush=True)
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0


# -- the parser and the entry point ----------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"samordning: fel i kommandot: {message}\nSe 'samordning --help'.\n")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help=f"databas: sökväg till SQLite-fil eller SQLAlchemy-URL "
                                     f"(annars ${DB_ENV}, annars {default_db_path()})")
    common.add_argument("--agreement", help="avtalsfil eller avtals-id (annars det enda avtalet i data/avtal)")

    parser = _Parser(prog="samordning", description="Kvartalsvis ekonomisk uppföljning av samverkansavtal.")
    parser.add_argument("--version", action="version", version=f"samordning {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="KOMMANDO", parser_class=_Parser)

    p = sub.add_parser("demo", parents=[common], help="läs in exempelexporterna i databasen")
    p.add_argument("--user", help="vem som laddar upp (annars inloggad användare)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", parents=[common], help="läs in exporter (Excel) från ekonomisystemet")
    p.add_argument("files", nargs="+", metavar="FIL")
    p.add_argument("--user", help="vem som laddar upp (annars inloggad användare)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("quarters", parents=[common], help="förskott, utfall och avvikelse per kvartal")
    p.add_argument("--by-area", action="store_true", help="per kvartal och område")
    p.add_argument("--json", action="store_true", help="skriv JSON (belopp i kronor)")
    p.set_defaults(func=cmd_quarters)

    p = sub.add_parser("check", parents=[common], help="avtalets egna motsägelser och luckor")
    p.add_argument("--json", action="store_true", help="skriv JSON")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("serve", parents=[common], help="visa instrumentpanelen i webbläsaren (Voilà)")
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--no-browser", action="store_true", help="öppna ingen webbläsare")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SamordningError as exc:
        print(exc.describe(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception:
        if os.environ.get("SAMORDNING_DEBUG"):
            raise
        log = default_db_path().parent / "fel.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as fh:
            fh.write(traceback.format_exc() + "\n")
        print(f"Ett oväntat fel inträffade. Detaljer finns i {log}. Kontakta den som förvaltar samordning.",
              file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
