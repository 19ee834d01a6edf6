"""The ``samordning`` command: a thin layer over the core, one subcommand per core function.

Each subcommand is a ``cmd_*`` function and an ``add_*`` function that adds its parser, in the module of its
group (:mod:`.imports`, :mod:`.figures`, :mod:`.records`, :mod:`.agreements`, :mod:`.serve`); :data:`COMMANDS` lists the
``add_*`` functions in the order ``--help`` shows them, so adding a subcommand is a function in one module
plus one line there. Building the parser imports nothing heavy: pandas, SQLAlchemy, Alembic, the store and
the importer are imported inside the commands, so ``samordning --help`` and a refused argument start at once.

Errors reach the user as Swedish messages, never as tracebacks; an unexpected error is written to a
log file whose path the message names (``SAMORDNING_DEBUG=1`` prints it instead).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import traceback
from collections.abc import Sequence

from samordning import __version__
from samordning.cli import agreements, figures, imports, records, serve, users
from samordning.cli.serve import voila_command
from samordning.errors import SamordningError
from samordning.vocabulary import DB_ENV, default_db_path

__all__ = ["COMMANDS", "build_parser", "main", "voila_command"]

COMMANDS = (
    imports.add_demo,
    imports.add_import,
    figures.add_quarters,
    imports.add_history,
    imports.add_rows,
    records.add_revert,
    records.add_payment,
    records.add_withhold,
    records.add_comment,
    records.add_signoff,
    figures.add_reports,
    figures.add_report,
    figures.add_check,
    agreements.add_agreement,
    serve.add_serve,
    users.add_users,
)


# argparse's messages that a user meets, in Swedish (the rest are shown as argparse words them).
_SWEDISH = ((re.compile(r"argument (\S+): not allowed with argument (\S+)"), r"\1 och \2 går inte att ange samtidigt"),)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        for pattern, swedish in _SWEDISH:
            message = pattern.sub(swedish, message)
        self.print_usage(sys.stderr)
        self.exit(2, f"samordning: fel i kommandot: {message}\nSe 'samordning --help'.\n")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help=f"databas: sökväg till SQLite-fil eller SQLAlchemy-URL "
                                     f"(annars ${DB_ENV}, annars {default_db_path()})")
    common.add_argument("--agreement", help="avtals-id i databasen, eller en avtalsfil (läses in som ny version om "
                                            "texten är ny; annars det enda avtalet i databasen)")

    parser = _Parser(prog="samordning", description="Kvartalsvis ekonomisk uppföljning av samverkansavtal.")
    parser.add_argument("--version", action="version", version=f"samordning {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="KOMMANDO", parser_class=_Parser)
    for add in COMMANDS:
        add(sub, common)
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
    except BrokenPipeError:  # output piped into head and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:
        if os.environ.get("SAMORDNING_DEBUG"):
            raise
        log = default_db_path().parent / "fel.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        # Owner-only (the umask may make it stricter); SQL parameters are hidden by the engine, so the log
        # holds the error and where it happened, not ledger rows.
        with os.fdopen(os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a", encoding="utf-8") as fh:
            fh.write(f"{dt.datetime.now().isoformat(timespec='seconds')} samordning {__version__}\n"
                     + traceback.format_exc() + "\n")
        print(f"Ett oväntat fel inträffade. Detaljer finns i {log}. Kontakta den som förvaltar samordning.",
              file=sys.stderr)
        return 3
