"""The samordning command as users and scripts call it: demo, quarters --json, check, refusals, and a second
agreement chosen by --agreement."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from samordning.cli import main

ROOT = Path(__file__).resolve().parent.parent
TEST_7 = ROOT / "tests" / "data" / "avtal" / "TEST-7-2024.toml"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SAMORDNING_DB", raising=False)
    monkeypatch.delenv("SAMORDNING_AGREEMENT", raising=False)
    path = str(tmp_path / "cli.db")
    assert main(["demo", "--db", path]) == 0
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    capsys.readouterr()
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def test_quarters_json_has_the_demo_figures(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    quarters = run_json(capsys, "quarters", "--db", db, "--json")
    assert [q["quarter"] for q in quarters] == ["2023Q1", "2023Q2", "2023Q3"]
    assert {"quarter", "advance", "actual", "variance", "balance", "utilisation"} <= set(quarters[0])
    assert [q["advance"] for q in quarters] == [1_329_750, 1_329_750, 1_329_750]
    assert [q["actual"] for q in quarters] == [959_627.41, 1_035_607.05, 915_751.49]
    assert quarters[0]["variance"] == 370_122.59            # 1 329 750 − 959 627,41
    assert quarters[-1]["balance"] == 1_078_264.05           # 3 989 250 − 2 910 985,95
    by_area = run_json(capsys, "quarters", "--db", db, "--by-area", "--json")
    assert len(by_area) == 6 and by_area[0]["area"] == "Social välfärd"
    assert by_area[0]["advance"] == 664_875 and by_area[0]["actual"] == 477_733.75


def test_check_lists_findings_with_clauses(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    findings = run_json(capsys, "check", "--json")
    assert any(f["clause"] == "§6 mot §9" and "1 329 750 kr" in f["title"] for f in findings)


def test_refused_file_exit_code_and_swedish_message(db: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    fake = tmp_path / "inte_excel.xlsx"
    fake.write_text("Datum;Belopp\n2023-01-01;12\n", encoding="utf-8")
    history = run_json(capsys, "history", "--db", db, "--json")
    assert main(["import", "--db", db, str(fake)]) == 1
    err = capsys.readouterr().err
    assert "inte_excel.xlsx" in err and "Traceback" not in err
    assert run_json(capsys, "history", "--db", db, "--json") == history  # nothing stored


def test_same_file_twice_changes_nothing(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = run_json(capsys, "history", "--db", db, "--json")
    assert main(["import", "--db", db, str(ROOT / "data" / "exempel" / "huvudbok_2023_kv1.xlsx")]) == 0
    assert "redan" in capsys.readouterr().out
    assert run_json(capsys, "history", "--db", db, "--json") == before


def test_second_agreement_by_option_and_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "test7.db")
    quarters = run_json(capsys, "quarters", "--db", db, "--agreement", str(TEST_7), "--json")
    assert [q["quarter"] for q in quarters] == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    assert [q["advance"] for q in quarters] == [300_000] * 4
    env = dict(os.environ, SAMORDNING_AGREEMENT=str(TEST_7), SAMORDNING_DB=db)
    out = subprocess.run([sys.executable, "-m", "samordning.cli", "check", "--json"], env=env,
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []  # a consistent agreement has nothing to report


def test_bad_arguments_are_answered_in_swedish() -> None:
    out = subprocess.run([sys.executable, "-m", "samordning.cli", "quarters", "--nope"], check=False,
                         capture_output=True,
                         text=True)
    assert out.returncode == 2
    assert "fel i kommandot" in out.stderr and "Traceback" not in out.stderr
