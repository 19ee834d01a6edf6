"""The users file of ``samordning serve --users FILE``: the people who may log in, each by name with a hashed
password, so that every stored change carries the name of the person who made it.

The file is JSON, ``{"users": {"Anna Berg": "argon2:$argon2id$…"}}``, written by ``samordning users add``
(0600, replaced atomically, never holding a password in clear). The hashes are jupyter_server's own
(:func:`jupyter_server.auth.passwd`, argon2); nothing here is hand-written cryptography. A name is matched
without regard to case at login and recorded as the file spells it.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import unicodedata
from pathlib import Path

from samordning import rules
from samordning.errors import SamordningError

USERS_ENV = "SAMORDNING_USERS"
MIN_PASSWORD = 10
# Checked when a name is not in the file, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH: list[str] = []


def valid_name(name: str) -> str:
    """A login name as recorded: stripped, 1–128 characters, no control or format characters."""
    name = " ".join((name or "").split())
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        raise SamordningError("Namnet får inte innehålla styrtecken.")
    return rules.user(name)


def read_users(path: Path) -> dict[str, str]:
    """Name → password hash (an empty dict when the file does not exist)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SamordningError(f"Användarfilen {path} går inte att läsa: {exc}.") from exc
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in users.items()):
        raise SamordningError(f"Användarfilen {path} har fel form: väntade {{\"users\": {{namn: hash}}}}.")
    return users


def write_users(path: Path, users: dict[str, str]) -> None:
    """Write the file readable by its owner only (0600), replacing the old one in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".users-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"users": dict(sorted(users.items(), key=lambda kv: kv[0].casefold()))}, fh,
                      ensure_ascii=False, indent=1)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def find(users: dict[str, str], name: str) -> str | None:
    """The name as the file spells it, matched without regard to case or surrounding spaces."""
    wanted = " ".join((name or "").split()).casefold()
    return next((known for known in users if known.casefold() == wanted), None)


def add_user(path: Path, name: str, password: str) -> tuple[str, bool]:
    """Add a user or set a known user's new password; (the name as stored, whether it was new)."""
    from jupyter_server.auth import passwd

    name = valid_name(name)
    if len(password) < MIN_PASSWORD:
        raise SamordningError(f"Lösenordet är för kort: minst {MIN_PASSWORD} tecken.")
    users = read_users(path)
    known = find(users, name)
    users[known or name] = passwd(password)
    write_users(path, users)
    return known or name, known is None


def remove_user(path: Path, name: str) -> str:
    users = read_users(path)
    known = find(users, name)
    if known is None:
        raise SamordningError(f"{name!r} finns inte i användarfilen {path}.")
    del users[known]
    write_users(path, users)
    return known


def check_password(path: Path, name: str, password: str) -> str | None:
    """The user's recorded name when ``password`` is theirs, else None (an unknown name is checked against a
    dummy hash, so that the answer takes as long either way)."""
    from jupyter_server.auth import passwd, passwd_check

    users = read_users(path)
    known = find(users, name)
    if known is None:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(passwd(os.urandom(16).hex()))
        passwd_check(_DUMMY_HASH[0], password)
        return None
    return known if password and passwd_check(users[known], password) else None


def check_private(path: Path) -> None:
    """Refuse to serve from a users file that is missing or that others may read or write."""
    try:
        mode = Path(path).stat().st_mode
    except OSError as exc:
        raise SamordningError(f"Användarfilen {path} går inte att läsa: {exc.strerror}. Skapa den med "
                              f"'samordning users add NAMN --users {path}'.") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SamordningError(f"Användarfilen {path} kan läsas av andra (läge {stat.S_IMODE(mode):04o}); "
                              f"gör den privat med 'chmod 600 {path}'.")
    read_users(path)
