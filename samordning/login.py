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
from traitlets import Unicode

from samordning.errors import SamordningError

MAX_FAILURES = 5
WINDOW_SECONDS = 300.0
MAX_ADDRESSES = 10_000          # the record of failures stays small whatever the number of guessers
SHARED_NAME = "controller"      # the name on changes made after a login with the shared token or password


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
    """Jupyter's password-or-token login, with :class:`FailureRecord` in front of every check, our Swedish
    login page, and two ways to know who is logged in by name (see :meth:`recorded_name`):

    - ``users_file``: a name and a password from the users file (:mod:`samordning.users`); a user removed
      from the file is logged out at their next request.
    - ``user_header``: the name a reverse proxy's single sign-on puts in this request header. Trusted as it
      comes, so only behind a proxy that sets it and strips it from clients, on 127.0.0.1.
    """

    record = FailureRecord()
    users_file = Unicode("", config=True, help="the users file (samordning users add)")
    user_header = Unicode("", config=True, help="the header a reverse proxy puts the logged-in name in")

    def __init__(self, **kwargs: t.Any) -> None:
        kwargs.pop("login_handler_class", None)  # Voilà passes its own (Jupyter's English page); ours is below
        super().__init__(**kwargs)

    @property
    def auth_enabled(self) -> bool:
        return bool(self.users_file or self.user_header) or super().auth_enabled

    @property
    def login_available(self) -> bool:
        return self.auth_enabled

    def get_handlers(self) -> list[tuple[str, object]]:
        from samordning.login_page import LoginPage, LogoutPage

        return [(r"/login", LoginPage), (r"/logout", LogoutPage)] if self.auth_enabled else []

    @property
    def kind(self) -> str:
        """Which login the page shows: ``users`` (name and password), ``secret`` (the shared token),
        ``password`` (the shared password), ``header`` (only the proxy's), or ``open``."""
        if self.users_file:
            return "users"
        if self.user_header:
            return "header"
        if self.token:
            return "secret"
        return "password" if self.hashed_password else "open"

    def recorded_name(self, user: User | None) -> str | None:
        """The name a logged-in user's changes carry: their own with a users file or the proxy's header;
        :data:`SHARED_NAME` with a shared token or password, which tells who knew the secret, not who it was."""
        if user is None:
            return None
        if self.users_file or self.user_header:
            return user.username
        return SHARED_NAME if super().auth_enabled else None

    def header_name(self, handler: web.RequestHandler) -> str | None:
        from samordning.users import valid_name

        value = handler.request.headers.get(self.user_header, "") if self.user_header else ""
        try:
            return valid_name(value) if value.strip() else None
        except SamordningError:
            self.log.warning("Ignored an unusable name in the header %s", self.user_header)
            return None

    async def _get_user(self, handler: web.RequestHandler) -> User | None:
        name = self.header_name(handler)
        if name:
            return User(username=name, name=name, display_name=name)
        user = await super()._get_user(handler)
        if user is not None and (self.users_file or self.user_header):
            from samordning.users import find, read_users

            # A login cookie names a user of the file (a cookie of an earlier token login names none); a user
            # removed from the file is logged out here.
            try:
                known = find(read_users(Path(self.users_file)), user.username) if self.users_file else None
            except SamordningError as exc:  # the file became unreadable: nobody is logged in by it
                self.log.error("%s", exc)
                known = None
            if known != user.username:
                self.clear_login_cookie(handler)
                return None
        return user

    def _refuse_if_blocked(self, handler: web.RequestHandler) -> None:
        wait = self.record.wait(handler.request.remote_ip or "")
        if wait:
            self.log.warning("Login refused: too many failures from %s", handler.request.remote_ip)
            handler.set_status(429)
            handler.set_header("Retry-After", str(int(wait + 0.999)))
            handler.set_header("Content-Type", "text/plain; charset=utf-8")
            raise web.Finish(f"För många misslyckade inloggningar från din adress. Försök igen om "
                             f"{int(wait + 0.999)} sekunder.\n")

    def _check_form(self, handler: web.RequestHandler) -> User | None:
        if self.users_file:
            from samordning.users import check_password

            try:
                name = check_password(Path(self.users_file), handler.get_argument("username", default=""),
                                      handler.get_argument("password", default=""))
            except SamordningError as exc:
                self.log.error("%s", exc)
                name = None
            return User(username=name, name=name, display_name=name) if name else None
        if not super().auth_enabled:
            return None  # only the proxy's header logs in
        return super().process_login_form(handler)

    def process_login_form(self, handler: web.RequestHandler) -> User | None:
        self._refuse_if_blocked(handler)
        user = self._check_form(handler)
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


def recorded_name(provider: object, user: User | None) -> str | None:
    """The name a request's changes carry (None without a login that gives one)."""
    method = getattr(provider, "recorded_name", None)
    return method(user) if callable(method) else None


def voila_config(settings_file: Path, token: str | None, password_hash: str | None, *,
                 users_file: Path | None = None, user_header: str | None = None) -> Path:
    """A private folder (0700) with a ``voila.json`` (0600): the settings of ``settings_file`` and the
    authentication, which so never appears on Voilà's command line (``ps`` shows that to every local user).
    Failed logins are refused per address (:class:`ThrottledIdentityProvider`). With ``users_file`` or
    ``user_header`` people log in by name, and neither a token nor a shared password is accepted."""
    settings = json.loads(settings_file.read_text(encoding="utf-8"))
    named = bool(users_file or user_header)
    settings["Voila"] = {**settings.get("Voila", {}),
                         "token": "" if (password_hash or named) else (token or ""),
                         "identity_provider_class": "samordning.login.ThrottledIdentityProvider"}
    settings["PasswordIdentityProvider"] = {"allow_password_change": False}
    if password_hash and not named:
        settings["PasswordIdentityProvider"]["hashed_password"] = password_hash
    settings["ThrottledIdentityProvider"] = {"users_file": str(Path(users_file).resolve()) if users_file else "",
                                             "user_header": user_header or ""}
    folder = Path(tempfile.mkdtemp(prefix="samordning-voila-"))
    with os.fdopen(os.open(folder / "voila.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
        json.dump(settings, fh)
    return folder
