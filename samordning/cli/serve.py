"""``serve``: the dashboard in the browser, Voilà as a child process with its settings chosen here."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from samordning.cli.common import positive_int
from samordning.errors import SamordningError

if TYPE_CHECKING:
    from samordning.ui import Role


def _notebooks() -> Path:
    from samordning.agreement import ROOT

    return ROOT / "notebooks"


def voila_command(notebook: Path, port: int, ip: str = "127.0.0.1", base_url: str | None = None,
                  config_dir: Path | None = None, *, max_viewers: int | None = None) -> list[str]:
    """Voilà serving ``notebook`` with the settings in ``notebooks/voila.json`` (the benchmark serves its empty
    notebook through this too, so both are served the same way), or in ``config_dir``'s ``voila.json``
    (:func:`samordning.login.voila_config`, which adds the authentication). Voilà runs as
    ``samordning.ui.server`` (kernels that end with their page, the cap on page kernels)."""
    config_dir = config_dir or _notebooks()
    command = [sys.executable, "-m", "samordning.ui.server", str(notebook), f"--Voila.config_file_paths={config_dir}",
               f"--port={port}", f"--Voila.ip={ip}", "--no-browser"]
    if base_url:
        command.append(f"--Voila.base_url={base_url}")
    if max_viewers is not None:
        command.append(f"--PageKernelManager.max_viewers={max_viewers}")
    return command


def _agreement(args: argparse.Namespace) -> tuple[str, str]:
    """What the dashboard opens first, checked here so that a malformed file or an unknown id is refused here, not
    in the browser: an agreement file named by ``--agreement`` (adopted by the store: the dashboard shows its
    version in force), else an agreement's id in the store (``--agreement ID``, else the first of
    ``--agreements``, else the only one or the first stored). Returns it and ``--agreements`` checked ("" if none)."""
    from samordning.agreement import AGREEMENT_ENV
    from samordning.agreements import adopt, agreement_ids, check_shown, resolve, shown_ids
    from samordning.store import Store

    store = Store.open(args.db)
    only = check_shown(store, shown_ids(args.agreements) or []) or None
    choice = args.agreement or os.environ.get(AGREEMENT_ENV)
    if choice and Path(choice).is_file():
        chosen = adopt(store, choice)
        shown = str(Path(choice).resolve())
    else:
        ids = only or agreement_ids(store)
        chosen = resolve(store, choice or (ids[0] if ids else None))
        shown = chosen.agreement_id
    if only is not None and chosen.agreement_id not in only:
        raise SamordningError(f"Avtalet {chosen.agreement_id} är inte med i --agreements ({', '.join(only)}).")
    return shown, ",".join(only or [])


def _environment(args: argparse.Namespace, agreement: str, only: str) -> dict[str, str]:
    """The child's environment: the database, the agreement (a file or an id), the agreements the view may show,
    and the role; never a secret (Voilà reads those from its config file). The schema is created or upgraded before
    any kernel starts."""
    from samordning.agreement import AGREEMENT_ENV
    from samordning.agreements import SHOWN_ENV
    from samordning.store import DB_ENV, Store, resolve_url
    from samordning.ui import ROLE_ENV, USER_ENV  # not the dashboard: it imports plotly and pandas

    env = dict(os.environ, **{DB_ENV: resolve_url(args.db), AGREEMENT_ENV: agreement, SHOWN_ENV: only,
                              ROLE_ENV: _role(args).value})
    for secret in ("SAMORDNING_TOKEN", "SAMORDNING_PASSWORD_HASH", USER_ENV):
        env.pop(secret, None)
    Store.open(env[DB_ENV])
    return env


def _role(args: argparse.Namespace) -> Role:
    from samordning.ui import Role

    return Role.CONTROLLER if args.controller else Role.INSIGHT if args.insight else Role.COUNCIL


def _run(command: list[str], env: dict[str, str], config_dir: Path) -> int:
    """Voilà as a child: a service manager's SIGTERM to this process is passed on, so Voilà shuts its
    kernels down instead of living on as an orphan; Ctrl+C reaches both (one process group)."""
    import shutil
    import signal
    import subprocess

    proc = subprocess.Popen(command, env=env)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: proc.terminate())
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                continue  # Voilà got the same Ctrl+C and is shutting down: wait for it
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def named_login(args: argparse.Namespace) -> tuple[Path | None, str | None]:
    """``--users FILE`` and ``--user-header H`` (for any view that asks for a login): the users file, checked
    to be private, and the header, only on a loopback address (the proxy in front must be the only client)."""
    from samordning.cli.users import users_file
    from samordning.users import check_private

    # $SAMORDNING_USERS counts for the views that always need a login (the council's is open unless asked).
    needs_login = args.controller or getattr(args, "insight", False)
    users = users_file(args.users) if args.users or needs_login else None
    header = (args.user_header or "").strip() or None
    if (users or header) and (args.token or args.password_hash):
        raise SamordningError("Inloggning med namn (--users, --user-header) ersätter --token och --password-hash; "
                              "ange bara det ena.")
    if users:
        check_private(users)
    if header and args.ip not in LOOPBACK:
        raise SamordningError(f"--user-header litar på huvudet {header} som det kommer och kräver därför --ip "
                              f"127.0.0.1 bakom en omvänd proxy som sätter huvudet och tar bort det från klienter.")
    return users, header


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the dashboard with Voilà. Static settings live in ``notebooks/voila.json``; the role, the address
    and the authentication are chosen here."""
    import secrets
    import threading
    import webbrowser

    from samordning import rules
    from samordning.login import voila_config
    from samordning.serving import check_port
    from samordning.ui import Role

    rules.port(args.port)
    check_port(args.ip, args.port)
    agreement, only = _agreement(args)
    notebook = _notebooks() / "dashboard.ipynb"
    if not notebook.is_file():
        raise SamordningError(f"Hittar inte instrumentpanelen {notebook}.")
    users, header = named_login(args)
    env = _environment(args, agreement, only)
    shown = opened = f"http://{args.ip}:{args.port}{args.base_url or '/'}"
    # Authentication is Jupyter's own: a token or a hashed password. The views with rows (controllers', insight)
    # always have one (a token is made up when none is given); the council's view has one when asked for.
    role = _role(args)
    named = bool(users or header)  # people log in by name: no shared secret then
    password_hash = args.password_hash or (os.environ.get("SAMORDNING_PASSWORD_HASH")
                                           if role.sees_rows and not named else None)
    token = args.token or (os.environ.get("SAMORDNING_TOKEN") or secrets.token_urlsafe(24)
                           if role.sees_rows and not named else None)
    view = {Role.CONTROLLER: "Controllervyn", Role.INSIGHT: "Insynsvyn"}.get(role, "Samverkansrådets vy")
    config_dir = voila_config(_notebooks() / "voila.json", token, password_hash, users_file=users,
                              user_header=header)
    command = voila_command(notebook, args.port, args.ip, args.base_url, config_dir, max_viewers=args.max_viewers)
    if named:
        how = " eller ".join(([f"namn och lösenord ur {users}"] if users else [])
                             + ([f"namnet i huvudet {header} från den omvända proxyn"] if header else []))
        print(f"{view} startar på {shown} (inloggning med {how}).", flush=True)
    elif password_hash:
        print(f"{view} startar på {shown} (inloggning med lösenord).", flush=True)
    elif token:
        opened = f"{shown}?token={token}"
        print(f"{view} startar på {opened}", flush=True)
    else:
        print(f"{view} startar på {shown}", flush=True)
    print("Avsluta med Ctrl+C.", flush=True)
    if not args.no_browser:
        threading.Timer(3.0, webbrowser.open, [opened]).start()
    return _run(command, env, config_dir)


