"""Real names (issue 17 item 4): the users file, the identity provider that reads it or a reverse proxy's
header, the name each login records, ``samordning users``, ``withhold release --user``, and the CLI's times
as data in Europe/Stockholm with their offset."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import socket
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from tornado import web
from tornado.httputil import HTTPHeaders

from samordning.cli import main
from samordning.errors import SamordningError
from samordning.login import SHARED_NAME, FailureRecord, ThrottledIdentityProvider, recorded_name
from samordning.login_page import login_form
from samordning.users import add_user, check_password, check_private, read_users, remove_user

ANNA, BO = "annas lösenord 2023", "bos eget lösenord"


@pytest.fixture
def users(tmp_path: Path) -> Path:
    path = tmp_path / "anvandare.json"
    add_user(path, "Anna Berg", ANNA)
    add_user(path, "Bo Ek", BO)
    return path


def test_the_users_file_holds_hashes_only_and_is_private(users: Path) -> None:
    text = users.read_text(encoding="utf-8")
    assert ANNA not in text and BO not in text
    stored = read_users(users)
    assert sorted(stored) == ["Anna Berg", "Bo Ek"]
    assert all(h.startswith("argon2:$argon2id$") for h in stored.values())
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    check_private(users)  # serve accepts it
    assert [p.name for p in users.parent.iterdir()] == ["anvandare.json"]  # no temporary file left


def test_a_password_is_checked_against_the_named_user_only(users: Path) -> None:
    assert check_password(users, "Anna Berg", ANNA) == "Anna Berg"
    assert check_password(users, "  anna   BERG ", ANNA) == "Anna Berg"   # recorded as the file spells it
    assert check_password(users, "Anna Berg", BO) is None                 # Bo's password is not Anna's
    assert check_password(users, "Anna Berg", "") is None
    assert check_password(users, "Cecilia", ANNA) is None                 # not in the file


def test_add_again_sets_a_new_password_and_remove_takes_the_user_out(users: Path) -> None:
    assert add_user(users, "anna berg", "ett helt nytt lösenord") == ("Anna Berg", False)
    assert check_password(users, "Anna Berg", ANNA) is None
    assert check_password(users, "Anna Berg", "ett helt nytt lösenord") == "Anna Berg"
    assert remove_user(users, "BO EK") == "Bo Ek"
    assert sorted(read_users(users)) == ["Anna Berg"]
    with pytest.raises(SamordningError, match="finns inte"):
        remove_user(users, "Bo Ek")


@pytest.mark.parametrize(("name", "password", "message"), [
    ("Anna", "kort", "för kort"),
    ("", "ett långt lösenord", "saknas"),
    ("Anna\u202eBerg", "ett långt lösenord", "styrtecken"),
    ("x" * 129, "ett långt lösenord", "högst 128"),
])
def test_bad_names_and_short_passwords_are_refused(tmp_path: Path, name: str, password: str, message: str) -> None:
    path = tmp_path / "u.json"
    with pytest.raises(SamordningError, match=message):
        add_user(path, name, password)
    assert not path.exists()


def test_serve_refuses_a_users_file_others_can_read_or_a_malformed_one(users: Path) -> None:
    users.chmod(0o644)
    with pytest.raises(SamordningError, match="chmod 600"):
        check_private(users)
    users.chmod(0o600)
    users.write_text('{"users": ["Anna"]}', encoding="utf-8")
    with pytest.raises(SamordningError, match="fel form"):
        check_private(users)
    with pytest.raises(SamordningError, match="går inte att läsa"):
        check_private(users.parent / "saknas.json")


# -- the identity provider ---------------------------------------------------------------------------------

class Handler:
    """What the identity provider reads of a request: form arguments, headers, the client's address."""

    def __init__(self, args: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> None:
        self.args = args or {}
        self.request = SimpleNamespace(remote_ip="10.0.0.9", headers=HTTPHeaders(headers or {}))

        self.status, self.headers = 200, {}
        self.log = logging.getLogger("test")

    def get_argument(self, name: str, default: str = "") -> str:
        return self.args.get(name, default)

    def set_status(self, status: int) -> None:
        self.status = status

    def set_header(self, name: str, value: str) -> None:
        self.headers[name] = value


def provider(**config: str) -> ThrottledIdentityProvider:
    made = ThrottledIdentityProvider(token=config.pop("token", ""), **config)
    made.record = FailureRecord()
    return made


def test_a_users_file_login_gives_the_persons_name(users: Path) -> None:
    idp = provider(users_file=str(users))
    assert idp.kind == "users" and idp.auth_enabled
    user = idp.process_login_form(Handler({"username": "bo ek", "password": BO}))
    assert user is not None and user.username == "Bo Ek"
    assert recorded_name(idp, user) == "Bo Ek"
    assert idp.process_login_form(Handler({"username": "Bo Ek", "password": ANNA})) is None
    assert idp.process_login_form(Handler({"password": BO})) is None   # the shared-password form gives no name
    assert idp.record.wait("10.0.0.9") == 0                             # two failures: not yet braked


def test_the_users_file_login_is_braked_like_the_password(users: Path) -> None:
    idp = provider(users_file=str(users))
    for _ in range(5):
        assert idp.process_login_form(Handler({"username": "Anna Berg", "password": "gissning"})) is None
    braked = Handler({"username": "Anna Berg", "password": ANNA})
    with pytest.raises(web.Finish):  # not even the right password is checked now
        idp.process_login_form(braked)
    assert braked.status == 429 and int(braked.headers["Retry-After"]) > 0


def test_a_shared_secret_records_controller_and_no_login_records_nobody() -> None:
    secret = provider(token="delad-token")
    anonymous = secret.process_login_form(Handler({"password": "delad-token"}))
    assert secret.kind == "secret" and anonymous is not None
    assert provider(hashed_password="argon2:x").kind == "password"
    assert recorded_name(secret, anonymous) == SHARED_NAME == "controller"
    open_view = provider()
    assert open_view.kind == "open" and not open_view.auth_enabled
    assert recorded_name(open_view, anonymous) is None
    assert recorded_name(object(), anonymous) is None  # Voilà's own provider: no name


def test_the_proxys_header_gives_the_name_as_it_comes() -> None:
    idp = provider(user_header="X-Remote-User")
    assert idp.kind == "header" and idp.auth_enabled
    user = asyncio.run(idp._get_user(Handler(headers={"X-Remote-User": "  Cecilia   Dahl "})))
    assert user is not None and recorded_name(idp, user) == "Cecilia Dahl"
    assert idp.header_name(Handler(headers={"x-remote-user": "Cecilia"})) == "Cecilia"   # any case
    assert idp.header_name(Handler(headers={"X-Remote-User": "Cecilia\x07"})) is None     # unusable: ignored
    assert idp.header_name(Handler(headers={"X-Other": "Cecilia"})) is None
    assert provider().header_name(Handler(headers={"X-Remote-User": "Cecilia"})) is None  # not configured
    # Only the proxy logs in: the form checks nothing.
    assert idp.process_login_form(Handler({"username": "Cecilia", "password": "x"})) is None


def test_the_login_page_is_swedish_and_labelled() -> None:
    form = login_form("users", "/login?next=%2F", "<input type=hidden name=_xsrf value=x>", failed=True,
                      name='Anna "<b>"')
    assert '<label for="namn">Namn</label><input id="namn"' in form
    assert '<label for="losenord">Lösenord</label><input id="losenord"' in form
    assert 'role="alert">Fel namn eller lösenord. Kontrollera och försök igen.</p>' in form
    assert 'value="Anna &quot;&lt;b&gt;&quot;"' in form                 # what was typed comes back escaped
    assert 'aria-invalid="true" aria-describedby="fel"' in form
    assert '<label for="losenord">Token</label>' in login_form("secret", "/login", "")
    assert '<label for="losenord">Lösenord</label>' in login_form("password", "/login", "")
    assert "Fel lösenord." in login_form("password", "/login", "", failed=True)
    assert "<form" not in login_form("header", "/login", "")             # only the proxy's login


# -- the command line --------------------------------------------------------------------------------------

def test_users_command_add_list_remove(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "u.json"
    typed = iter([ANNA, ANNA, BO, "något annat helt"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt="": next(typed))
    assert main(["users", "add", "Anna Berg", "--users", str(path)]) == 0
    assert "Anna Berg kan nu logga in" in capsys.readouterr().out
    assert main(["users", "add", "Bo Ek", "--users", str(path)]) == 2   # the two typings differ
    assert "inte lika" in capsys.readouterr().err
    monkeypatch.setenv("SAMORDNING_USERS", str(path))
    assert main(["users", "list"]) == 0
    assert capsys.readouterr().out == "Anna Berg\n"
    assert main(["users", "remove", "anna berg"]) == 0
    assert main(["users", "list"]) == 0
    assert "Inga användare" in capsys.readouterr().out
    monkeypatch.delenv("SAMORDNING_USERS")
    assert main(["users", "list"]) == 2


def test_withhold_release_records_who_and_every_json_time_is_stockholm_with_offset(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    db = str(tmp_path / "s.db")
    assert main(["demo", "--db", db, "--user", "Anna Berg"]) == 0
    assert main(["withhold", "add", "--db", db, "--area", "social", "--amount", "1000", "--reason", "tvist",
                 "--date", "2023-08-01", "--user", "Anna Berg"]) == 0
    assert main(["withhold", "release", "--db", db, "--id", "1", "--date", "2023-09-20", "--user", "Bo Ek"]) == 0
    assert main(["comment", "add", "--db", db, "--text", "Förklaring", "--user", "Bo Ek"]) == 0
    assert main(["payment", "add", "--db", db, "--quarter", "2023Q2", "--amount", "1329750", "--invoice", "F-7",
                 "--user", "Anna Berg"]) == 0
    assert main(["report", "--db", db, "--finalize", "--presented", "2023-10-12", "--user", "Bo Ek",
                 "--out", str(tmp_path / "rapport.xlsx")]) == 0
    # Fixed stored times (UTC) on both sides of the change to summer time, so the offsets are known.
    engine = sa.create_engine(f"sqlite:///{db}")
    summer, winter = dt.datetime(2023, 4, 3, 7, 15), dt.datetime(2023, 1, 15, 8, 0)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE withholdings SET at = :w, released_at = :s"), {"w": winter, "s": summer})
        conn.execute(sa.text("UPDATE comments SET at = :s"), {"s": summer})
        conn.execute(sa.text("UPDATE payments SET at = :w"), {"w": winter})
        conn.execute(sa.text("UPDATE uploads SET uploaded_at = :s"), {"s": summer})
        conn.execute(sa.text("UPDATE final_reports SET at = :w"), {"w": winter})
    engine.dispose()

    def listed(*command: str) -> list[dict[str, object]]:
        capsys.readouterr()
        assert main([*command, "--db", db, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    (held,) = listed("withhold", "list")
    assert (held["by"], held["at"]) == ("Anna Berg", "2023-01-15T09:00:00+01:00")
    assert (held["released_on"], held["released_by"], held["released_at"]) == (
        "2023-09-20", "Bo Ek", "2023-04-03T09:15:00+02:00")
    (comment,) = listed("comment", "list")
    assert (comment["author"], comment["at"]) == ("Bo Ek", "2023-04-03T09:15:00+02:00")
    (payment,) = listed("payment", "list")
    assert (payment["by"], payment["at"]) == ("Anna Berg", "2023-01-15T09:00:00+01:00")
    assert {(u["user"], u["uploaded_at"]) for u in listed("history")} == {("Anna Berg", "2023-04-03T09:15:00+02:00")}
    (report,) = listed("reports")
    assert (report["by"], report["at"]) == ("Bo Ek", "2023-01-15T09:00:00+01:00")


def test_serve_refuses_unsafe_named_logins_before_starting(users: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SAMORDNING_USERS", raising=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        db, port = str(tmp_path / "s.db"), str(probe.getsockname()[1])

    def serve(*extra: str) -> str:
        capsys.readouterr()
        assert main(["serve", "--controller", "--no-browser", "--db", db, "--port", port, *extra]) == 2
        return capsys.readouterr().err

    assert "kräver därför --ip 127.0.0.1" in serve("--user-header", "X-Remote-User", "--ip", "0.0.0.0")
    assert "ange bara det ena" in serve("--users", str(users), "--token", "hemlig")
    users.chmod(0o640)
    assert "kan läsas av andra (läge 0640)" in serve("--users", str(users))
    monkeypatch.setenv("SAMORDNING_USERS", str(tmp_path / "saknas.json"))  # the controllers' view reads it
    assert "saknas.json går inte att läsa" in serve()
