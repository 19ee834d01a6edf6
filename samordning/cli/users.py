"""``users``: the users file of ``serve --users FILE`` — add a person (or set their new password), list,
remove. The password is asked for twice without echo (``getpass``) and only its hash is written."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from samordning.errors import SamordningError


def users_file(value: str | None) -> Path | None:
    """``--users FILE``, else ``$SAMORDNING_USERS``, else None."""
    from samordning.users import USERS_ENV

    chosen = value or os.environ.get(USERS_ENV)
    return Path(chosen).expanduser() if chosen else None


def _password(args: argparse.Namespace) -> str:
    """The new password: one line of stdin with ``--password-stdin``, else asked for twice."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    try:
        first = getpass.getpass(f"Lösenord för {args.name}: ")
        again = getpass.getpass("Samma lösenord igen: ")
    except (EOFError, KeyboardInterrupt) as exc:
        raise SamordningError("Inget lösenord angavs; användarfilen är oförändrad.") from exc
    if first != again:
        raise SamordningError("Lösenorden är inte lika; användarfilen är oförändrad.")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    from samordning.users import add_user, read_users, remove_user

    path = users_file(args.users)
    if path is None:
        raise SamordningError("Ange användarfilen med --users FIL (eller $SAMORDNING_USERS).")
    if args.action in ("add", "remove") and not args.name:
        raise SamordningError(f"Ange namnet: samordning users {args.action} NAMN.")
    if args.action == "add":
        name, new = add_user(path, args.name, _password(args))
        print(f"{name} {'kan nu logga in' if new else 'har fått ett nytt lösenord'} ({path}).")
    elif args.action == "remove":
        print(f"{remove_user(path, args.name)} är borttagen ur {path} och loggas ut vid nästa sidladdning "
              f"(en sida som redan är öppen fungerar tills den stängs eller laddas om).")
    else:
        names = sorted(read_users(path), key=str.casefold)
        for name in names:
            print(name)
        if not names:
            print(f"Inga användare i {path} (samordning users add NAMN).")
    return 0


def add_users(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("users", parents=[common], help="användarfilen för inloggning med namn (serve --users)")
    p.add_argument("action", choices=["add", "list", "remove"])
    p.add_argument("name", nargs="?", help="personens namn, som det sparas med varje ändring")
    p.add_argument("--users", metavar="FIL", help="användarfilen (annars $SAMORDNING_USERS)")
    p.add_argument("--password-stdin", action="store_true",
                   help="läs lösenordet från en rad på standard in i stället för att fråga två gånger")
    p.set_defaults(func=cmd_users)