def add_serve(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="visa instrumentpanelen i webbläsaren (Voilà)")
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--ip", default="127.0.0.1", help="adress att lyssna på (bakom en omvänd proxy: 127.0.0.1)")
    p.add_argument("--base-url", help="sökvägsprefix bakom en omvänd proxy, t.ex. /samordning/")
    views = p.add_mutually_exclusive_group()
    views.add_argument("--controller", action="store_true",
                       help="controllervyn (uppladdning, kommentarer, betalningar); kräver token eller lösenord")
    views.add_argument("--insight", action="store_true",
                       help="insynsvyn för beställarens ekonom (§8): raderna bakom siffrorna, utan att kunna ändra "
                            "något; kräver token eller lösenord")
    p.add_argument("--token", help="kräv denna token (controller- och insynsvyn: annars $SAMORDNING_TOKEN, annars "
                                   "slumpas en)")
    p.add_argument("--password-hash", help="kräv lösenord: hash från jupyter_server.auth.passwd() i stället för "
                                            "token (controller- och insynsvyn: annars $SAMORDNING_PASSWORD_HASH)")
    p.add_argument("--users", metavar="FIL", help="inloggning med namn och lösenord ur användarfilen (samordning "
                                                  "users add); annars $SAMORDNING_USERS")
    p.add_argument("--user-header", metavar="HUVUD", help="inloggning genom en omvänd proxy som sätter det "
                                                         "inloggade namnet i detta huvud, t.ex. X-Remote-User")
    p.add_argument("--no-browser", action="store_true", help="öppna ingen webbläsare")
    p.add_argument("--agreements", metavar="ID,ID",
                   help="visa bara dessa avtal (id i databasen, kommaseparerade): väljaren, adressen och portföljen")
    p.add_argument("--max-viewers", type=positive_int, metavar="N",
                   help="högst N sidor (kärnor) samtidigt; fler får 'Många tittar just nu' (annars voila.json)")
    p.set_defaults(func=cmd_serve)
