"""Voilà's login for ``samordning serve``: the secrets in a private settings file (never on a command line),
and a brake on guessing the controllers' password or token: Jupyter's own login (which Voilà serves), with
repeated failures from one address refused for a while.

After :data:`MAX_FAILURES` failed logins (the login form, or a wrong ``?token=``) from one IP address within
:data:`WINDOW_SECONDS`, that address gets ``429 Too Many Requests`` (with ``Retry-After``) and its guesses are
not even checked until the oldest failure leaves the window; a successful login clears its record. ``samordning
serve`` installs it as Voilà's ``identity_provider_class``. Behind a reverse proxy every client has the proxy's
address, so one guesser slows everyone's login there too (the proxy can limit per client itself).
"""

from __future__ import annotations

import collections
import json
import os
import tempfile
import time
import typing as t
from pathlib import Path

from jupyter_server.auth.identity import PasswordIdentityProvider, User
from tornado import web

MAX_FAILURES = 5
WINDOW_SECONDS = 300.0
MAX_ADDRESSES = 10_000          # the record of failures stays small whatever the number of guessers


class FailureRecord:
    """Recent failed logins per address (a monotonic clock, so a clock change neither locks out nor frees)."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW_SECONDS,
                 clock: t.Callable[[], float] = time.monotonic) -> None:
        self.max_failures, self.window, self.clock = max_failures, window, clock
        self._failures: collections.OrderedDict[str, collections.deque[float]] = collections.OrderedDict()

    def _recent(self, address: str) -> collections.deque[float]:
        failures = self._failures.get(address, collections.deque())
        while failures and failures[0] <= self.clock() - self.window:
            failures.popleft()
        return failures

    def wait(self, address: str) -> float:
        """Seconds until ``address`` may try again (0 when it may now)."""
        failures = self._recent(address)
        if len(failures) < self.max_failures:
            return 0.0
        return max(failures[-self.max_failures] + self.window - self.clock(), 1.0)

    def failed(self, address: str) -> None:
        failures = self._recent(address)
        failures.append(self.clock())
        self._failures[address] = failures
        self._failures.move_to_end(address)
        while len(self._failures) > MAX_ADDRESSES:
            self._failures.popitem(last=False)

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)


class ThrottledIdentityProvider(PasswordIdentityProvider):
    """Jupyter's password-or-token login, with :class:`FailureRecord` in front of every check."""

    record = FailureRecord()

    def _refuse_if_blocked(self, handler: web.RequestHandler) -> None:
        wait = self.record.wait(handler.request.remote_ip or "")
        if wait:
            self.log.warning("Login refused: too many failures from %s", handler.request.remote_ip)
            handler.set_status(429)
            handler.set_header("Retry-After", str(int(wait + 0.999)))
            handler.set_header("Content-Type", "text/plain; charset=utf-8")
            raise web.Finish(f"För många misslyckade inloggningar från din adress. Försök igen om "
                             f"{int(wait + 0.999)} sekunder.\n")

    def process_login_form(self, handler: web.RequestHandler) -> User | None:
        self._refuse_if_blocked(handler)
        user = super().process_login_form(handler)
        address = handler.request.remote_ip or ""
        if user is None:
            self.record.failed(address)
        else:
            self.record.succeeded(address)
        return user

    async def get_user_token(self, handler: web.RequestHandler) -> User | None:
        offered = bool(self.token) and bool(self.get_token(handler))
        if offered:
            self._refuse_if_blocked(handler)
        user = await super().get_user_token(handler)
        if offered and user is None:
            self.record.failed(handler.request.remote_ip or "")
        return user


def voila_config(settings_file: Path, token: str | None, password_hash: str | None) -> Path:
    """A private folder (0700) with a ``voila.json`` (0600): the settings of ``settings_file`` and the
    authentication, which so never appears on Voilà's command line (``ps`` shows that to every local user).
    Failed logins are refused per address (:class:`ThrottledIdentityProvider`)."""
    settings = json.loads(settings_file.read_text(encoding="utf-8"))
    settings["Voila"] = {**settings.get("Voila", {}), "token": "" if password_hash else (token or ""),
                         "identity_provider_class": "samordning.login.ThrottledIdentityProvider"}
    settings["PasswordIdentityProvider"] = {"allow_password_change": False}
    if password_hash:
        settings["PasswordIdentityProvider"]["hashed_password"] = password_hash
    folder = Path(tempfile.mkdtemp(prefix="samordning-voila-"))
    with os.fdopen(os.open(folder / "voila.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
        json.dump(settings, fh)
    return folder
