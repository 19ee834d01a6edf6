"""The *Avtal* tab: the portfolio of stored agreements, the versions of the one shown, and the controllers' editor
that saves a new version — after which every tab's figures follow it and the earlier version is kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from samordning import agreements
from samordning.agreement import load_agreement
from samordning.demo import write_examples
from samordning.imports import import_export
from samordning.store import Store
from samordning.ui.dashboard.app import App
from samordning.ui.dashboard.tabs.agreements import AgreementForm, AgreementsTab

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT = ROOT / "data" / "avtal" / "RUN-305-2022.toml"


def text(html: str) -> str:
    plain = re.sub(r"<[^>]+>", " ", html).replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", " ", plain).strip()


def button(widget: object, description: str) -> object:
    for child in getattr(widget, "children", ()):
        if getattr(child, "description", None) == description and hasattr(child, "click"):
            return child
        found = button(child, description)
        if found is not None:
            return found
    return None


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.delenv("SAMORDNING_AVTAL", raising=False)
    store = Store.open(tmp_path / "demo.db")
    agreement = load_agreement(AGREEMENT)
    for path in write_examples(tmp_path / "exempel"):
        import_export(store, agreement, path.name, path.read_bytes(), user="test")
    return store


def test_a_controller_saves_a_new_version_and_the_figures_follow_it(store: Store) -> None:
    app = App(store, AGREEMENT.resolve(), controller=True, user="Anna Ek")
    tab = app.show(AgreementsTab)
    assert "RUN/305/2022 (visas) Primärkommunal samordning 2023 v1 utkast" in text(tab.portfolio.value)
    by_area = app.state.quarters_by_area
    arbete = int(by_area.loc[by_area["area"] == "arbete", "actual_ore"].sum())
    assert int(app.state.quarters["actual_ore"].sum()) > arbete > 0
    form = tab.form(AgreementForm)
    assert form is not None and form.text.value == AGREEMENT.read_text(encoding="utf-8")
    form.text.value = form.text.value.replace('codes = ["7301"]', 'codes = ["7399"]')
    form.reason.value = "Rätt projektkod för Social välfärd"
    button(form.widget, "Spara ny version").click()
    assert "Version 2 av RUN/305/2022 är sparad." in text(form.status.value)
    # Every figure follows version 2: Social välfärd's rows (project 7301) no longer map to an area.
    assert int(app.state.quarters["actual_ore"].sum()) == arbete
    shown = text(tab.versions.value)
    assert "Version 2 · utkast Anna Ek" in shown and "Rätt projektkod för Social välfärd" in shown
    assert '-codes = ["7301"]' in tab.versions.value.replace("&quot;", '"')
    assert agreements.version(store, "RUN/305/2022", 1).text == AGREEMENT.read_text(encoding="utf-8")
    # A bad edit is refused with the file loader's message, and nothing is stored.
    form.text.value = form.text.value.replace('total = "5319000.00"', 'total = "fem miljoner"')
    button(form.widget, "Spara ny version").click()
    assert "fältet compensation.total: ange ett belopp i kronor med högst två decimaler" in text(form.status.value)
    assert len(agreements.versions(store, "RUN/305/2022")) == 2


def test_the_council_sees_the_portfolio_but_no_editor(store: Store) -> None:
    app = App(store, AGREEMENT.resolve(), controller=False)
    tab = app.show(AgreementsTab)
    assert tab.form(AgreementForm) is None
    assert "Version 1 · utkast" in text(tab.versions.value)
