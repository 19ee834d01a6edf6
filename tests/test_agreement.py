"""The agreement as data: the shipped file loads, a malformed one is refused field by field in Swedish, and
the check lists the agreement's own inconsistencies with their clauses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from samordning.agreement import agreement_path, load_agreement, quarter_label
from samordning.check import check
from samordning.errors import SamordningError

ROOT = Path(__file__).resolve().parent.parent
RUN_305 = ROOT / "data" / "avtal" / "RUN-305-2022.toml"
TEST_7 = ROOT / "tests" / "data" / "avtal" / "TEST-7-2024.toml"


def test_run_305_has_the_facts_of_the_agreement() -> None:
    a = load_agreement(RUN_305)
    assert a.id == "RUN/305/2022"
    assert [(p.role, p.name) for p in a.parties] == [("utförare", "Region Jämtland Härjedalen"),
                                                    ("beställare", "Kommunförbundet Jämtland Härjedalen")]
    assert (a.validity.start, a.validity.end, a.validity.clause) == (dt.date(2023, 1, 1), dt.date(2023, 9, 30), "§9")
    assert a.compensation_ore == 531_900_000 and a.compensation.clause == "§6"
    # One fourth of 5 319 000 kr per advance, three inside the validity period.
    assert [a.advance_ore(x) for x in a.advances] == [132_975_000] * 3
    assert a.quarters == ("2023Q1", "2023Q2", "2023Q3")
    assert [x.name for x in a.areas] == ["Social välfärd", "Arbetsmarknad och utbildning"]
    assert all(not x.share_confirmed for x in a.areas)  # the 50/50 split is an assumption (bilaga 1 missing)
    assert a.dispute.clause == "§10" and a.report.clause == "§7" and a.insight.clause == "§8"
    assert quarter_label("2023Q1") == "Kv 1 2023"


def test_check_lists_the_missing_fourth_advance_with_its_clauses() -> None:
    findings = check(load_agreement(RUN_305))
    gap = next(f for f in findings if f.clause == "§6 mot §9")
    # 5 319 000 − 3 × 1 329 750 = 1 329 750 kr have no advance date inside 2023-01-01–2023-09-30.
    assert gap.title == "1 329 750 kr av ersättningen saknar förskottsdatum inom giltighetstiden"
    assert {f.clause for f in findings} >= {"§4", "§10", "§8", "§12", "§11"}


def test_a_consistent_agreement_has_no_findings() -> None:
    assert check(load_agreement(TEST_7)) == []


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "avtal.toml"
    path.write_text(text, encoding="utf-8")
    return path


def broken(tmp_path: Path, old: str, new: str) -> SamordningError:
    text = RUN_305.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(SamordningError) as caught:
        load_agreement(write(tmp_path, text.replace(old, new, 1)))
    return caught.value


def test_missing_compensation_is_named(tmp_path: Path) -> None:
    err = broken(tmp_path, 'total = "5319000.00"\n', "")
    assert "fältet compensation.total" in err.describe()
    assert "avtal.toml" in err.describe()


def test_bad_date_is_named(tmp_path: Path) -> None:
    err = broken(tmp_path, "end = 2023-09-30", 'end = "den sista september"')
    assert "fältet validity.end" in err.describe()


def test_end_before_start_is_refused(tmp_path: Path) -> None:
    err = broken(tmp_path, "end = 2023-09-30", "end = 2022-09-30")
    assert "validity" in err.describe()


def test_shares_above_100_percent_are_refused(tmp_path: Path) -> None:
    err = broken(tmp_path, 'share = "0.5"\nshare_confirmed = false\ncodes = ["7302"]',
                 'share = "0.6"\nshare_confirmed = false\ncodes = ["7302"]')
    assert "områdenas andelar är tillsammans mer än 100 %" in err.describe()


def test_shares_below_100_percent_are_a_finding(tmp_path: Path) -> None:
    text = RUN_305.read_text(encoding="utf-8").replace(
        'share = "0.5"\nshare_confirmed = false\ncodes = ["7302"]',
        'share = "0.4"\nshare_confirmed = false\ncodes = ["7302"]', 1)
    findings = check(load_agreement(write(tmp_path, text)))
    # 10 % of 5 319 000 kr belongs to no area.
    assert "531 900 kr av ersättningen hör inte till något område" in [f.title for f in findings]


def test_not_toml_is_refused_in_swedish(tmp_path: Path) -> None:
    with pytest.raises(SamordningError, match="är inte giltig TOML"):
        load_agreement(write(tmp_path, "id = \n"))


def test_agreement_is_found_by_id_or_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMORDNING_AVTAL", str(TEST_7.parent))
    assert agreement_path("TEST/7/2024") == TEST_7
    assert agreement_path(str(RUN_305)) == RUN_305.resolve()
    with pytest.raises(SamordningError, match="Hittar inget avtal 'RUN/1/1999'"):
        agreement_path("RUN/1/1999")
