"""Agreements in the store, with versions: seeding from data/avtal, a new version per change with its author,
reason, difference and findings, signed versions changed only with a reason, the figures following the version in
force, and a finalized report keeping the version it used."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from samordning import agreements
from samordning.agreement import load_agreement
from samordning.cli import main
from samordning.errors import SamordningError
from samordning.localtime import local_time
from samordning.store import Store

ROOT = Path(__file__).resolve().parent.parent
RUN305 = ROOT / "data" / "avtal" / "RUN-305-2022.toml"
SECOND = ROOT / "tests" / "data" / "avtal" / "TEST-7-2024.toml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An agreements folder holding RUN/305/2022 and a second agreement, as $SAMORDNING_AVTAL."""
    avtal = tmp_path / "avtal"
    avtal.mkdir()
    shutil.copy(RUN305, avtal)
    shutil.copy(SECOND, avtal)
    monkeypatch.setenv("SAMORDNING_AVTAL", str(avtal))
    monkeypatch.delenv("SAMORDNING_AGREEMENT", raising=False)
    return avtal


def edited(tmp_path: Path, old: str, new: str, name: str = "andrad.toml") -> Path:
    text = RUN305.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_a_new_store_is_seeded_from_the_agreement_files(folder: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.db")
    code, out, _ = run(capsys, "agreement", "list", "--db", db, "--json")
    assert code == 0
    listed = json.loads(out)
    assert [(r["id"], r["version"], r["status"]) for r in listed] == [("RUN/305/2022", 1, "utkast"),
                                                                     ("TEST/7/2024", 1, "undertecknat")]
    assert listed[0]["compensation"] == 5319000.0
    assert listed[0]["findings"] == 8
    store = Store.open(db)
    first = agreements.version(store, "RUN/305/2022", 1)
    assert first.text == RUN305.read_text(encoding="utf-8")
    assert first.reason == "Inläst från RUN-305-2022.toml när databasen skapades"
    # A file added to the folder later does not change a store that has agreements.
    (folder / "TEST-7-2024.toml").unlink()
    assert agreements.seed(store) == 0
    assert agreements.agreement_ids(store) == ["RUN/305/2022", "TEST/7/2024"]


def test_a_change_is_a_new_version_with_author_reason_diff_and_findings(folder: Path, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.db")
    # §11: the contact persons named: the finding "Kontaktpersoner saknas" is fixed by the change.
    changed = edited(tmp_path, 'performer = ""\ncommissioner = ""',
                     'performer = "Eva Berg"\ncommissioner = "Per Lind"')
    code, out, _ = run(capsys, "agreement", "import", str(changed), "--db", db, "--user", "Anna Ek",
                       "--reason", "Kontaktpersoner enligt §11")
    assert code == 0, out
    assert "Avtal RUN/305/2022 version 2 (utkast) sparad av Anna Ek." in out
    assert "åtgärdad iakttagelse [§11] Kontaktpersoner saknas" in out
    code, out, _ = run(capsys, "agreement", "versions", "RUN/305/2022", "--db", db, "--json")
    v1, v2 = json.loads(out)
    assert (v1["version"], v2["version"]) == (1, 2)
    assert v2["by"] == "Anna Ek" and v2["reason"] == "Kontaktpersoner enligt §11"
    assert v2["diff"] == 'contacts.performer: "" → "Eva Berg"\ncontacts.commissioner: "" → "Per Lind"'
    assert v2["changes"] == [{"path": "contacts.performer", "before": '""', "after": '"Eva Berg"'},
                             {"path": "contacts.commissioner", "before": '""', "after": '"Per Lind"'}]
    assert v1["diff"] == "" and v1["changes"] == []
    assert [f["title"] for f in v2["fixed"]] == ["Kontaktpersoner saknas"]
    assert v2["introduced"] == []
    assert len(v1["findings"]) == 8 and len(v2["findings"]) == 7
    # stored in UTC, shown as Stockholm time
    stored = agreements.version(Store.open(db), "RUN/305/2022", 2)
    assert stored.at.utcoffset() in (None, dt.timedelta(0))
    assert v2["at"] == local_time(stored.at)
    # The same text again stores nothing.
    code, out, _ = run(capsys, "agreement", "import", str(changed), "--db", db, "--user", "Anna Ek")
    assert code == 0 and "ingen ny version" in out
    assert len(agreements.versions(Store.open(db), "RUN/305/2022")) == 2
    # Export gives back each version's text as written.
    out_file = tmp_path / "v1.toml"
    assert run(capsys, "agreement", "export", "RUN/305/2022", "--version", "1", "--out", str(out_file),
               "--db", db)[0] == 0
    assert out_file.read_text(encoding="utf-8") == RUN305.read_text(encoding="utf-8")


def test_a_bad_version_is_refused_with_the_file_loaders_messages(folder: Path, tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "s.db"))
    bad = edited(tmp_path, 'total = "5319000.00"', 'total = "5319000.001"', "fel.toml")
    with pytest.raises(SamordningError) as from_file:
        load_agreement(bad)
    with pytest.raises(SamordningError) as from_store:
        agreements.import_file(store, bad, user="Anna Ek", reason="test")
    assert from_store.value.describe() == from_file.value.describe()
    assert "fältet compensation.total: ange ett belopp i kronor med högst två decimaler" in from_store.value.describe()
    assert len(agreements.versions(store, "RUN/305/2022")) == 1


def test_a_signed_version_is_changed_only_with_a_reason(folder: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.db")
    undated = edited(tmp_path, 'status = "utkast"', 'status = "undertecknat"', "odaterad.toml")
    code, _, err = run(capsys, "agreement", "import", str(undated), "--db", db, "--user", "Anna Ek")
    assert code == 2
    assert "fältet signing.date: ett undertecknat avtal ska ha datumet för undertecknandet (§12)" in err
    signed = edited(tmp_path, 'status = "utkast"', 'status = "undertecknat"', "signerad.toml")
    signed.write_text(signed.read_text(encoding="utf-8").replace(
        '[signing]\nclause = "§12"\ndate = ""', '[signing]\nclause = "§12"\ndate = "2023-02-15"'), encoding="utf-8")
    assert run(capsys, "agreement", "import", str(signed), "--db", db, "--user", "Anna Ek")[0] == 0
    store = Store.open(db)
    in_force = agreements.version(store, "RUN/305/2022")
    assert (in_force.number, in_force.status, in_force.signed_on) == (2, "undertecknat", dt.date(2023, 2, 15))
    assert {f["title"] for f in in_force.fixed} == {"Avtalet är ett utkast", "Datum för undertecknande saknas"}
    later = tmp_path / "senare.toml"
    later.write_text(signed.read_text(encoding="utf-8").replace('settlement_rule = ""',
                                                                'settlement_rule = "Regleras vid årsskiftet"'),
                     encoding="utf-8")
    code, _, err = run(capsys, "agreement", "import", str(later), "--db", db, "--user", "Anna Ek")
    assert code == 2 and "Version 2 av avtal RUN/305/2022 är undertecknad (2023-02-15)" in err
    assert len(agreements.versions(store, "RUN/305/2022")) == 2
    # Named by --agreement, a changed file of a signed agreement is refused too: it says no reason.
    code, _, err = run(capsys, "check", "--db", db, "--agreement", str(later))
    assert code == 2 and "Version 2 av avtal RUN/305/2022 är undertecknad (2023-02-15) och avtalsfilen senare.toml" \
        in err
    code, out, _ = run(capsys, "agreement", "import", str(later), "--db", db, "--user", "Anna Ek",
                       "--reason", "Tilläggsavtal om reglering (§10)")
    assert code == 0 and "version 3" in out
    assert "åtgärdad iakttagelse [§10] Regel för hur innehållen ersättning regleras saknas" in out


def quarters(capsys: pytest.CaptureFixture[str], db: str, *extra: str) -> list[dict[str, object]]:
    code, out, err = run(capsys, "quarters", "--db", db, "--json", *extra)
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_the_figures_follow_the_version_in_force_and_a_finalized_report_keeps_its_own(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAMORDNING_AVTAL", raising=False)
    monkeypatch.delenv("SAMORDNING_AGREEMENT", raising=False)
    db = str(tmp_path / "s.db")
    assert run(capsys, "demo", "--db", db, "--user", "anna")[0] == 0
    by_area = quarters(capsys, db, "--by-area")
    before = quarters(capsys, db)
    arbete = {r["quarter"]: r["actual"] for r in by_area if r["area"] == "Arbetsmarknad och utbildning"}
    social = {r["quarter"]: r["actual"] for r in by_area if r["area"] == "Social välfärd"}
    assert all(social.values()) and all(arbete.values())
    out = tmp_path / "rapport.xlsx"
    assert run(capsys, "report", "--db", db, "--finalize", "--presented", "2023-10-12", "--quarter", "2023Q3",
               "--out", str(out), "--user", "anna")[0] == 0
    # Social välfärd's project code changes to one no row carries: its rows are left out from version 2 on.
    changed = edited(tmp_path, 'codes = ["7301"]', 'codes = ["7399"]')
    assert run(capsys, "agreement", "import", str(changed), "--db", db, "--user", "Anna Ek",
               "--reason", "Rätt projektkod")[0] == 0
    after = quarters(capsys, db)
    assert {r["quarter"]: r["actual"] for r in after} == arbete
    assert [r["actual"] for r in before] == [pytest.approx(social[q] + arbete[q]) for q in arbete]
    # The report finalized with version 1 keeps version 1's figures and says so.
    code, listed, _ = run(capsys, "reports", "--db", db, "--json")
    assert code == 0
    (final,) = json.loads(listed)
    assert final["agreement_version"] == 1
    social_final = {r["quarter"]: r["actual"] for r in final["figures"] if r["area"] == "Social välfärd"}
    assert social_final == social
    # Version 1 is kept: exporting it gives back the seeded file.
    assert agreements.version(Store.open(db), "RUN/305/2022", 1).text == RUN305.read_text(encoding="utf-8")


def test_agreement_names_an_id_in_the_store_or_a_file_that_is_imported(folder: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.db")
    code, _, err = run(capsys, "check", "--db", db)
    assert code == 2 and "Flera avtal finns; välj ett med --agreement: RUN/305/2022, TEST/7/2024." in err
    code, out, _ = run(capsys, "check", "--db", db, "--agreement", "TEST/7/2024")
    assert code == 0 and out.startswith("Avtal TEST/7/2024:")
    code, _, err = run(capsys, "check", "--db", db, "--agreement", "RUN/999")
    assert code == 2 and "Hittar inget avtal 'RUN/999'" in err
    changed = edited(tmp_path, 'performer = ""', 'performer = "Eva Berg"')
    code, out, _ = run(capsys, "check", "--db", db, "--agreement", str(changed))
    assert code == 0
    v2 = agreements.version(Store.open(db), "RUN/305/2022")
    assert v2.number == 2 and v2.reason == "Inläst från andrad.toml"
    assert "Kontaktpersoner saknas" in out  # the commissioner's contact is still missing
    # The same file again names the agreement: no new version. A later version (saved in the dashboard, say) stays
    # in force when the file that names the agreement is given again, and the figures follow it.
    assert run(capsys, "check", "--db", db, "--agreement", str(changed))[0] == 0
    assert agreements.version(Store.open(db), "RUN/305/2022").number == 2
    later = edited(tmp_path, 'performer = ""\ncommissioner = ""', 'performer = "Eva Berg"\ncommissioner = "Per Lind"',
                   "senare.toml")
    assert run(capsys, "agreement", "import", str(later), "--db", db, "--user", "Anna Ek")[0] == 0
    code, out, _ = run(capsys, "check", "--db", db, "--agreement", str(changed))
    assert code == 0 and "Kontaktpersoner saknas" not in out
    assert [v.number for v in agreements.versions(Store.open(db), "RUN/305/2022")] == [1, 2, 3]


def test_the_portfolio_lists_every_agreement_with_its_figures(folder: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.db")
    assert run(capsys, "demo", "--db", db, "--agreement", "RUN/305/2022", "--user", "anna")[0] == 0
    assert run(capsys, "withhold", "add", "--db", db, "--agreement", "RUN/305/2022", "--area", "social",
               "--amount", "100000", "--reason", "Tvist om uppdraget", "--date", "2023-06-01", "--user", "anna")[0] == 0
    actual = sum(r["actual"] for r in quarters(capsys, db, "--agreement", "RUN/305/2022"))
    code, out, _ = run(capsys, "agreement", "list", "--db", db, "--json")
    assert code == 0
    run305, test7 = json.loads(out)
    assert run305["id"] == "RUN/305/2022" and test7["id"] == "TEST/7/2024"
    # the demo's ledger runs to September 2023: all three advances of 1 329 750 kr are due by then, less the
    # 100 000 kr withheld (withholdings enter the advances by the follow-up's one rule)
    assert run305["advanced"] == 3989250.0 - 100000.0
    assert run305["actual"] == pytest.approx(actual)
    assert run305["utilisation"] == round(actual / 3889250, 4)
    assert run305["withheld"] == 100000.0
    assert run305["findings"] == 8
    # no exports yet for the second agreement: nothing advanced by a month with data, the whole plan repaid
    assert (test7["advanced"], test7["actual"], test7["utilisation"], test7["withheld"]) == (0.0, 0.0, None, 0.0)
    assert test7["repayment"] == 1200000.0


def test_serve_checks_the_agreements_it_is_limited_to(folder: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from samordning.cli import build_parser
    from samordning.cli.serve import _agreement

    db = str(tmp_path / "s.db")
    code, _, err = run(capsys, "serve", "--db", db, "--port", "8931", "--no-browser", "--agreements",
                       "TEST/7/2024,RUN/999")
    assert code == 2 and "Avtalen 'RUN/999' finns inte i databasen" in err
    args = build_parser().parse_args(["serve", "--db", db, "--agreements", "TEST/7/2024"])
    assert _agreement(args) == ("TEST/7/2024", "TEST/7/2024")  # opens the first of the list
    args = build_parser().parse_args(["serve", "--db", db])
    assert _agreement(args) == ("RUN/305/2022", "")  # several stored, none named: the first
    args = build_parser().parse_args(["serve", "--db", db, "--agreement", "RUN/305/2022", "--agreements",
                                      "TEST/7/2024"])
    with pytest.raises(SamordningError, match="RUN/305/2022 är inte med i --agreements"):
        _agreement(args)


def test_the_difference_is_of_the_content_whatever_the_layout(folder: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    import tomllib

    from samordning.agreement_diff import field_diff
    from samordning.agreement_toml import to_toml

    original = RUN305.read_text(encoding="utf-8")
    raw = tomllib.loads(original)
    # The same content in the form's layout (no comments, its own order): no difference at all.
    assert field_diff(original, to_toml(raw)) == ""
    raw["areas"][0]["codes"] = ["7301-7399"]
    raw["areas"][1]["share"] = "0.4"
    raw["advances"].append({"due": dt.date(2023, 10, 1), "fraction": "1/4", "clause": "§6"})
    raw["areas"].append({"key": "kultur", "name": "Kultur", "share": "0.1", "codes": ["7303"]})
    del raw["annexes"]
    raw["signing"]["date"] = "2023-02-15"
    assert field_diff(original, to_toml(raw)).splitlines() == [
        'advances[2023-10-01]: tillagt due = 2023-10-01, fraction = "1/4", clause = "§6"',
        'areas[Social välfärd].codes: ["7301"] → ["7301-7399"]',
        'areas[Arbetsmarknad och utbildning].share: "0.5" → "0.4"',
        'areas[Kultur]: tillagt key = "kultur", name = "Kultur", share = "0.1", codes = ["7303"]',
        'annexes[Bilaga 1 Uppdragsbeskrivningar]: borttaget (var name = "Bilaga 1 Uppdragsbeskrivningar", '
        'referenced_in = "§4", available = false)',
        'signing.date: "" → "2023-02-15"',
    ]
    # An area renamed is found by its key and named by its new name; a party by its role.
    raw = tomllib.loads(original)
    raw["areas"][0]["name"] = "Välfärd"
    raw["parties"][1]["name"] = "Kommunförbundet"
    assert field_diff(original, to_toml(raw)).splitlines() == [
        'parties[beställare].name: "Kommunförbundet Jämtland Härjedalen" → "Kommunförbundet"',
        'areas[Välfärd].name: "Social välfärd" → "Välfärd"',
    ]
    # The CLI shows it: versions (the text's own diff only with --text-diff) and show.
    db = str(tmp_path / "s.db")
    raw = tomllib.loads(original)
    raw["areas"][0]["codes"] = ["7301", "7303"]
    relaid = tmp_path / "omskriven.toml"
    relaid.write_text(to_toml(raw), encoding="utf-8")
    assert run(capsys, "agreement", "import", str(relaid), "--db", db, "--user", "Anna Ek")[0] == 0
    code, out, _ = run(capsys, "agreement", "versions", "RUN/305/2022", "--db", db)
    assert code == 0
    assert out.splitlines()[-1] == '  areas[Social välfärd].codes: ["7301"] → ["7301", "7303"]'
    assert "# Agreement RUN/305/2022" not in out
    code, out, _ = run(capsys, "agreement", "versions", "RUN/305/2022", "--db", db, "--text-diff")
    assert code == 0
    assert '  -# Agreement RUN/305/2022 as data. Every fact carries the clause ("§N") it comes from.' in out
    code, out, _ = run(capsys, "agreement", "show", "RUN/305/2022", "--db", db)
    assert code == 0
    assert out.splitlines()[-2:] == ["Ändringar från version 1:",
                                     '  areas[Social välfärd].codes: ["7301"] → ["7301", "7303"]']


def test_an_edit_keeps_the_texts_comments_and_changes_only_its_values() -> None:
    import tomllib

    from samordning.agreement_toml import edit, to_toml

    original = RUN305.read_text(encoding="utf-8")
    raw = tomllib.loads(original)
    assert edit(original, raw) == original
    raw["contacts"]["performer"] = "Eva Berg"
    raw["advances"].append({"due": dt.date(2023, 10, 1), "fraction": "1/4", "clause": "§6"})
    del raw["areas"][1]
    raw["areas"][0]["share"] = "1"
    edited = edit(original, raw)
    assert tomllib.loads(edited) == tomllib.loads(to_toml(raw))
    # Every comment is still there, the one that introduces the areas after the (new) last advance.
    assert [line for line in edited.splitlines() if line.startswith("#")] == [
        line for line in original.splitlines() if line.startswith("#")]
    assert ('[[advances]]\ndue = 2023-07-01\nfraction = "1/4"\nclause = "§6"\n\n[[advances]]\ndue = 2023-10-01\n'
            'fraction = "1/4"\nclause = "§6"\n\n# Areas (§4).') in edited
    assert 'commissioner = ""\nperformer = "Eva Berg"' not in edited  # changed where it was, not moved
    assert 'clause = "§11"\nperformer = "Eva Berg"\ncommissioner = ""' in edited
    assert "Arbetsmarknad och utbildning" not in edited
