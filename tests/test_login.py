"""A brake on guessing the controllers' password (issue #16 item 13), and no secret on Voilà's command line
(item 11): the record of failures alone, then a served controllers' view, guessed at over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from samordning.login import MAX_FAILURES, FailureRecord

ROOT = Path(__file__).resolve().parent.parent


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_from_one_address_block_it_for_the_window() -> None:
    clock = Clock()
    record = FailureRecord(max_failures=3, window=60.0, clock=clock)
    for _ in range(2):
        record.failed("10.0.0.1")
        clock.now += 1
    assert record.wait("10.0.0.1") == 0                 # two failures: still free to try
    record.failed("10.0.0.1")                           # the third, at t = 1002
    assert record.wait("10.0.0.1") == pytest.approx(58.0)   # until the first (t = 1000) leaves the window
    assert record.wait("10.0.0.2") == 0                 # another address is not affected
    clock.now = 1060.5                                  # the first failure has left the window
    assert record.wait("10.0.0.1") == 0
    record.failed("10.0.0.1")
    assert record.wait("10.0.0.1") > 0
    record.succeeded("10.0.0.1")                        # a login that works clears the record
    assert record.wait("10.0.0.1") == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                children += [int(entry.name), *_descendants(int(entry.name))]
    return children


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    from jupyter_server.auth import passwd

    env = dict(os.environ, SAMORDNING_PASSWORD_HASH=passwd("rätt lösenord"))
    yield from _serve(tmp_path_factory.mktemp("login") / "s.db", env)


def _serve(db: Path, env: dict[str, str], *extra: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    env.pop("SAMORDNING_USERS", None)
    proc = subprocess.Popen([sys.executable, "-m", "samordning.cli", "serve", "--controller", "--no-browser",
                             "--port", str(port), "--db", str(db), *extra], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/login", timeout=5).close()
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("Voilà did not start")
        yield url, proc
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=60)


def test_no_password_hash_on_any_command_line(served: tuple[str, subprocess.Popen[bytes]]) -> None:
    _, proc = served
    pids = [proc.pid, *_descendants(proc.pid)]
    assert len(pids) >= 2                               # samordning serve and Voilà (and its kernels)
    for pid in pids:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        assert "argon2" not in cmdline and "sha1:" not in cmdline and "token=" not in cmdline, cmdline


def test_repeated_wrong_passwords_are_refused(served: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, _ = served
    jar = CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_args: object) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    opener.open(f"{url}/login", timeout=10).close()
    xsrf = next(c.value for c in jar if c.name == "_xsrf")

    def login(password: str) -> tuple[int, dict[str, str], str]:
        data = urllib.parse.urlencode({"password": password, "_xsrf": xsrf}).encode()
        try:
            with opener.open(f"{url}/login", data=data, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as exc:   # 3xx (not followed), 4xx
            return exc.code, dict(exc.headers), exc.read().decode()

    # Right first: a login that works is let in (and clears the record).
    assert login("rätt lösenord")[0] == 302
    statuses = [login(f"gissning {i}")[0] for i in range(MAX_FAILURES)]
    assert statuses == [401] * MAX_FAILURES             # wrong, and checked
    status, headers, text = login("gissning igen")
    assert status == 429                                # no longer checked at all …
    assert int(headers["Retry-After"]) > 0
    assert "För många misslyckade inloggningar" in text
    assert login("rätt lösenord")[0] == 429             # … not even the right one, until the window passes


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object) -> None:
        return None


def fetch(opener: urllib.request.OpenerDirector, url: str, data: dict[str, str] | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode() if data else None,
                                     headers=headers or {})
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:   # 3xx (not followed), 4xx
        return exc.code, exc.read().decode()


def test_the_login_page_is_ours_in_swedish(served: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, _ = served
    status, page = fetch(urllib.request.build_opener(NoRedirect), f"{url}/login")
    assert status == 200
    assert '<html lang="sv">' in page and "<title>Logga in – samordning</title>" in page
    assert '<label for="losenord">Lösenord</label>' in page   # this server has a password, no token
    assert "Password" not in page and "jupyter" not in page.lower()


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A controllers' view with a users file and a proxy's header both."""
    from samordning.users import add_user

    tmp = tmp_path_factory.mktemp("named")
    users = tmp / "users.json"
    add_user(users, "Anna Berg", "annas lösenord 2023")
    env = dict(os.environ)
    server = _serve(tmp / "s.db", env, "--users", str(users), "--user-header", "X-Remote-User")
    url, _proc = next(server)
    try:
        yield url, users
    finally:
        server.close()  # stops the server (the generator's finally)


def test_a_removed_user_is_logged_out_and_the_proxys_header_logs_in(named: tuple[str, Path]) -> None:
    """/login answers a logged-in request with a redirect (302) and anyone else with the form (200)."""
    from samordning.users import remove_user

    url, users = named
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    status, page = fetch(opener, f"{url}/login")
    assert status == 200 and '<label for="namn">Namn</label>' in page
    xsrf = next(c.value for c in jar if c.name == "_xsrf")
    status, page = fetch(opener, f"{url}/login", {"username": "Anna Berg", "password": "fel", "_xsrf": xsrf})
    assert status == 401 and "Fel namn eller lösenord" in page
    status, _ = fetch(opener, f"{url}/login", {"username": "anna berg", "password": "annas lösenord 2023",
                                               "_xsrf": xsrf})
    assert status == 302
    assert fetch(opener, f"{url}/login")[0] == 302        # logged in
    remove_user(users, "Anna Berg")
    assert fetch(opener, f"{url}/login")[0] == 200        # the cookie no longer logs anyone in

    anonymous = urllib.request.build_opener(NoRedirect)
    assert fetch(anonymous, f"{url}/login", headers={"X-Remote-User": "Cecilia Dahl"})[0] == 302
    assert fetch(anonymous, f"{url}/login", headers={"X-Remote-User": ""})[0] == 200
    # Our own header for the kernel is no login: a client that sends it is not let in.
    assert fetch(anonymous, f"{url}/login", headers={"X-Samordning-User": "Mallory"})[0] == 200
