"""Nothing wrong gets in (issue #16): one set of rules for every stored change, the same on SQLite and
PostgreSQL; a whole-agreement comment breaks nothing and no missing value reaches a user as NaN; bad databases,
paths and numbers are bad input (exit 2); files and logs are private. Figures worked by hand from RUN/305/2022."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_storage import db_url  # noqa: F401  (the SQLite / PostgreSQL fixture)

from samordning import rules
from samordning.cli import main
from samordning.store import Store, ledger_rows, payments, signoffs, uploads

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """fel.log and the default database go to a folder of the test's own."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SAMORDNING_DEBUG", raising=False)
    return tmp_path / "xdg" / "samordning"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def strict_json(text: str) -> object:
    """JSON as a strict parser reads it: ``NaN`` is not JSON."""
    def refuse(name: str) -> None:
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def csv_export(path: Path, rows: list[tuple[str, str, str, str, str]]) -> Path:
    """(date, account, project, voucher, amount) rows of a semicolon CSV export."""
    lines = ["Bokföringsdatum;Konto;Projekt;Verifikation;Text;Belopp"]
    lines += [f"{d};{a};{p};{v};rad;{amount}" for d, a, p, v, amount in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- item 4: the rules, through the CLI -----------------------------------------------------------

def test_payment_rules(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    db = ["--db", db_url]
    ok = run(capsys, "payment", "add", *db, "--quarter", "2023Q1", "--amount", "1 329 750,00", "--invoice", "F1",
             "--invoiced", "2023-01-02", "--paid", "2023-01-30", "--user", "anna")
    assert ok[0] == 0
    for bad, message in [
        (["--amount", "-5000"], "större än 0 kr"),
        (["--amount", "0"], "större än 0 kr"),
        (["--amount", "92233720368547758"], "orimligt stort"),
        (["--amount", "100", "--invoiced", "2023-02-01", "--paid", "2023-01-31"], "före fakturadatum"),
        (["--amount", "100", "--invoiced", "1900-01-01"], "inte rimligt"),
        (["--amount", "100", "--invoice", "   "], "Fakturanumret saknas"),
        (["--amount", "100", "--invoice", "F" * 65], "65 tecken; högst 64"),
        (["--amount", "100", "--user", "u" * 129], "129 tecken; högst 128"),
    ]:
        args = ["payment", "add", *db, "--quarter", "2023Q2", "--invoice", "F2", *bad]
        code, _, err = run(capsys, *args)
        assert (code, message in err) == (2, True), (bad, err)
    # 64 characters fit on both stores
    assert run(capsys, "payment", "add", *db, "--quarter", "2023Q2", "--amount", "0,01", "--invoice", "F" * 64)[0] == 0
    listed = strict_json(run(capsys, "payment", "list", *db, "--json")[1])
    assert [(p["quarter"], p["amount"], p["invoiced_on"]) for p in listed] == [
        ("2023Q1", 1_329_750.0, "2023-01-02"), ("2023Q2", 0.01, None)]


def test_payments_together_cannot_wrap(db_url: str) -> None:  # noqa: F811
    """Two payments of 92 233 720 368 547 758 kr wrapped an int64 sum to −5 000,16 kr; now each single amount
    is at most 10^12 kr, and so is the agreement's total."""
    store = Store.open(db_url)
    half = rules.MAX_AMOUNT_ORE // 2 + 1          # 500 000 000 000,01 kr
    store.add_payment(agreement_id="A", quarter="2023Q1", amount_ore=half, invoice_no="1", invoiced_on=None,
                      paid_on=None, user="anna")
    with pytest.raises(rules.SamordningError, match="orimligt stora"):
        store.add_payment(agreement_id="A", quarter="2023Q2", amount_ore=half, invoice_no="2", invoiced_on=None,
                          paid_on=None, user="anna")
    assert store.payments("A")["amount_ore"].tolist() == [half]


def test_withhold_rules_keep_the_section_10_cap(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    db = ["--db", db_url]

    def withhold(amount: str, date: str = "2023-05-02") -> tuple[int, str, str]:
        return run(capsys, "withhold", "add", *db, "--area", "social", "--amount", amount, "--reason", "tvist",
                   "--date", date)

    # A negative withholding would have made room: −10 000 000 kr, then 11 329 750 kr "under" the cap.
    code, _, err = withhold("-10000000")
    assert code == 2 and "större än 0 kr" in err
    code, _, err = withhold("11329750")
    assert code == 2 and "högst 1 329 750 kr" in err
    assert withhold("1000000")[0] == 0
    assert withhold("329750")[0] == 0              # 1 000 000 + 329 750 = 1 329 750 kr: exactly the cap
    code, _, err = withhold("0,01")
    assert code == 2 and "redan innehållet 1 329 750 kr" in err
    assert withhold("100", date="1899-12-31")[0] == 2
    # A release before the withholding, or in 1900, is refused; the release on 2023-06-01 frees 1 000 000 kr.
    code, _, err = run(capsys, "withhold", "release", *db, "--id", "1", "--date", "1900-01-01")
    assert code == 2 and "inte rimligt" in err
    code, _, err = run(capsys, "withhold", "release", *db, "--id", "1", "--date", "2023-05-01")
    assert code == 2 and "före innehållandet 2023-05-02" in err
    assert run(capsys, "withhold", "release", *db, "--id", "1", "--date", "2023-06-01")[0] == 0
    assert withhold("1000000")[0] == 0
    listed = strict_json(run(capsys, "withhold", "list", *db, "--json")[1])
    assert [(w["amount"], w["released_on"]) for w in listed] == [
        (1_000_000.0, "2023-06-01"), (329_750.0, None), (1_000_000.0, None)]


def test_revert_through_the_cli(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    db = ["--db", db_url]
    first = csv_export(tmp_path / "q1.csv", [(f"2023-0{m}-25", "5011", "7301", f"V{m}", "100000,00")
                                             for m in (1, 2, 3)])
    march = csv_export(tmp_path / "mars.csv", [("2023-03-25", "5011", "7301", "V9", "120000,50")])
    assert run(capsys, "import", str(first), *db)[0] == 0
    assert run(capsys, "import", str(march), *db)[0] == 0

    def q1() -> float:
        table = strict_json(run(capsys, "quarters", *db, "--json")[1])
        return next(r["actual"] for r in table if r["quarter"] == "2023Q1")

    assert q1() == 320_000.50                       # 2 × 100 000 + 120 000,50
    code, out, _ = run(capsys, "revert", "1", *db, "--user", "bertil")
    assert code == 0 and "2023-03: uppladdning 2 står åt sidan" in out
    assert q1() == 300_000.00                       # 3 × 100 000
    assert run(capsys, "revert", "2", *db)[0] == 0
    assert q1() == 320_000.50
    code, _, err = run(capsys, "revert", "99", *db)
    assert code == 2 and "Uppladdning 99 finns inte" in err
    code, _, err = run(capsys, "revert", "1", *db, "--user", "   ")
    assert code == 2 and "Användarnamnet saknas" in err
    assert q1() == 320_000.50                       # the refused revert changed nothing


def test_names_texts_dates_and_port(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    db = ["--db", db_url]
    for args, message in [
        (["signoff", "--quarter", "2023Q1", "--party", "utförare", "--name", " "], "saknas"),
        (["signoff", "--quarter", "2023Q1", "--party", "utförare", "--name", "N" * 129], "129 tecken"),
        (["signoff", "--quarter", "2023Q1", "--party", "utförare", "--name", "Eva", "--title", "T" * 129],
         "129 tecken"),
        (["comment", "add", "--text", "   "], "Texten saknas"),
        (["comment", "add", "--narrative", "--text", "\t\n"], "Texten saknas"),
        (["comment", "add", "--text", "x", "--user", "u" * 129], "129 tecken"),
        (["report", "--finalize", "--presented", "0001-01-01", "--out", "x.html"], "inte rimligt"),
        (["report", "--finalize", "--presented", "2022-12-31", "--out", "x.html"], "före avtalets början 2023-01-01"),
        (["serve", "--port", "99999", "--no-browser"], "mellan 1 och 65535"),
        (["serve", "--port", "0", "--no-browser"], "mellan 1 och 65535"),
    ]:
        code, _, err = run(capsys, *args, *db)
        assert (code, message in err) == (2, True), (args, err)
    assert run(capsys, "signoff", "--quarter", "2023Q1", "--party", "utförare", "--name", "N" * 128, *db)[0] == 0
    comments = strict_json(run(capsys, "comment", "list", *db, "--json")[1])
    assert comments == []


# -- item 6: lengths, the same on both stores ------------------------------------------------------

def test_rule_lengths_are_the_schemas() -> None:
    for field, limit in rules.ROW_LIMITS.items():
        assert ledger_rows.c[field].type.length == limit
    assert uploads.c.uploaded_by.type.length == signoffs.c.name.type.length == rules.NAME_LEN
    assert signoffs.c.title.type.length == rules.NAME_LEN
    assert payments.c.invoice_no.type.length == rules.INVOICE_LEN
    assert uploads.c.filename.type.length == rules.FILENAME_LEN


def test_too_long_ledger_values_are_refused_naming_the_cell(db_url: str, tmp_path: Path,  # noqa: F811
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = csv_export(tmp_path / "lang.csv", [("2023-01-25", "5011", "7301", "V" * 64, "100,00"),
                                              ("2023-01-26", "5011", "7301", "W" * 65, "200,00"),
                                              ("2023-01-27", "5011", "A" * 70, "V3", "300,00")])
    code, _, err = run(capsys, "import", str(path), "--db", db_url)
    assert code == 1
    assert f"fil lang.csv, blad 'CSV', rad 3, kolumn 'Verifikation': verifikation har 65 tecken; högst 64 kan sparas " \
           f"(värde: '{'W' * 65}')" in err
    assert "rad 4, kolumn 'Projekt': projekt har 70 tecken" in err
    assert strict_json(run(capsys, "history", "--db", db_url, "--json")[1]) == []   # nothing stored
    code, _, err = run(capsys, "import", str(path), "--db", db_url, "--user", "x" * 129)
    assert code == 2 and "129 tecken; högst 128" in err


# -- item 2: a whole-agreement comment breaks nothing, and no NaN reaches a user --------------------

def test_whole_agreement_comments_in_reports_and_json(db_url: str, tmp_path: Path,  # noqa: F811
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", db_url]
    export = csv_export(tmp_path / "a.csv", [("2023-01-25", "5011", "7301", "V1", "1000,00"),
                                             ("2023-04-25", "5011", "7302", "V2", "2000,00")])
    # a total row: no date, period, quarter or area (all missing, which pandas reads as NaN)
    export.write_text(export.read_text(encoding="utf-8") + ";;;;Summa;3000,00\n", encoding="utf-8")
    assert run(capsys, "import", str(export), *db)[0] == 0
    for args in (["--quarter", "2023Q1", "--text", "a"], ["--text", "b"],
                 ["--quarter", "2023Q2", "--area", "social", "--text", "c"], ["--quarter", "2023Q2", "--text", "d"]):
        assert run(capsys, "comment", "add", *db, *args)[0] == 0
    assert run(capsys, "comment", "add", *db, "--narrative", "--text", "hela avtalet")[0] == 0
    listed = strict_json(run(capsys, "comment", "list", *db, "--json")[1])
    assert [(c["quarter"], c["area"], c["text"]) for c in listed] == [
        ("2023Q1", None, "a"), (None, None, "b"), ("2023Q2", "social", "c"), ("2023Q2", None, "d")]
    rows = strict_json(run(capsys, "rows", *db, "--json")[1])
    assert [(r["period"], r["quarter"], r["area"], r["reason"]) for r in rows][-1] == (None, None, None, "total")
    for suffix in (".html", ".xlsx"):
        out = tmp_path / f"rapport{suffix}"
        code, _, err = run(capsys, "report", *db, "--out", str(out))
        assert code == 0, err
    html = (tmp_path / "rapport.html").read_text(encoding="utf-8")
    assert "Hela avtalet" in html and "· nan" not in html and ">nan<" not in html
    from openpyxl import load_workbook

    cells = [str(c.value) for ws in load_workbook(tmp_path / "rapport.xlsx") for row in ws.iter_rows() for c in row]
    assert "nan" not in cells and "Hela avtalet" in cells
    code, _, err = run(capsys, "report", *db, "--finalize", "--presented", "2023-07-12", "--quarter", "2023Q2",
                       "--out", str(tmp_path / "f.html"))
    assert code == 0, err


# -- item 12: bad databases and paths are bad input ------------------------------------------------

def test_damaged_database_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.db"
    assert run(capsys, "comment", "add", "--text", "x", "--db", str(good))[0] == 0
    with sa.create_engine(f"sqlite:///{good}").connect() as conn:   # fold the WAL into the file
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(good.read_bytes()[:3000])
    noise = tmp_path / "noise.db"
    noise.write_bytes(os.urandom(65536))
    for path in (truncated, noise):
        code, _, err = run(capsys, "history", "--db", str(path))
        assert code == 2 and f"Databasen {path} kan inte användas" in err, err
    read_only = f"sqlite:///file:{good}?mode=ro&uri=true"
    code, _, err = run(capsys, "comment", "add", "--text", "y", "--db", read_only)
    assert code == 2 and "skrivskyddad" in err
    if os.geteuid() != 0:  # root writes through file modes
        good.chmod(0o444)
        code, _, err = run(capsys, "comment", "add", "--text", "y", "--db", str(good))
        assert code == 2 and "skrivskyddad" in err


def test_bad_header_row_and_output_folder_are_bad_input(db_url: str, tmp_path: Path,  # noqa: F811
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", db_url]
    export = csv_export(tmp_path / "a.csv", [("2023-01-25", "5011", "7301", "V1", "1000,00")])
    for row in ("-5", "0"):
        code, _, err = run(capsys, "import", str(export), *db, "--header-row", row)
        assert code == 2 and "1 eller större" in err
    assert run(capsys, "import", str(export), *db)[0] == 0
    missing = tmp_path / "finns-inte" / "x.html"
    code, _, err = run(capsys, "report", *db, "--out", str(missing))
    assert code == 2 and "finns inte" in err
    code, _, err = run(capsys, "report", *db, "--finalize", "--presented", "2023-04-12", "--out", str(missing))
    assert code == 2
    assert strict_json(run(capsys, "reports", *db, "--json")[1]) == []   # nothing finalized


# -- item 11: private files, no row data in fel.log, no secret on the command line ---------------

def test_new_database_and_error_log_are_private(tmp_path: Path, private_home: Path) -> None:
    script = (
        "import sys, os, sqlalchemy as sa\n"
        "from samordning.cli import main\n"
        "from samordning.store import Store\n"
        "db = sys.argv[1]\n"
        "Store.open(db)\n"
        "engine = sa.create_engine('sqlite:///' + db)\n"
        "with engine.begin() as c:\n"   # a comments table that refuses every row: an unexpected error
        "    c.exec_driver_sql(\"CREATE TRIGGER no BEFORE INSERT ON comments BEGIN SELECT RAISE(ABORT, 'nej'); END\")\n"
        "sys.exit(main(['comment', 'add', '--text', 'HEMLIG-RAD 4711', '--db', db]))\n"
    )
    for umask, mode in ((0o022, 0o600), (0o077, 0o600), (0o277, 0o400)):
        db = tmp_path / f"db-{umask:o}.sqlite"
        log = private_home / "fel.log"
        log.unlink(missing_ok=True)
        proc = subprocess.run([sys.executable, "-c", f"import os; os.umask({umask}); exec({script!r})", str(db)],
                              check=False, capture_output=True, text=True, cwd=ROOT,
                              env=dict(os.environ, XDG_DATA_HOME=str(private_home.parent)))
        assert proc.returncode == 3, proc.stderr
        assert stat.S_IMODE(db.stat().st_mode) == mode
        assert stat.S_IMODE(log.stat().st_mode) == mode
        text = log.read_text(encoding="utf-8")
        assert "IntegrityError" in text or "nej" in text
        assert "HEMLIG-RAD" not in text and "4711" not in text


def test_serve_puts_no_secret_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import signal

    seen: dict[str, object] = {}

    class FakeVoila:
        def __init__(self, command: list[str], env: dict[str, str]) -> None:
            folder = Path(next(a for a in command if a.startswith("--Voila.config_file_paths=")).split("=", 1)[1])
            seen["command"], seen["env"] = command, env
            seen["config"] = json.loads((folder / "voila.json").read_text())
            seen["modes"] = (stat.S_IMODE(folder.stat().st_mode), stat.S_IMODE((folder / "voila.json").stat().st_mode))
            seen["folder"] = folder

        def wait(self) -> int:
            return 0

    monkeypatch.setattr(subprocess, "Popen", FakeVoila)  # serve imports both when it runs
    monkeypatch.setattr(signal, "signal", lambda *_args: None)
    with socket.socket() as s:  # a free port: serve refuses a taken one (8866 may be someone's dashboard)
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    db = ["--db", str(tmp_path / "s.db"), "--port", port]
    for auth, secret in ((["--token", "HEMLIG-TOKEN"], "HEMLIG-TOKEN"), ([], "argon2:HEMLIG-HASH")):
        seen.clear()
        if not auth:  # given through the environment
            monkeypatch.setenv("SAMORDNING_PASSWORD_HASH", secret)
        assert run(capsys, "serve", "--controller", "--no-browser", *auth, *db)[0] == 0
        assert not any(secret in a for a in seen["command"]), seen["command"]
        assert not any(secret in v for v in seen["env"].values())
        assert seen["modes"] == (0o700, 0o600)
        config = seen["config"]
        assert secret in (config["Voila"]["token"], config["PasswordIdentityProvider"].get("hashed_password"))
        assert config["Voila"]["identity_provider_class"] == "samordning.login.ThrottledIdentityProvider"
        assert config["VoilaConfiguration"]["show_tracebacks"] is False   # notebooks/voila.json's settings kept
        assert not seen["folder"].exists()                                 # removed when Voilà ends
