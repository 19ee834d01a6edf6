"""Real exports, as they come (issue 18): a workbook whose period is only in its name, code and name in one cell,
SIE files as ERPs write them, and a CSV that lost its line endings — each with figures worked out by hand
from the files of tests/data/make_real_exports.py, through the core, the CLI and the upload view alike."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from samordning.agreement import Agreement, load_agreement
from samordning.cli import main
from samordning.errors import SamordningError
from samordning.followup import classify, counted
from samordning.imports import prepare_import
from samordning.ingest import file_period, period_from_file, read_export
from samordning.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))
import make_real_exports as real

ROOT = Path(__file__).resolve().parent.parent
RUN_305 = ROOT / "data" / "avtal" / "RUN-305-2022.toml"


def agreement_file(folder: Path, social: str = '["7301"]', arbete: str = '["7302"]',
                   dimension: str = "project") -> Path:
    """RUN/305/2022 with other area codes and mapping dimension."""
    text = RUN_305.read_text(encoding="utf-8")
    text = text.replace('codes = ["7301"]', f"codes = {social}", 1).replace('codes = ["7302"]', f"codes = {arbete}", 1)
    path = folder / "avtal.toml"
    path.write_text(text.replace('dimension = "project"', f'dimension = "{dimension}"', 1), encoding="utf-8")
    return path


def by_area(rows: object, agreement: Agreement) -> dict[str, int]:
    used = counted(classify(rows, agreement))  # type: ignore[arg-type]
    return {k: int(v) for k, v in used.groupby("area")["amount_ore"].sum().items()}


def write(folder: Path, made: tuple[str, bytes]) -> Path:
    path = folder / made[0]
    path.write_bytes(made[1])
    return path


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    for name in ("SAMORDNING_DB", "SAMORDNING_AGREEMENT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


# -- 1. a period for the whole file ---------------------------------------------------------------------------

def test_a_month_is_a_period_and_a_quarter_is_refused() -> None:
    assert [file_period(p) for p in ("2016-03", "201603", "2016 3", " 2016/03 ")] == ["2016-03"] * 4
    with pytest.raises(SamordningError, match=r"Perioden '2016Q1' är ett kvartal\. Ange en månad"):
        file_period("2016Q1")
    with pytest.raises(SamordningError, match="Perioden 'mars' kan inte läsas"):
        file_period("mars")


@pytest.mark.parametrize(("name", "titles", "period"), [
    ("Leverantörsfakturor 2016-03.xlsx", None, "2016-03"),
    ("utfall_201603.csv", None, "2016-03"),
    ("fakturor mars 2016.xlsx", None, "2016-03"),
    ("Fakturor_Mar-2016.xlsx", None, "2016-03"),
    ("export.xlsx", [["Leverantörsfakturor december 2022"], [None]], "2022-12"),
    ("export.xlsx", [["Period 2016-01 – 2016-03"]], None),          # two months: nothing proposed
    ("export 2016.xlsx", None, None),                               # a year is not a month
])
def test_the_period_proposed_from_the_file_name_or_title_rows(name: str, titles: list[list[object]] | None,
                                                               period: str | None) -> None:
    assert period_from_file(name, titles) == period


def test_a_workbook_without_dates_is_refused_naming_the_column_and_the_option() -> None:
    name, content = real.supplier_workbook()
    for columns in (None, {"ansvar": "RN1/FÖRVALTNING"}):
        with pytest.raises(SamordningError) as refused:
            read_export(content, name, columns=columns)
        error = refused.value
        assert error.message == (
            f"Filen {name} har ingen datum- eller periodkolumn (som Bokföringsdatum eller Period). Ange perioden för "
            "hela filen (--period ÅÅÅÅ-MM, eller Period i uppladdningen), eller koppla datumkolumnen för hand "
            "(--column datum=RUBRIK). Filen nämner perioden 2023-03; stämmer den, läs in med --period 2023-03 (i "
            "uppladdningen: bekräfta perioden).")
        assert "finns inte på någon rad" not in error.describe()
        assert [(p.sheet, p.row) for p in error.problems] == [("Fakturor", 3)]  # the header row, where it is
        assert (error.remedy, error.proposal) == ("period", "2023-03")


def test_a_period_for_the_whole_file_and_code_name_cells(tmp_path: Path) -> None:
    name, content = real.supplier_workbook()
    export = read_export(content, name, period="2023-03", columns={"ansvar": "RN1/FÖRVALTNING"})
    rows = export.rows
    assert export.period_given == "2023-03" and set(rows["period"]) == {"2023-03"}
    assert rows["booking_date"].isna().all()
    # KONTO "46362 Köp medicinskt material": the account is the code, its name the row's text (no text column).
    assert rows["account"].tolist() == ["46362", "64210", "46362", "46110", "30410", "65410", ""]
    assert rows.loc[0, "text"] == "Köp medicinskt material"
    assert rows["row_kind"].tolist() == ["data"] * 6 + ["total"]  # the Summa row (12 299 kr) is a total
    # By cost centre: Socialförvaltningen 1 250,50 + 899,00 − 250,50 = 1 899,00 kr;
    # Arbetsmarknadsförvaltningen 3 400,00 kr (its −5 000 is on 30410, revenue); Kommunstyrelsen maps nowhere.
    agreement = load_agreement(agreement_file(tmp_path, '["Socialförvaltningen"]', '["Arbetsmarknadsförvaltningen"]',
                                              "cost_centre"))
    assert by_area(rows, agreement) == {"social": 189_900, "arbete": 340_000}
    # By account range and prefix: 46000–46999 is 1 250,50 − 250,50 + 3 400,00 = 4 400,00 kr;
    # 64* and 65* are 899,00 + 12 000,00 = 12 899,00 kr.
    agreement = load_agreement(agreement_file(tmp_path, '["46000-46999"]', '["64*", "65*"]', "account"))
    assert by_area(rows, agreement) == {"social": 440_000, "arbete": 1_289_900}


def test_a_period_is_refused_for_a_file_with_its_own_dates() -> None:
    content = "Bokföringsdatum;Konto;Projekt;Belopp\n2023-01-31;5011;7301;100\n".encode()
    with pytest.raises(SamordningError, match=r"har en egen datum- eller periodkolumn \(Bokföringsdatum\)"):
        read_export(content, "med_datum.csv", period="2023-03")


def test_the_cli_imports_with_a_period_and_history_shows_it(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, path = str(cli_env / "s.db"), write(cli_env, real.supplier_workbook())
    avtal = str(agreement_file(cli_env, '["Socialförvaltningen"]', '["Arbetsmarknadsförvaltningen"]',
                               "cost_centre"))
    column = ["--column", "ansvar=RN1/FÖRVALTNING"]
    assert main(["import", "--db", db, "--agreement", avtal, *column, str(path)]) == 1
    assert "Filen nämner perioden 2023-03" in capsys.readouterr().err
    assert main(["import", "--db", db, "--agreement", avtal, *column, "--period", "2023Q1", str(path)]) == 2
    assert "är ett kvartal" in capsys.readouterr().err
    assert main(["import", "--db", db, "--agreement", avtal, *column, "--period", "2023-03", "--user", "Eva",
                 str(path)]) == 0
    out = capsys.readouterr().out
    # 7 rows read (6 invoices and the total row); 4 count, 1 899,00 + 3 400,00 = 5 299,00 kr.
    assert "7 rader lästa, 4 räknas som utfall, summa 5 299,00 kr" in out.replace("\u00a0", " ")
    assert "Perioden 2023-03 är angiven för hela filen (filen har inga datum)." in out
    assert main(["history", "--db", db, "--agreement", avtal, "--json"]) == 0
    [upload] = json.loads(capsys.readouterr().out)
    assert (upload["periods"], upload["period_given"], upload["amount_counted"]) == (["2023-03"], "2023-03", 5299.0)
    assert main(["history", "--db", db, "--agreement", avtal]) == 0
    assert "2023-03 (angiven för hela filen)" in capsys.readouterr().out


# -- 4. SIE as ERPs write it ----------------------------------------------------------------------------------

def test_unclosed_quotes_read_to_the_end_of_the_line() -> None:
    name, content = real.sie_unclosed_quotes()
    export = read_export(content, name)
    texts = export.rows.set_index("excel_row")["text"]
    assert (texts[10], texts[11], texts[16]) == ("Konsult steg 1", "Tåg Östersund", "Lön samordnare feb")
    assert export.warnings == ["3 rader har ett citattecken som inte stängs (rad 10, 11, 16); texten har lästs "
                               "till radens slut."]
    # 7301: 1 500 + 20 000 = 21 500 kr; 7302: 350 kr.
    assert by_area(export.rows, load_agreement(RUN_305)) == {"social": 2_150_000, "arbete": 35_000}


def test_an_unbalanced_voucher_is_named_by_series_and_number_and_refused() -> None:
    name, content = real.sie_unbalanced()
    with pytest.raises(SamordningError) as refused:
        read_export(content, name)
    error = refused.value
    assert error.message.startswith(f"SIE-filen {name} har 1 verifikation som inte balanserar; inget har sparats.")
    assert "rad som inte kan läsas" not in error.message
    # Series 1 nr 11 (line 13): 10 002 − 10 000 = 2,00 kr; series 1 nr 1 and series 11 nr 1 balance.
    assert [str(p) for p in error.problems] == [
        f"fil {name}, rad 13, kolumn 'belopp': verifikationen serie 1 nr 11 balanserar inte: summa 2,00 kr"]
    assert error.remedy == "accept_unbalanced"


def test_an_unbalanced_file_accepted_keeps_its_warning_in_history_and_report(
        cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, path = str(cli_env / "s.db"), write(cli_env, real.sie_unbalanced())
    avtal = str(RUN_305)
    assert main(["import", "--db", db, "--agreement", avtal, str(path)]) == 1
    assert "--accept-unbalanced" in capsys.readouterr().err
    assert main(["import", "--db", db, "--agreement", avtal, "--accept-unbalanced", str(path)]) == 0
    out = capsys.readouterr().out.replace("\u00a0", " ")
    # Costs: 4010 on 7301 2 000 kr, 5011 on 7302 8 000 kr; the 3010 revenue and the bank rows do not count.
    assert "6 rader lästa, 2 räknas som utfall, summa 10 000,00 kr" in out
    warning = ("Verifikationen serie 1 nr 11 balanserar inte: summa 2,00 kr (rad 13); filen lästes ändå, godkänt "
               "vid inläsningen.")
    assert f"Varning: {warning}" in out
    assert main(["history", "--db", db, "--agreement", avtal, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["warnings"] == [warning]
    assert main(["report", "--db", db, "--agreement", avtal, "--out", str(cli_env / "r.html")]) == 0
    html = (cli_env / "r.html").read_text(encoding="utf-8")
    assert f"Varning: {warning}" in html


@pytest.mark.parametrize(("encoding", "said"), [("utf-8", "UTF-8"), ("iso8859-15", "ISO-8859-15")])
def test_pc8_declared_over_other_bytes_is_read_in_the_encoding_it_is(encoding: str, said: str) -> None:
    name, content = real.sie_encoded(encoding)
    export = read_export(content, name)
    assert export.rows["text"].tolist() == ["Måltid Åre, Östersund", "Måltid Åre"]
    assert export.warnings == [f"Filen anger #FORMAT PC8 (teckenkodningen CP437) men är skriven i {said}; den har "
                               f"lästs som {said}."]


def test_every_sie_dimension_is_kept_and_can_be_mapped(tmp_path: Path) -> None:
    name, content = real.sie_dimensions()
    rows = read_export(content, name).rows
    assert rows["dimensions"].tolist() == [{"1": "100", "2": "K1", "6": "7301"}, {"2": "K2", "7": "E7"},
                                           {"2": "K1", "21": "X"}, None]
    assert rows["cost_centre"].tolist() == ["100", "", "", ""]  # #DIM 1 "Resultatenhet"
    # Dimension 2 (kostnadsbärare): K1 is 1 000 + 5 000 = 6 000 kr, K2 30 000 kr.
    assert by_area(rows, load_agreement(agreement_file(tmp_path, '["K1"]', '["K2"]', "sie:2"))) == \
        {"social": 600_000, "arbete": 3_000_000}
    # Dimension 7 (anställd) and 21 (free): E7 30 000 kr; X 5 000 kr.
    assert by_area(rows, load_agreement(agreement_file(tmp_path, '["E*"]', '["Z"]', "sie:7"))) == {"social": 3_000_000}
    assert by_area(rows, load_agreement(agreement_file(tmp_path, '["X"]', '["Y"]', "sie:21"))) == {"social": 500_000}


# -- 5. nothing read is refused -------------------------------------------------------------------------------

def test_a_csv_that_lost_its_line_endings_is_refused(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name, content = real.one_line_csv()
    with pytest.raises(SamordningError) as refused:
        read_export(content, name)
    assert refused.value.message == (
        f"Filen {name} har inga rader att läsa under rubrikraden (blad 'CSV', rad 1); inget har sparats. Har "
        "filens radslut gått förlorade, så att allt står på en rad?")
    db = str(cli_env / "s.db")
    assert main(["import", "--db", db, "--agreement", str(RUN_305), str(write(cli_env, (name, content)))]) == 1
    assert "inga rader att läsa" in capsys.readouterr().err
    assert Store.open(db).uploads(load_agreement(RUN_305).id).empty


def test_a_sie_dimension_mapping_is_refused_while_the_store_cannot_keep_dimensions(tmp_path: Path) -> None:
    """Until ledger_rows has a dimensions column (a migration after the engine's 0005), the stored figures of
    a "sie:N" agreement would differ from the preview: the import is refused instead."""
    agreement = load_agreement(agreement_file(tmp_path, '["K1"]', '["K2"]', "sie:2"))
    name, content = real.sie_dimensions()
    with pytest.raises(SamordningError, match="databasen sparar ännu inte radernas SIE-dimensioner"):
        prepare_import(Store.open(tmp_path / "p.db"), agreement, name, content)


# -- the upload view behaves as the CLI -----------------------------------------------------------------------

def test_the_upload_view_proposes_the_period_and_reads_as_the_cli(cli_env: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from samordning.ui.dashboard.app import App
    from samordning.ui.dashboard.tabs.upload import UploadTab

    avtal = agreement_file(cli_env, '["46000-46999"]', '["64*", "65*"]', "account")
    store = Store.open(cli_env / "ui.db")
    view = App(store, avtal, controller=True, user="kontroller").show(UploadTab)
    name, content = real.supplier_workbook()
    view.upload.deliver(name, content)
    assert "Filen nämner perioden 2023-03" in view.status.value and view.confirm.layout.display == "none"
    assert view.read_options.widget.layout.display == "flex"
    assert view.read_options.period.value == "2023-03"  # proposed from the file name: the controller confirms
    view.read_options.again.click()
    assert view.prepared is not None and view.prepared.result is not None
    shown = view.prepared.result.summary_data
    view.save.click()
    assert "Sparad som uppladdning 1" in view.status.value
    assert "Perioden 2023-03 angiven för hela filen" in view.history.value
    # The CLI with the same period reads the same: 46000–46999 is 4 400,00 kr, 64*/65* 12 899,00 kr.
    db = str(cli_env / "cli.db")
    assert main(["import", "--db", db, "--agreement", str(avtal), "--period", "2023-03",
                 str(write(cli_env, (name, content)))]) == 0
    [upload] = Store.open(db).uploads(load_agreement(avtal).id).itertuples()
    assert upload.summary == shown and shown["amount_counted_ore"] == 440_000 + 1_289_900
    assert shown["period_given"] == "2023-03"
    capsys.readouterr()


def test_the_upload_view_accepts_an_unbalanced_sie_file_when_ticked(tmp_path: Path) -> None:
    from samordning.ui.dashboard.app import App
    from samordning.ui.dashboard.tabs.upload import UploadTab

    store = Store.open(tmp_path / "ui.db")
    view = App(store, RUN_305, controller=True, user="kontroller").show(UploadTab)
    view.upload.deliver(*real.sie_unbalanced())
    assert "1 verifikation som inte balanserar" in view.status.value
    assert view.read_options.accept.layout.display == "flex" and view.read_options.period.layout.display == "none"
    view.read_options.accept.value = True
    view.read_options.again.click()
    view.save.click()
    assert "Sparad som uppladdning 1" in view.status.value
    assert "Varning: Verifikationen serie 1 nr 11 balanserar inte: summa 2,00 kr (rad 13)" in view.history.value
    [upload] = store.uploads(load_agreement(RUN_305).id).itertuples()
    assert upload.summary["amount_counted_ore"] == 1_000_000  # 2 000 + 8 000 kr, as the CLI reads it


@pytest.mark.parametrize(("name", "column"), [("Project", "project"), ("Cost center", "cost_centre"),
                                              ("Department", "cost_centre"), ("Kostnadsbärare", None)])
def test_dimensions_named_in_english_fill_their_column(name: str, column: str | None) -> None:
    file, content = real.sie_dimensions()
    content = content.replace('#DIM 2 "Kostnadsbärare"'.encode("cp437"), f'#DIM 2 "{name}"'.encode("cp437"))
    content = content.replace(b'#DIM 6 "Projekt"', b'#DIM 6 "Sexan"')  # so that dimension 2 may be the project
    rows = read_export(content, file).rows
    assert rows["dimensions"][1] == {"2": "K2", "7": "E7"}  # kept by number whatever its name
    if column is not None:
        assert rows[column].tolist() == ["K1", "K2", "K1", ""]
    else:
        assert "K1" not in set(rows["cost_centre"]) | set(rows["project"])


def test_the_sql_path_classifies_by_the_same_rules(tmp_path: Path) -> None:
    """Ranges and prefixes through the engine's SQL sums: the same areas and öre as classify in pandas."""
    from samordning.imports import classified_rows, import_export
    from samordning.queries import summary

    agreement = load_agreement(agreement_file(tmp_path, '["46000-46999"]', '["64*", "65*"]', "account"))
    store = Store.open(tmp_path / "sql.db")
    name, content = real.supplier_workbook()
    import_export(store, agreement, name, content, user="test", period="2023-03")
    sums = summary(store.engine, agreement)
    in_sql = {k: int(v) for k, v in sums[sums["reason"] == ""].groupby("area")["amount_ore"].sum().items()}
    assert in_sql == by_area(classified_rows(store, agreement).drop(columns=["area", "reason", "quarter"]), agreement)
    assert in_sql == {"social": 440_000, "arbete": 1_289_900}  # 4 400,00 kr and 12 899,00 kr, by hand above
