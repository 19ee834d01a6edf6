"""Storage that loses nothing: corrections and reinstating, history, payments, §10 withholdings, comments,
crash safety, concurrent imports and schema migration — on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from samordning.agreement import Agreement, load_agreement
from samordning.cli import main
from samordning.errors import SamordningError
from samordning.followup import quarterly, withholding_cap
from samordning.imports import classified_rows, import_export
from samordning.store import Store

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT = ROOT / "data" / "avtal" / "RUN-305-2022.toml"
PG_URL = os.environ.get("SAMORDNING_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_admin() -> sa.engine.Engine | None:
    try:
        engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return engine
    except Exception:
        return None


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    admin = _postgres_admin()
    if admin is None:
        if os.environ.get("CI"):
            pytest.fail(f"no PostgreSQL server at {PG_URL}: .ci/run should have started one")
        pytest.skip(f"no PostgreSQL server at {PG_URL} (set SAMORDNING_TEST_POSTGRES)")
    name = f"samordning_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def agreement() -> Agreement:
    return load_agreement(AGREEMENT)


def export(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """A plain export: (date, account, project, amount as text with decimal comma)."""
    wb = Workbook()
    ws = wb.active
    ws.append(["Bokföringsdatum", "Konto", "Projekt", "Text", "Belopp"])
    for day, account, project, amount in rows:
        ws.append([dt.date.fromisoformat(day), account, project, "rad", amount])
    wb.save(path)
    return path


def q(table: pd.DataFrame, quarter: str, column: str = "actual_ore") -> int:
    return int(table.loc[table["quarter"] == quarter, column].iloc[0])


def test_same_file_twice_changes_nothing(db_url: str, agreement: Agreement, tmp_path: Path) -> None:
    store = Store.open(db_url)
    content = export(tmp_path / "a.xlsx", [("2023-01-10", "5011", "7301", "1000,00")]).read_bytes()
    first = import_export(store, agreement, "a.xlsx", content, user="anna")
    second = import_export(store, agreement, "a-igen.xlsx", content, user="bertil")
    assert not first.duplicate and second.duplicate
    assert second.upload_id == first.upload_id
    assert len(store.uploads(agreement.id)) == 1
    assert len(store.rows_in_force(agreement.id)) == 1


def test_correction_replaces_months_and_reinstate_brings_back(db_url: str, agreement: Agreement,
                                                              tmp_path: Path) -> None:
    store = Store.open(db_url)
    # Upload 1 covers Jan–Mar: 100 000,00 kr of salary a month on 7301 → Q1 actual 300 000,00 kr.
    original = export(tmp_path / "q1.xlsx", [(f"2023-0{m}-25", "5011", "7301", "100000,00") for m in (1, 2, 3)])
    first = import_export(store, agreement, "q1.xlsx", original.read_bytes(), user="anna")
    assert q(quarterly(agreement, classified_rows(store, agreement)), "2023Q1") == 30_000_000
    # Upload 2 re-exports March after a correction: 120 000,50 kr → Q1 = 200 000,00 + 120 000,50.
    march = export(tmp_path / "mars.xlsx", [("2023-03-25", "5011", "7301", "120000,50")])
    second = import_export(store, agreement, "mars.xlsx", march.read_bytes(), user="anna")
    assert second.replaced == {"2023-03": [first.upload_id]}
    assert q(quarterly(agreement, classified_rows(store, agreement)), "2023Q1") == 32_000_050
    history = store.uploads(agreement.id).set_index("id")
    assert history.loc[first.upload_id, "status"] == "delvis ersatt"
    assert history.loc[first.upload_id, "active_periods"] == ["2023-01", "2023-02"]
    assert history.loc[second.upload_id, "status"] == "aktiv"
    # The replaced rows are still there, listed as not in force.
    rows = store.rows_in_force(agreement.id, upload_id=first.upload_id)
    assert rows["in_force"].tolist() == [True, True, False]

    # Bringing upload 1 back makes its March count again and sets upload 2 aside.
    stepped = store.reinstate(agreement.id, first.upload_id, user="bertil")
    assert stepped == {"2023-03": [second.upload_id]}
    assert q(quarterly(agreement, classified_rows(store, agreement)), "2023Q1") == 30_000_000
    assert store.uploads(agreement.id).set_index("id").loc[second.upload_id, "status"] == "ersatt"
    store.reinstate(agreement.id, second.upload_id, user="bertil")
    assert q(quarterly(agreement, classified_rows(store, agreement)), "2023Q1") == 32_000_050
    actions = store.events(agreement.id)["action"].tolist()
    assert actions == ["imported", "imported", "reinstated", "reinstated"]


def test_agreements_are_kept_apart(db_url: str, agreement: Agreement, tmp_path: Path) -> None:
    store = Store.open(db_url)
    other = agreement.model_copy(update={"id": "RUN/34/2018"})
    content = export(tmp_path / "a.xlsx", [("2023-01-10", "5011", "7301", "1000,00")]).read_bytes()
    import_export(store, agreement, "a.xlsx", content)
    # The same bytes for another agreement are a new upload there and replace nothing here.
    result = import_export(store, other, "a.xlsx", content)
    assert not result.duplicate and result.replaced == {}
    assert len(store.uploads(agreement.id)) == 1 and len(store.uploads(other.id)) == 1
    store.add_comment(agreement_id=other.id, text="annat avtal", author="x")
    assert store.comments(agreement.id).empty


def test_history_json_lists_sha256_and_counts(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted((ROOT / "data" / "exempel").glob("*.xlsx"))
    assert main(["import", *map(str, files), "--db", db_url, "--user", "controller"]) == 0
    capsys.readouterr()
    assert main(["history", "--db", db_url, "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    import hashlib

    assert [h["sha256"] for h in history] == [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
    assert [h["filename"] for h in history] == [f.name for f in files]
    assert {h["user"] for h in history} == {"controller"}
    assert [h["periods"] for h in history] == [["2023-01", "2023-02", "2023-03"], ["2023-04", "2023-05", "2023-06"],
                                               ["2023-07", "2023-08", "2023-09"]]
    assert all(h["status"] == "aktiv" for h in history)
    # Each file: its rows read = counted + left out, and the Summa row is one of those left out.
    for h in history:
        assert h["rows_read"] == h["rows_counted"] + sum(v["rows"] for v in h["left_out"].values())
        assert h["left_out"]["total"]["rows"] == 1


def test_rows_lists_source_file_and_excel_row(db_url: str, agreement: Agreement, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = export(tmp_path / "q1.xlsx", [("2023-01-25", "5011", "7301", "100000,00"),
                                         ("2023-01-02", "3610", "7300", "-1329750,00")])
    assert main(["import", str(path), "--db", db_url]) == 0
    capsys.readouterr()
    assert main(["rows", "--db", db_url, "--reason", "not_cost", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["file"], r["row"], r["amount"], r["reason"]) for r in rows] == [("q1.xlsx", 3, -1329750.0, "not_cost")]


def test_registered_payments_replace_the_plan_where_they_exist(db_url: str, agreement: Agreement) -> None:
    store = Store.open(db_url)
    store.add_payment(agreement_id=agreement.id, quarter="2023Q1", amount_ore=100_000_000, invoice_no="F1",
                      invoiced_on=dt.date(2023, 1, 2), paid_on=dt.date(2023, 1, 30), user="anna")
    table = quarterly(agreement, classified_rows(store, agreement), payments=store.payments(agreement.id))
    assert table["source"].tolist() == ["registrerad", "plan", "plan"]
    assert table["advance_ore"].tolist() == [100_000_000, 132_975_000, 132_975_000]
    assert table["planned_ore"].tolist() == [132_975_000] * 3
    assert table["balance_ore"].tolist() == [100_000_000, 232_975_000, 365_950_000]


def test_withholding_above_the_section_10_cap_is_refused(db_url: str, agreement: Agreement) -> None:
    store = Store.open(db_url)
    cap = withholding_cap(agreement, "social")
    assert cap == 132_975_000  # 50 % of half of 5 319 000 kr

    def withhold(ore: int) -> int:
        return store.add_withholding(agreement_id=agreement.id, area="social", amount_ore=ore, reason="tvist",
                                     withheld_on=dt.date(2023, 5, 1), cap_ore=cap, clause="§10", user="k")

    first = withhold(100_000_000)
    with pytest.raises(SamordningError, match="§10"):
        withhold(32_975_001)
    withhold(32_975_000)  # exactly at the cap is allowed
    store.release_withholding(agreement.id, first, dt.date(2023, 6, 1), user="k")
    withhold(100_000_000)  # released money no longer counts against the cap
    assert store.withholdings(agreement.id)["amount_ore"].tolist() == [100_000_000, 32_975_000, 100_000_000]


def test_comments_keep_their_history(db_url: str, agreement: Agreement) -> None:
    store = Store.open(db_url)
    first = store.add_comment(agreement_id=agreement.id, quarter="2023Q2", text="Vakans", author="anna")
    second = store.add_comment(agreement_id=agreement.id, quarter="2023Q2", text="Vakans maj–juli", author="bertil")
    store.add_comment(agreement_id=agreement.id, area="social", text="Konsult", author="anna")
    current = store.comments(agreement.id)
    assert current["text"].tolist() == ["Vakans maj–juli", "Konsult"]
    history = store.comments(agreement.id, history=True)
    assert history["id"].tolist()[:2] == [first, second]
    assert history.set_index("id").loc[second, "supersedes"] == first
    assert history["current"].tolist() == [False, True, True]


# -- faults and load -------------------------------------------------------------------------------

def _counts(url: str) -> tuple[int, int, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        counts = tuple(int(conn.scalar(sa.text(f"SELECT COUNT(*) FROM {t}")))
                       for t in ("uploads", "ledger_rows", "upload_months"))
    engine.dispose()
    return counts  # type: ignore[return-value]


def _insert_in_progress(url: str, db_file: Path | None, wal_start: int) -> bool:
    if db_file is not None:  # SQLite: the transaction's pages spill into the write-ahead log
        wal = Path(f"{db_file}-wal")
        return wal.exists() and wal.stat().st_size > wal_start + 1_000_000
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        busy = conn.scalar(sa.text("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                                   "AND query ILIKE 'INSERT INTO ledger_rows%' AND pid <> pg_backend_pid()"))
    engine.dispose()
    return bool(busy)


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from samordning.demo import write_large_export

    return write_large_export(tmp_path_factory.mktemp("big") / "stor.xlsx", 60_000)


def test_import_killed_midway_leaves_database_unchanged(db_url: str, big_export: Path, tmp_path: Path) -> None:
    small = export(tmp_path / "a.xlsx", [("2023-01-10", "5011", "7301", "1000,00")])
    assert main(["import", str(small), "--db", db_url]) == 0
    before = _counts(db_url)
    db_file = Path(db_url.removeprefix("sqlite:///")) if db_url.startswith("sqlite") else None
    wal_start = Path(f"{db_file}-wal").stat().st_size if db_file and Path(f"{db_file}-wal").exists() else 0
    proc = subprocess.Popen([sys.executable, "-m", "samordning.cli", "import", str(big_export), "--db", db_url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not _insert_in_progress(db_url, db_file, wal_start):
        assert proc.poll() is None, "the import finished before it could be killed mid-transaction"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert _counts(db_url) == before
    if db_file is not None:
        engine = sa.create_engine(db_url)
        with engine.connect() as conn:
            assert conn.scalar(sa.text("PRAGMA integrity_check")) == "ok"
        engine.dispose()
    # The same file imports cleanly afterwards: nothing of the killed attempt is left behind.
    assert main(["import", str(big_export), "--db", db_url]) == 0
    assert _counts(db_url)[0] == before[0] + 1


def test_two_processes_importing_at_once_both_land(db_url: str, tmp_path: Path) -> None:
    Store.open(db_url)  # the schema exists, as on a running server
    files = [export(tmp_path / f"{name}.xlsx", [(f"2023-0{m}-0{d}", "5011", project, f"{d}00,00")
                                                 for d in range(1, 10)])
             for name, m, project in (("social", 1, "7301"), ("arbete", 2, "7302"))]
    procs = [subprocess.Popen([sys.executable, "-m", "samordning.cli", "import", str(f), "--db", db_url],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in files]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    agreement = load_agreement(AGREEMENT)
    store = Store.open(db_url)
    assert sorted(store.uploads(agreement.id)["filename"]) == ["arbete.xlsx", "social.xlsx"]
    # 100 + 200 + … + 900 kr in each file.
    assert int(store.rows_in_force(agreement.id)["amount_ore"].sum()) == 2 * 4_500_00


def test_database_from_the_first_schema_is_upgraded_with_its_data(db_url: str, agreement: Agreement) -> None:
    from alembic import command
    from alembic.config import Config

    engine = sa.create_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(ROOT / "samordning" / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    now = dt.datetime(2023, 4, 10, 8, 0)
    with engine.begin() as conn:  # what version 0.1 wrote: two uploads that both cover March
        for upload_id, months in ((1, ("2023-01", "2023-02", "2023-03")), (2, ("2023-03",))):
            conn.execute(sa.text(
                "INSERT INTO uploads (id, agreement_id, sha256, filename, uploaded_by, uploaded_at, sheet, "
                "header_row, size_bytes, content, status) VALUES (:id, :a, :sha, :f, 'anna', :t, 'Blad1', 1, 3, "
                ":c, 'active')"), {"id": upload_id, "a": agreement.id, "sha": f"{upload_id:064d}",
                                   "f": f"fil{upload_id}.xlsx", "t": now, "c": b"xyz"})
            for row, month in enumerate(months, start=2):
                conn.execute(sa.text(
                    "INSERT INTO ledger_rows (upload_id, sheet, excel_row, booking_date, period, account, "
                    "cost_centre, activity, project, counterpart, voucher, text, amount_ore, row_kind) VALUES "
                    "(:u, 'Blad1', :r, :d, :p, '5011', '', '', '7301', '', '', 'lön', :amt, 'data')"),
                    {"u": upload_id, "r": row, "d": dt.date.fromisoformat(f"{month}-25"), "p": month,
                     "amt": 10_000_000 * upload_id})
    engine.dispose()

    store = Store.open(db_url)  # upgrades in place
    history = store.uploads(agreement.id).set_index("id")
    assert history.loc[1, "status"] == "delvis ersatt" and history.loc[2, "status"] == "aktiv"
    assert history.loc[1, "sha256"] == "0" * 63 + "1"
    # Jan + Feb of upload 1 (100 000 kr each) and March of upload 2 (200 000 kr): the newest upload wins.
    assert q(quarterly(agreement, classified_rows(store, agreement)), "2023Q1") == 40_000_000
    assert store.events(agreement.id)["action"].tolist() == ["imported", "imported"]
    assert store.upload_content(agreement.id, 1) == ("fil1.xlsx", b"xyz")


def test_a_store_at_0005_gains_the_dimensions_column_with_its_rows_intact(db_url: str, agreement: Agreement) -> None:
    from alembic import command
    from alembic.config import Config

    engine = sa.create_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(ROOT / "samordning" / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0005")
    with engine.begin() as conn:  # what 0005 wrote: one upload of May with two rows, no dimensions column
        conn.execute(sa.text(
            "INSERT INTO uploads (id, agreement_id, sha256, filename, uploaded_by, uploaded_at, sheet, header_row, "
            "size_bytes, content, summary) VALUES (1, :a, :sha, 'maj.xlsx', 'anna', :t, 'Blad1', 1, 3, :c, '{}')"),
            {"a": agreement.id, "sha": "0" * 64, "t": dt.datetime(2023, 6, 2, 8, 0), "c": b"xyz"})
        conn.execute(sa.text("INSERT INTO upload_months (upload_id, period) VALUES (1, '2023-05')"))
        for row, (account, amount) in enumerate((("5011", 1_234_567), ("1930", -1_234_567)), start=2):
            conn.execute(sa.text(
                "INSERT INTO ledger_rows (upload_id, sheet, excel_row, booking_date, period, account, cost_centre, "
                "activity, project, counterpart, voucher, text, amount_ore, row_kind) VALUES (1, 'Blad1', :r, :d, "
                "'2023-05', :acc, '', '', '7301', '', 'A1', 'lön', :amt, 'data')"),
                {"r": row, "d": dt.date(2023, 5, 25), "acc": account, "amt": amount})
    engine.dispose()

    store = Store.open(db_url)  # upgrades to 0006 in place
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() >= "0006"
    rows = store.rows_in_force(agreement.id)
    assert rows[["excel_row", "account", "project", "voucher", "amount_ore"]].values.tolist() == [
        [2, "5011", "7301", "A1", 1_234_567], [3, "1930", "7301", "A1", -1_234_567]]
    assert rows["dimensions"].tolist() == [None, None]
    # 5011 on project 7301 (social) counts: 12 345,67 kr in 2023Q2, from the upgraded store.
    assert q(quarterly(agreement, classified_rows(store, agreement)), "2023Q2") == 1_234_567
    store.engine.dispose()


def test_comments_from_schema_0002_become_variance_comments(db_url: str, agreement: Agreement) -> None:
    from alembic import command
    from alembic.config import Config

    engine = sa.create_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(ROOT / "samordning" / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO comments (agreement_id, quarter, area, text, author, at) VALUES "
                             "(:a, '2023Q2', 'social', 'Vakans i maj.', 'anna', :t)"),
                     {"a": agreement.id, "t": dt.datetime(2023, 7, 3, 9, 0)})
    engine.dispose()

    store = Store.open(db_url)  # upgrades to 0003 in place
    assert store.comments(agreement.id)["text"].tolist() == ["Vakans i maj."]
    assert store.comments(agreement.id, kind="narrative").empty
    assert store.final_reports(agreement.id).empty and store.signoffs(agreement.id, "2023Q2") == {}
