"""The *Avtal* tab: the portfolio (sortable, the next report due, one click opens an agreement, limited to the
agreements a view may show), the versions of the agreement shown, and the controllers' form — an agreement created
blank, as a copy or from an uploaded file, changed field by field with the file loader's messages beside the
fields, saved as a new version after which every tab's figures follow it and the earlier version is kept."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from test_dashboard import button

from samordning import agreements
from samordning.agreement import load_agreement
from samordning.demo import write_examples
from samordning.errors import SamordningError
from samordning.imports import import_export
from samordning.store import Store
from samordning.ui.dashboard.app import App
from samordning.ui.dashboard.tabs.agreement_form import AgreementForm
from samordning.ui.dashboard.tabs.agreements import AgreementsTab

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT = ROOT / "data" / "avtal" / "RUN-305-2022.toml"
SECOND = ROOT / "tests" / "data" / "avtal" / "TEST-7-2024.toml"


def text(markup: str) -> str:
    plain = re.sub(r"<[^>]+>", " ", markup).replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", " ", html.unescape(plain)).strip()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.delenv("SAMORDNING_AVTAL", raising=False)
    store = Store.open(tmp_path / "demo.db")
    agreement = load_agreement(AGREEMENT)
    for path in write_examples(tmp_path / "exempel"):
        import_export(store, agreement, path.name, path.read_bytes(), user="test")
    return store


def controller(store: Store) -> tuple[App, AgreementsTab, AgreementForm]:
    app = App(store, AGREEMENT.resolve(), controller=True, user="Anna Ek")
    tab = app.show(AgreementsTab)
    form = tab.form(AgreementForm)
    assert isinstance(form, AgreementForm)
    return app, tab, form


def area_codes(form: AgreementForm, key: str) -> object:
    return next(row["codes"] for row in form.area_rows if row["key"].value == key)


def test_editing_an_areas_codes_saves_a_version_and_the_figures_follow(store: Store) -> None:
    app, tab, form = controller(store)
    assert "RUN/305/2022 (visas) Primärkommunal samordning 2023 v1 utkast" in text(tab.portfolio.value)
    by_area = app.state.quarters_by_area
    arbete = int(by_area.loc[by_area["area"] == "arbete", "actual_ore"].sum())
    assert int(app.state.quarters["actual_ore"].sum()) > arbete > 0
    # The form holds the version in force; unchanged, it is the file's text as written.
    assert form.fields["compensation.total"][2].value == "5319000.00"
    assert area_codes(form, "social").value == "7301"
    assert form.text() == AGREEMENT.read_text(encoding="utf-8")
    area_codes(form, "social").value = "7399"  # Social välfärd's project code: one no row carries
    form.reason.value = "Rätt projektkod för Social välfärd"
    button(form.widget, "Spara ny version").click()
    assert "Version 2 av RUN/305/2022 är sparad." in text(form.status.value)
    # Every figure follows version 2: Social välfärd's rows (project 7301) no longer map to an area.
    assert int(app.state.quarters["actual_ore"].sum()) == arbete
    shown = text(tab.versions.value)
    assert "Version 2 · utkast Anna Ek" in shown and "Rätt projektkod för Social välfärd" in shown
    # The stored text is the file's with only that value changed: its comments and layout stay.
    v1_text = AGREEMENT.read_text(encoding="utf-8")
    assert agreements.version(store, "RUN/305/2022", 2).text == v1_text.replace('codes = ["7301"]', 'codes = ["7399"]')
    # The difference shown is of the content: the one field changed.
    assert agreements.version(store, "RUN/305/2022", 2).diff == 'areas[Social välfärd].codes: ["7301"] → ["7399"]'
    assert 'Ändrade fält: areas[Social välfärd].codes: ["7301"] → ["7399"] Version 1' in text(tab.versions.value)
    assert agreements.version(store, "RUN/305/2022", 1).text == AGREEMENT.read_text(encoding="utf-8")
    assert area_codes(form, "social").value == "7399"  # the form now holds version 2
    # Opened again from its file, the agreement shows version 2: the file's text is version 1, not new.
    again = App(store, AGREEMENT.resolve(), controller=False)
    assert again.state.agreement.area("social").codes == ("7399",)


def test_a_bad_field_gets_the_file_loaders_message_beside_it_and_nothing_is_stored(store: Store,
                                                                                    tmp_path: Path) -> None:
    _app, _tab, form = controller(store)
    form.fields["compensation.total"][2].value = "fem miljoner"
    form.fields["validity.end"][2].value = "2023-13-01"
    area_codes(form, "arbete").value = "7302, 73*"
    button(form.widget, "Spara ny version").click()
    bad = tmp_path / "fel.toml"
    bad.write_text(AGREEMENT.read_text(encoding="utf-8").replace('total = "5319000.00"', 'total = "fem miljoner"'),
                   encoding="utf-8")
    with pytest.raises(SamordningError) as from_file:
        load_agreement(bad)
    [loader_says] = [p.message for p in from_file.value.problems]
    assert text(form.errors["compensation.total"].value) == loader_says
    assert loader_says == "fältet compensation.total: ange ett belopp i kronor med högst två decimaler"
    assert text(form.errors["validity.end"].value) == "fältet validity.end: ska vara ett datum, till exempel 2023-01-01"
    assert "koden '7301' i området social och koden '73*' i området arbete täcker samma koder" in text(
        form.errors["areas"].value)
    assert "Inget har sparats" in text(form.status.value)
    assert text(form.errors["title"].value) == ""
    assert len(agreements.versions(store, "RUN/305/2022")) == 1


def test_a_blank_agreement_names_every_missing_field(store: Store) -> None:
    _app, _tab, form = controller(store)
    form.base_choice.value = "blank"
    button(form.widget, "Fyll i formuläret").click()
    assert form.fields["id"][2].value == "" and form.fields["accounts.cost_classes"][2].value == "4, 5, 6, 7"
    button(form.widget, "Spara ny version").click()
    assert text(form.errors["id"].value) == "fältet id: får inte vara tomt"
    assert text(form.errors["validity.start"].value) == ("fältet validity.start: ska vara ett datum, till exempel "
                                                         "2023-01-01")
    assert text(form.errors["parties[0].name"].value) == "fältet parties[0].name: får inte vara tomt"
    assert agreements.agreement_ids(store) == ["RUN/305/2022"]


def test_a_copy_becomes_a_second_agreement_shown_at_once_and_in_the_portfolio(store: Store) -> None:
    app, tab, form = controller(store)
    form.base_choice.value = "copy:RUN/305/2022"
    button(form.widget, "Fyll i formuläret").click()
    assert form.fields["id"][2].value == "" and form.fields["status"][2].value == "utkast"
    form.fields["id"][2].value = "RUN/306/2024"
    form.fields["short_title"][2].value = "Samordning 2024"
    form.fields["validity.start"][2].value = "2024-01-01"
    form.fields["validity.end"][2].value = "2024-12-31"
    form.fields["compensation.total"][2].value = "4000000"
    form.advances.value = "2024-01-01 1/4 §6\n2024-04-01 1/4 §6\n2024-07-01 1/4 §6\n2024-10-01 1000000 kr §6"
    button(form.widget, "Spara ny version").click()
    assert "Version 1 av RUN/306/2024 är sparad." in text(form.status.value)
    assert app.state.agreement.id == "RUN/306/2024"  # opened at once
    a = app.state.agreement
    assert [a.advance_ore(x) for x in a.advances] == [100_000_000] * 4  # 1/4 of 4 000 000 kr, and 1 000 000 kr
    assert int(app.state.quarters["actual_ore"].sum()) == 0  # no exports of 2024 yet
    listed = text(tab.portfolio.value)
    assert "RUN/305/2022 Primärkommunal samordning 2023 v1" in listed
    assert "RUN/306/2024 (visas) Samordning 2024 v1 utkast 2024-01-01–2024-12-31 4 000 000 kr" in listed
    assert agreements.version(store, "RUN/305/2022").number == 1  # the original is untouched


def test_an_uploaded_file_fills_the_form_and_is_stored_as_written(store: Store) -> None:
    app, _tab, form = controller(store)
    form.fill_from_upload([{"name": SECOND.name, "content": SECOND.read_bytes()}])
    assert form.fields["id"][2].value == "TEST/7/2024" and len(form.area_rows) == 3
    button(form.widget, "Spara ny version").click()
    assert "Version 1 av TEST/7/2024 är sparad." in text(form.status.value)
    assert agreements.version(store, "TEST/7/2024").text == SECOND.read_text(encoding="utf-8")
    assert app.state.agreement.id == "TEST/7/2024"
    # It is signed: a change without a reason is refused, with one it is version 2.
    form.fields["dispute.settlement_rule"][2].value = "Regleras vid årsskiftet"
    button(form.widget, "Spara ny version").click()
    assert "Version 1 av avtal TEST/7/2024 är undertecknad (2023-12-01)" in text(form.status.value)
    assert len(agreements.versions(store, "TEST/7/2024")) == 1
    form.reason.value = "Tilläggsavtal om reglering"
    form.fields["contacts.performer"][2].value = ""  # §11's contact removed: a finding the change introduces
    button(form.widget, "Spara ny version").click()
    assert "Version 2 av TEST/7/2024 är sparad." in text(form.status.value)
    assert "Ny iakttagelse [§10] Kontaktpersoner saknas" in text(form.status.value)
    assert agreements.version(store, "TEST/7/2024").reason == "Tilläggsavtal om reglering"


def test_the_portfolio_sorts_opens_and_names_the_next_report(store: Store) -> None:
    agreements.import_file(store, SECOND, user="Anna Ek")
    app, tab, _form = controller(store)
    assert text(tab.portfolio.value).index("RUN/305/2022") < text(tab.portfolio.value).index("TEST/7/2024")
    tab.sort.value = "compensation"
    tab.descending.value = True
    assert text(tab.portfolio.value).index("RUN/305/2022") < text(tab.portfolio.value).index("TEST/7/2024")
    tab.descending.value = False  # 1 200 000 kr before 5 319 000 kr
    assert text(tab.portfolio.value).index("TEST/7/2024") < text(tab.portfolio.value).index("RUN/305/2022")
    # No report finalized yet: the first quarter's is due next.
    assert "Kv 1 2023 (efter 2023-03-31)" in text(tab.portfolio.value)
    assert "Kv 1 2024 (efter 2024-03-31)" in text(tab.portfolio.value)
    opener = button(tab.open_buttons, "Öppna TEST/7/2024")
    assert opener is not None and not opener.disabled
    opener.click()
    assert app.state.agreement.id == "TEST/7/2024"
    assert "TEST/7/2024 (visas)" in text(app.tab(AgreementsTab).portfolio.value)


def test_a_view_limited_to_some_agreements_shows_only_them(store: Store) -> None:
    agreements.import_file(store, SECOND, user="Anna Ek")
    council = App(store, "TEST/7/2024", only=["TEST/7/2024"])
    tab = council.show(AgreementsTab)
    assert tab.form(AgreementForm) is None
    assert "TEST/7/2024" in text(tab.portfolio.value) and "RUN/305/2022" not in text(tab.portfolio.value)
    assert council.selector.layout.display == "none"
    with pytest.raises(SamordningError, match="RUN/305/2022"):
        council.select("RUN/305/2022")
    with pytest.raises(SamordningError, match="hör inte till"):
        App(store, "RUN/305/2022", only=["TEST/7/2024"])
    both = App(store, "TEST/7/2024")
    assert list(both.selector.options) == [("RUN/305/2022", "RUN/305/2022"), ("TEST/7/2024", "TEST/7/2024")]


def test_the_council_sees_the_portfolio_and_versions_but_no_form(store: Store) -> None:
    app = App(store, AGREEMENT.resolve(), controller=False)
    tab = app.show(AgreementsTab)
    assert tab.form(AgreementForm) is None
    assert "Version 1 · utkast" in text(tab.versions.value)


def test_a_finalized_report_keeps_its_versions_figures_after_a_change(store: Store, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from samordning.cli import main
    from samordning.ui.dashboard.tabs.report import ReportTab

    app, _tab, form = controller(store)
    actual_v1 = int(app.state.quarters["actual_ore"].sum())
    assert main(["report", "--db", store.url, "--agreement", "RUN/305/2022", "--finalize", "--presented",
                 "2023-10-12", "--quarter", "2023Q3", "--out", str(tmp_path / "r.html"), "--user", "anna"]) == 0
    area_codes(form, "social").value = "7399"
    form.reason.value = "Rätt projektkod"
    button(form.widget, "Spara ny version").click()
    assert int(app.state.quarters["actual_ore"].sum()) < actual_v1
    finals = text(app.show(ReportTab).finals.value)
    from samordning.money import format_kr

    assert f"v1 {text(format_kr(actual_v1))} gäller" in finals  # as presented, with version 1's figures
    capsys.readouterr()


def test_an_unreadable_upload_is_refused_with_the_loaders_message(store: Store) -> None:
    import datetime as dt

    _app, _tab, form = controller(store)
    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    form.upload.value = ({"name": "fel.toml", "type": "", "size": 9, "content": b"id = \xff\xfe",
                          "last_modified": when},)
    assert "Avtalsfilen fel.toml är inte UTF-8-text." in text(form.status.value)
    form.upload.value = ({"name": "trasig.toml", "type": "", "size": 9, "content": b"id = [",
                          "last_modified": when},)
    assert "Avtalsfilen trasig.toml är inte giltig TOML" in text(form.status.value)
    assert form.fields["id"][2].value == "RUN/305/2022"  # the form still holds the version in force


def test_the_page_opens_on_the_portfolio_when_it_shows_more_than_one_agreement(store: Store) -> None:
    from samordning.ui.dashboard.tabs.overview import OverviewTab

    # One agreement: Översikt, as always; only it is built.
    one = App(store, AGREEMENT.resolve(), controller=True, user="Anna Ek")
    assert one.titles[one.tabs.selected_index] == "Översikt" and list(one.built) == [0]
    assert 'class="on">Översikt<' in one.static_html()
    agreements.import_file(store, SECOND, user="Anna Ek")
    for role in ("controller", "council"):
        two = App(store, AGREEMENT.resolve(), controller=role == "controller", user="Anna Ek")
        assert two.titles[two.tabs.selected_index] == "Avtal"
        assert list(two.built) == [two.kinds.index(AgreementsTab)]  # the overview is built when first shown
        tab = two.tab(AgreementsTab)
        listed = text(tab.portfolio.value)
        assert "RUN/305/2022 (visas)" in listed and "TEST/7/2024 Hemtjänst 2024 v1 undertecknat" in listed
        assert (tab.form(AgreementForm) is None) == (role == "council")  # the council's portfolio is read-only
        # The page's static copy (drawn before the widgets connect) shows the same start tab.
        assert 'class="on">Avtal<' in two.static_html() and "TEST/7/2024" in two.static_html()
        assert two.show(OverviewTab).cards.value  # and Översikt is one click away
    # A view limited to one of them opens on Översikt.
    limited = App(store, "TEST/7/2024", only=["TEST/7/2024"])
    assert limited.titles[limited.tabs.selected_index] == "Översikt"
    # A page whose address names an agreement (a bookmark) opens on that agreement's Översikt, two or not.
    named = App(store, "TEST/7/2024")
    assert named.titles[named.tabs.selected_index] == "Avtal"
    named.open_start(named=True)
    assert named.titles[named.tabs.selected_index] == "Översikt" and "TEST/7/2024" in named.header.value
    named.open_start()
    assert named.titles[named.tabs.selected_index] == "Avtal"


def test_the_portfolio_reads_agreements_stored_by_another_process_when_shown_again(store: Store) -> None:
    from samordning.ui.dashboard.tabs.overview import OverviewTab

    first = App(store, AGREEMENT.resolve(), controller=True, user="Anna Ek")
    tab = first.show(AgreementsTab)
    assert "TEST/7/2024" not in text(tab.portfolio.value)
    # Another process (its own Store on the same SQLite file) stores a second agreement.
    other = Store.open(store.url)
    agreements.save_version(other, SECOND.read_text(encoding="utf-8"), name=SECOND.name, user="Per Lind")
    assert "TEST/7/2024" not in text(tab.portfolio.value)  # nothing reads the store by itself
    first.show(OverviewTab)
    first.show(AgreementsTab)  # selected again: read again
    assert "TEST/7/2024 Hemtjänst 2024 v1 undertecknat 2024-01-01–2024-12-31 1 200 000 kr" in text(tab.portfolio.value)
    assert button(tab.open_buttons, "Öppna TEST/7/2024") is not None
    assert [v for _, v in first.selector.options] == ["RUN/305/2022", "TEST/7/2024"]
    # A new version stored elsewhere, of the agreement shown: "Uppdatera" reloads it, figures and all.
    changed = agreements.version(other, "RUN/305/2022").text.replace('codes = ["7301"]', 'codes = ["7399"]')
    agreements.save_version(other, changed, name="andrad.toml", user="Per Lind", reason="Ny projektkod")
    arbete = int(first.state.quarters_by_area.query("area == 'arbete'")["actual_ore"].sum())
    button(tab.widget, "Uppdatera").click()
    assert "RUN/305/2022 (visas) Primärkommunal samordning 2023 v2 utkast" in text(first.tab(AgreementsTab)
                                                                                   .portfolio.value)
    assert int(first.state.quarters["actual_ore"].sum()) == arbete  # Social välfärd's 7301 no longer counts
    assert 'areas[Social välfärd].codes: ["7301"] → ["7399"]' in text(first.tab(AgreementsTab).versions.value)
