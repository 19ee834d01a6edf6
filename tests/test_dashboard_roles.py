"""The three audiences (issue 17, item 3) in plain pytest: the council's view holds sums only, with no row and no
row export anywhere; the insight view (§8) shows the rows and their export and stores nothing; the controllers'
view has everything. Figures worked out by hand from the demo's ledger (samordning/demo.py)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import ipywidgets as ipw
import pytest
from test_dashboard import button, text

from samordning.agreement import Agreement, load_agreement
from samordning.cli import main
from samordning.demo import write_examples
from samordning.imports import import_export
from samordning.store import Store
from samordning.ui import ROLE_ENV, Role
from samordning.ui.dashboard.app import TABS, App, tabs_for
from samordning.ui.dashboard.tabs.months import MonthsTab, month_class_table
from samordning.ui.dashboard.tabs.quarters import QuartersTab
from samordning.ui.dashboard.tabs.report import ReportTab
from samordning.ui.dashboard.tabs.transactions import TransactionsTab
from samordning.ui.dashboard.tabs.upload import UploadTab

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT = ROOT / "data" / "avtal" / "RUN-305-2022.toml"
# What a write is, as a button says it: none of them in a view that does not write.
WRITE_BUTTONS = {"Spara i uppföljningen", "Låt den gälla igen", "Spara kommentar", "Spara återrapportering",
                 "Registrera betalning", "Registrera innehållande", "Släpp innehållandet", "Spara underskrift",
                 "Fastställ rapporten"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    tmp = tmp_path_factory.mktemp("roles")
    store = Store.open(tmp / "demo.db")
    agreement = load_agreement(AGREEMENT)
    for path in write_examples(tmp / "exempel"):
        import_export(store, agreement, path.name, path.read_bytes(), user="test")
    return store


@pytest.fixture
def agreement() -> Agreement:
    return load_agreement(AGREEMENT)


def make_app(store: Store, role: Role) -> App:
    return App(store, AGREEMENT.resolve(), role=role, user="kontroller")


def widgets(root: ipw.Widget) -> Iterator[ipw.Widget]:
    yield root
    for child in getattr(root, "children", ()):
        yield from widgets(child)


def everything_shown(app: App) -> str:
    """Every text of every tab of a view, as drawn: HTML values, labels, options, buttons, after each tab renders
    (every tab built and rendered, every choice of its dropdowns tried)."""
    parts = []
    for index in range(len(app.kinds)):
        app.tabs.selected_index = index
        for w in widgets(app.view(index).widget):
            if isinstance(w, ipw.Dropdown):
                for value in [v for _, v in w.options]:
                    w.value = value  # each choice redraws what depends on it
                    parts += [str(x.value) for x in widgets(app.view(index).widget) if isinstance(x, ipw.HTML)]
        parts += [str(getattr(w, attr)) for w in widgets(app.widget)
                  for attr in ("value", "description", "placeholder", "tooltip")
                  if isinstance(getattr(w, attr, None), str)]
        parts += [str(label) for w in widgets(app.widget) if isinstance(w, ipw.Dropdown) for label, _ in w.options]
    return text("\n".join(parts))


def test_each_role_has_its_tabs() -> None:
    titles = {role: [k.title for k in tabs_for(role)] for role in Role}
    assert titles[Role.COUNCIL] == ["Översikt", "Kvartal", "Områden", "Månader", "Kommentarer",
                                    "Betalningar och tvist", "Rapport", "Avtal"]
    assert titles[Role.INSIGHT] == ["Översikt", "Kvartal", "Områden", "Månader", "Transaktioner", "Kommentarer",
                                    "Betalningar och tvist", "Rapport", "Avtal"]
    assert tabs_for(Role.CONTROLLER) == TABS
    # One place decides: who sees rows, who writes.
    assert [r for r in Role if r.sees_rows] == [Role.INSIGHT, Role.CONTROLLER]
    assert [r for r in Role if r.writes] == [Role.CONTROLLER]
    assert TransactionsTab.roles == {r for r in Role if r.sees_rows}
    assert UploadTab.roles == {r for r in Role if r.writes}
    # What serve puts in the environment, read back; anything else is the council's view (the least shown).
    assert [Role.named(r.value) for r in Role] == list(Role)
    assert Role.named(None) is Role.named("admin") is Role.COUNCIL
    assert ROLE_ENV == "SAMORDNING_ROLE"


def test_a_tab_is_never_built_for_a_role_it_is_not_for(store: Store) -> None:
    council = make_app(store, Role.COUNCIL)
    with pytest.raises(PermissionError):
        TransactionsTab(council.ctx)
    with pytest.raises(KeyError):
        council.tab(TransactionsTab)
    insight = make_app(store, Role.INSIGHT)
    with pytest.raises(PermissionError):
        UploadTab(insight.ctx)


def test_the_header_says_which_view_it_is(store: Store) -> None:
    shown = {role: text(make_app(store, role).role_badge.value) for role in Role}
    assert shown[Role.COUNCIL].startswith("Samverkansrådets vy: summor per kvartal, område, månad och kontoklass")
    assert shown[Role.INSIGHT].startswith("Insynsvy (§8): raderna bakom varje siffra; endast läsning")
    assert shown[Role.CONTROLLER].startswith("Controllervy: kan ladda upp och ändra")


def test_the_councils_view_shows_no_row_anywhere(store: Store) -> None:
    """Every tab, every choice of every dropdown: no row text, no voucher, no file row number, no export."""
    council = make_app(store, Role.COUNCIL)
    shown = everything_shown(council)
    assert "Månader" in shown and "Utfall per månad och kontoklass" in shown  # the walk did reach the tabs
    for row_text in ("Månadslön", "PO-pålägg", "Lokalhyra", "Resa Östersund", "Konsult: behovsanalys", "V10001"):
        assert row_text not in shown
    assert not re.search(r"\.xlsx:\d+", shown)  # a source row ("huvudbok_2023_kv1.xlsx:12")
    assert "Exportera" not in shown and "Excel" not in shown
    assert not [w for w in widgets(council.widget) if isinstance(w, ipw.Button) and w.description in WRITE_BUTTONS]
    assert [f for v in council.views for f in v.forms] == []
    # The same walk over the insight view finds the rows: the walk would have seen them.
    insight = everything_shown(make_app(store, Role.INSIGHT))
    assert "Månadslön 01" in insight and re.search(r"huvudbok_2023_kv1\.xlsx:\d+", insight)


def test_the_insight_view_shows_rows_and_their_export_and_writes_nothing(store: Store) -> None:
    insight = make_app(store, Role.INSIGHT)
    tx = insight.show(TransactionsTab)
    tx.text.value = "Månadslön 01"
    # January's salaries: 48 500 + 46 200 (Social välfärd) + 47 800 + 45 900 (Arbetsmarknad) = 188 400 kr.
    assert "4 rader, summa 188 400,00 kr" in text(tx.summary.value)
    assert "Månadslön 01" in text(tx.table.value) and "48 500,00 kr" in text(tx.table.value)
    tx.export.click()
    assert 'download="transaktioner-' in tx.status.value and "Spara 4 rader som Excel" in text(tx.status.value)
    for view in insight.views:
        assert view.forms == []
    assert not [w for w in widgets(insight.widget) if isinstance(w, ipw.Button) and w.description in WRITE_BUTTONS]
    with pytest.raises(KeyError):
        insight.tab(UploadTab)
    report = insight.show(ReportTab)
    assert [suffix for _, suffix in report.format.options] == [".pdf", ".xlsx", ".html"]


def test_months_table_adds_up_to_the_quarters(store: Store, agreement: Agreement) -> None:
    app = make_app(store, Role.COUNCIL)
    social, labour = (a.key for a in agreement.areas)
    s = app.state
    # By hand: January, Social välfärd, class 5: (48 500 + 46 200) × 1,3915 (salary and PO-pålägg) = 131 775,05 kr;
    # May, Arbetsmarknad, class 5, one post vacant: 47 800 × 1,3915 = 66 513,70 kr; class 4 in May its consultant,
    # 187 500 kr, and in June the credit note, −12 500 kr.
    jan = month_class_table(s, "2023Q1", social).set_index("month")
    assert int(jan.loc["2023-01", "5"]) == 13_177_505
    q2 = month_class_table(s, "2023Q2", labour).set_index("month")
    assert int(q2.loc["2023-05", "5"]) == 6_651_370
    assert (int(q2.loc["2023-05", "4"]), int(q2.loc["2023-06", "4"])) == (18_750_000, -1_250_000)
    # The months of a quarter add up to the quarter's actual, for every area and all of them.
    for area in (None, social, labour):
        table = month_class_table(s, None, area)
        quarters = s.quarter_table(area).set_index("quarter")["actual_ore"]
        for quarter in agreement.quarters:
            months = table[table["month"].str[:4].eq(quarter[:4])
                           & table["month"].str[5:7].astype(int).sub(1).floordiv(3).add(1).eq(int(quarter[-1]))]
            assert int(months["total_ore"].sum()) == int(quarters[quarter])
    assert list(month_class_table(s, None, None)["month"]) == [f"2023-{m:02d}" for m in range(1, 10)]


def test_months_without_an_export_are_unknown_not_zero(tmp_path: Path) -> None:
    months = make_app(Store.open(tmp_path / "tom.db"), Role.COUNCIL).show(MonthsTab)
    shown = text(months.table.value)
    assert "januari 2023 – – – – –" in shown and "september 2023 – – – – –" in shown
    assert text(months.left.value) == "Ingen export är inläst för perioden ännu."


def test_the_councils_way_from_a_quarter_leads_to_its_months(store: Store, agreement: Agreement) -> None:
    council = make_app(store, Role.COUNCIL)
    quarters = council.show(QuartersTab)
    quarters.area.value = agreement.areas[0].key
    quarters.drill_quarter.value = "2023Q1"
    assert quarters.drill_quarter.description == "Månader för:"
    button(quarters.widget, "Visa per månad och kontoklass").click()
    months = council.tab(MonthsTab)
    assert council.tabs.selected_index == council.kinds.index(MonthsTab)
    assert (months.quarter.value, months.area.value) == ("2023Q1", agreement.areas[0].key)
    shown = text(months.table.value)
    assert "Utfall per månad och kontoklass – Kv 1 2023, Social välfärd" in shown
    assert "januari 2023" in shown and "131 775,05 kr" in shown
    assert shown.endswith("477 733,75 kr")  # the quarter's actual in Kvartal, to the öre
    assert "inga enskilda rader" in text(months.note.value)
    assert button(months.widget, "Visa transaktionerna") is None


def test_the_council_gets_no_report_with_rows(store: Store) -> None:
    report = make_app(store, Role.COUNCIL).show(ReportTab)
    assert [suffix for _, suffix in report.format.options] == [".pdf", ".html"]
    report.format.options = [("Excel", ".xlsx")]  # as if a page forged the choice: refused all the same
    report.make.click()
    assert "Den här vyn visar inga enskilda rader; välj PDF eller HTML." in text(report.status.value)
    assert "base64" not in report.status.value


def _fake_voila(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    import signal

    seen: dict[str, object] = {}

    class FakeVoila:
        def __init__(self, command: list[str], env: dict[str, str]) -> None:
            folder = Path(next(a for a in command if a.startswith("--Voila.config_file_paths=")).split("=", 1)[1])
            seen["env"], seen["config"] = env, json.loads((folder / "voila.json").read_text())

        def wait(self) -> int:
            return 0

    monkeypatch.setattr(subprocess, "Popen", FakeVoila)
    monkeypatch.setattr(signal, "signal", lambda *_args: None)
    return seen


def test_serve_insight_is_authenticated_like_the_controllers_view(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    seen = _fake_voila(monkeypatch)
    monkeypatch.delenv("SAMORDNING_TOKEN", raising=False)
    monkeypatch.delenv("SAMORDNING_PASSWORD_HASH", raising=False)
    db = ["--db", str(tmp_path / "s.db"), "--port", "8912"]
    assert main(["serve", "--insight", "--no-browser", *db]) == 0
    out = capsys.readouterr().out
    token = seen["config"]["Voila"]["token"]
    assert seen["env"][ROLE_ENV] == "insight" and len(token) >= 24  # a token made up, as for the controllers
    assert f"Insynsvyn startar på http://127.0.0.1:8912/?token={token}" in out
    monkeypatch.setenv("SAMORDNING_PASSWORD_HASH", "argon2:HASH")
    assert main(["serve", "--insight", "--no-browser", *db]) == 0
    assert seen["config"]["PasswordIdentityProvider"]["hashed_password"] == "argon2:HASH"
    assert "Insynsvyn startar på http://127.0.0.1:8912/ (inloggning med lösenord)." in capsys.readouterr().out
    monkeypatch.delenv("SAMORDNING_PASSWORD_HASH")
    assert main(["serve", "--no-browser", *db]) == 0  # the council's view: open unless asked for a login
    assert seen["env"][ROLE_ENV] == "council" and not seen["config"]["Voila"]["token"]
    assert "Samverkansrådets vy startar på http://127.0.0.1:8912/\n" in capsys.readouterr().out


def test_serve_controller_and_insight_are_one_or_the_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--controller", "--insight", "--no-browser"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "samordning: fel i kommandot: --insight och --controller går inte att ange samtidigt" in err
