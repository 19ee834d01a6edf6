"""The agreement's code mapping: exact codes, ranges, prefixes and "*", overlaps refused when the agreement is
read, SIE dimensions by number — and the same answer from the rule in Python and as an SQL condition."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from samordning.agreement import Agreement, load_agreement
from samordning.errors import SamordningError
from samordning.followup import classify, counted
from samordning.mapping import condition, overlap, parse_rule

ROOT = Path(__file__).resolve().parent.parent
RUN_305 = ROOT / "data" / "avtal" / "RUN-305-2022.toml"

CODES = ["7301", "7302", "73", "73A", "730", "4000", "4010", "7999", "8000", "46362", "401", "0410", "", "x7301",
         " 7301 "]


@pytest.mark.parametrize(("rule", "expected"), [
    ("7301", {"7301", " 7301 "}),
    ("", {""}),
    ("73*", {"7301", "7302", "73", "73A", "730", " 7301 "}),
    ("4000-7999", {"7301", "7302", "4000", "4010", "7999", " 7301 "}),
    ("*", set(CODES)),
])
def test_a_rule_matches_the_codes_it_says(rule: str, expected: set[str]) -> None:
    parsed = parse_rule(rule)
    assert {c for c in CODES if parsed.matches(c.strip())} == expected


@pytest.mark.parametrize(("a", "b", "clash"), [
    ("7301", "7301", True), ("7301", "73*", True), ("7301", "7000-7400", True), ("7301", "7302", False),
    ("73*", "7*", True), ("73*", "74*", False), ("73*", "7000-7299", False), ("73*", "7300-7399", True),
    ("73*", "700-799", True),  # "730" is in both
    ("7*", "80-89", False), ("4000-4999", "4500-5999", True), ("4000-4999", "5000-5999", False),
    ("4000-4999", "400-499", False), ("*", "9", True), ("", "*", True), ("", "73*", False),
])
def test_overlap_is_found_when_some_code_falls_under_both(a: str, b: str, clash: bool) -> None:
    assert overlap(parse_rule(a), parse_rule(b)) is clash
    assert overlap(parse_rule(b), parse_rule(a)) is clash


def agreement_text(social: str, arbete: str, dimension: str = "project") -> str:
    text = RUN_305.read_text(encoding="utf-8")
    text = text.replace('codes = ["7301"]', f"codes = {social}", 1).replace('codes = ["7302"]', f"codes = {arbete}", 1)
    return text.replace('dimension = "project"', f'dimension = "{dimension}"', 1)


def load(tmp_path: Path, text: str) -> Agreement:
    path = tmp_path / "avtal.toml"
    path.write_text(text, encoding="utf-8")
    return load_agreement(path)


def refusal(tmp_path: Path, text: str) -> str:
    with pytest.raises(SamordningError) as caught:
        load(tmp_path, text)
    return caught.value.describe()


def test_overlapping_areas_are_refused_naming_both_codes(tmp_path: Path) -> None:
    message = refusal(tmp_path, agreement_text('["73*"]', '["7302"]'))
    assert ("fältet areas: koden '73*' i området social och koden '7302' i området arbete täcker samma koder; "
            "en kod får höra till ett område") in message


def test_every_row_and_another_area_overlap(tmp_path: Path) -> None:
    assert "koden '*' i området social" in refusal(tmp_path, agreement_text('["*"]', '["7302"]'))


@pytest.mark.parametrize(("codes", "said"), [
    ('["400-7999"]', "fältet areas[0].codes[0]: intervallet '400-7999' ska ha lika många siffror"),
    ('["7999-4000"]', "fältet areas[0].codes[0]: intervallet '7999-4000' börjar efter sitt slut"),
    ('["7301", "7*3"]', "fältet areas[0].codes[1]: '7*3': en asterisk får bara stå sist"),
])
def test_a_malformed_rule_is_named_by_its_field(tmp_path: Path, codes: str, said: str) -> None:
    assert said in refusal(tmp_path, agreement_text(codes, '["9"]'))


def test_an_unknown_dimension_lists_the_values_it_may_take(tmp_path: Path) -> None:
    message = refusal(tmp_path, agreement_text('["7301"]', '["7302"]', dimension="kostnadsbärare"))
    assert ("fältet mapping.dimension: ska vara något av 'project', 'cost_centre', 'activity', 'account', "
            "'counterpart' eller en SIE-dimension med nummer, till exempel 'sie:2'") in message


def rows() -> pd.DataFrame:
    """Six rows in 2023-02 (inside RUN/305/2022); amounts in öre."""
    return pd.DataFrame({
        "period": ["2023-02"] * 6,
        "account": ["4010", "5011", "46362", "7999", "3010", "6110"],
        "cost_centre": [""] * 6, "activity": [""] * 6, "counterpart": [""] * 6,
        "project": ["7301", "7302", "", "9100", "7301", "7310"],
        "dimensions": [{"2": "K1"}, {"2": "K2"}, {}, {"2": "K1", "7": "E9"}, {"2": "K1"}, None],
        "amount_ore": [100_000, 250_000, 40_000, 7_000, -500_000, 3_000],
        "row_kind": ["data"] * 6,
    })


def test_prefix_and_empty_code_classify_rows(tmp_path: Path) -> None:
    agreement = load(tmp_path, agreement_text('["73*"]', '[""]'))
    out = classify(rows(), agreement)
    # social: projects 7301 (100 000), 7302 (250 000), 9100? no; 7310 (3 000); 3010 is not a cost account.
    # arbete: the row without a project, 46362 (40 000). 9100 maps to no area.
    assert out["area"].tolist() == ["social", "social", "arbete", None, None, "social"]
    assert out["reason"].tolist() == ["", "", "", "no_area", "not_cost", ""]
    assert counted(out).groupby("area")["amount_ore"].sum().to_dict() == {"arbete": 40_000, "social": 353_000}


def test_a_range_of_accounts_and_every_row(tmp_path: Path) -> None:
    agreement = load(tmp_path, agreement_text('["4000-5999"]', '["6000-7999"]', dimension="account"))
    out = classify(rows(), agreement)
    # 4010 and 5011 social (350 000); 7999 and 6110 arbete (10 000); 46362 has five digits: no area.
    assert counted(out).groupby("area")["amount_ore"].sum().to_dict() == {"arbete": 10_000, "social": 350_000}


def test_every_row_of_the_file_is_the_agreements(tmp_path: Path) -> None:
    text = agreement_text('["*"]', '["7302"]')
    start = text.index("[[areas]]\nkey = \"arbete\"")
    one_area = text[:start] + text[text.index("[accounts]"):]
    everything = load(tmp_path, one_area.replace('share = "0.5"', 'share = "1"', 1))
    out = classify(rows(), everything)
    # Every cost row counts, with or without a project: all but the 3010 revenue row.
    assert counted(out)["amount_ore"].sum() == 100_000 + 250_000 + 40_000 + 7_000 + 3_000
    assert set(out["reason"]) == {"", "not_cost"}


def test_a_sie_dimension_by_number(tmp_path: Path) -> None:
    agreement = load(tmp_path, agreement_text('["K1"]', '["K2"]', dimension="sie:2"))
    out = classify(rows(), agreement)
    # K1: 100 000 + 7 000 (the 3010 row is revenue); K2: 250 000; rows without dimension 2 map nowhere.
    assert counted(out).groupby("area")["amount_ore"].sum().to_dict() == {"arbete": 250_000, "social": 107_000}
    assert out.loc[out["reason"] == "no_area", "account"].tolist() == ["46362", "6110"]


def _engines() -> list[sa.Engine]:
    engines = [sa.create_engine("sqlite://")]
    if url := os.environ.get("SAMORDNING_TEST_POSTGRES"):
        engines.append(sa.create_engine(url))
    return engines


@pytest.mark.parametrize("rule", ["7301", "", "73*", "4000-7999", "*", "0410", "400-499"])
@pytest.mark.parametrize("engine", _engines(), ids=lambda e: e.dialect.name)
def test_the_sql_condition_matches_the_same_codes(engine: sa.Engine, rule: str) -> None:
    table = sa.Table("mapping_codes", sa.MetaData(), sa.Column("code", sa.String(64)))
    parsed = parse_rule(rule)
    with engine.begin() as conn:
        table.drop(conn, checkfirst=True)
        table.create(conn)
        conn.execute(table.insert(), [{"code": c.strip()} for c in CODES] + [{"code": None}])
        found = conn.scalars(sa.select(table.c.code).where(condition(parsed, table.c.code))).all()
        table.drop(conn)
    expected = [c.strip() for c in CODES if parsed.matches(c.strip())]
    if parsed.kind == "all" or rule == "":
        expected.append(None)  # NULL is no code: "*" and "" take it
    assert sorted(found, key=str) == sorted(expected, key=str)


@pytest.mark.parametrize("engine", _engines(), ids=lambda e: e.dialect.name)
def test_the_sql_area_expression_classifies_as_pandas(engine: sa.Engine, tmp_path: Path) -> None:
    """The same rows, by a named column and by a SIE dimension, classified in SQL and in pandas."""
    table = sa.Table("mapping_rows", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("project", sa.String(64)), sa.Column("account", sa.String(64)),
                     sa.Column("dimensions", sa.JSON))
    frame = rows()
    from samordning.followup import mapped_codes
    from samordning.mapping import area_expression, area_of_codes
    with engine.begin() as conn:
        table.drop(conn, checkfirst=True)
        table.create(conn)
        conn.execute(table.insert(), [{"id": i, "project": r.project, "account": r.account,
                                       "dimensions": r.dimensions} for i, r in enumerate(frame.itertuples())])
        for dimension, areas in [("project", {"social": ["73*"], "arbete": [""]}),
                                 ("account", {"social": ["4000-5999"], "arbete": ["6000-7999"]}),
                                 ("sie:2", {"social": ["K1"], "arbete": ["K2"]}),
                                 ("sie:7", {"social": ["*"]})]:
            found = conn.execute(sa.select(area_expression(dimension, areas.items(), table)).select_from(table)
                                 .order_by(table.c.id)).scalars().all()
            codes = mapped_codes(frame, dimension)
            expected = [None if pd.isna(a) else a for a in codes.map(area_of_codes(pd.unique(codes), areas))]
            assert found == expected, dimension
        table.drop(conn)
    # By hand, sie:2: K1 on rows 0, 3, 4; K2 on row 1; rows 2 and 5 have no dimension 2.
    codes = mapped_codes(frame, "sie:2")
    areas = codes.map(area_of_codes(pd.unique(codes), {"social": ["K1"], "arbete": ["K2"]}))
    assert [None if pd.isna(a) else a for a in areas] == ["social", "arbete", None, "social", "social", None]
