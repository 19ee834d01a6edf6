"""The dashboard's widgets in plain pytest (no kernel, no browser): what each view shows and what each
control does, against the engine's figures and figures worked out by hand from the agreement."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from decimal import Decimal
from html import unescape
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from samordning.agreement import Agreement, load_agreement
from samordning.demo import write_examples
from samordning.followup import key_figures, quarterly
from samordning.imports import classified_rows, import_export
from samordning.money import format_kr
from samordning.store import Store
from samordning.ui import Role, charts
from samordning.ui.dashboard.app import TABS, App, requested_agreement, tabs_for
from samordning.ui.dashboard.base import ALL, guarded, has_class
from samordning.ui.dashboard.tabs.agreements import AgreementForm
from samordning.ui.dashboard.tabs.areas import AreasTab, NarrativeForm
from samordning.ui.dashboard.tabs.comments import CommentForm, CommentsTab
from samordning.ui.dashboard.tabs.payments import PaymentForm, PaymentsTab, ReleaseForm, WithholdingForm
from samordning.ui.dashboard.tabs.quarters import QuartersTab
from samordning.ui.dashboard.tabs.report import FinalizeForm, ReportTab, SignoffForm
from samordning.ui.dashboard.tabs.transactions import PAGE_ROWS, TransactionsTab
from samordning.ui.dashboard.tabs.upload import UploadTab

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT = ROOT / "data" / "avtal" / "RUN-305-2022.toml"


def text(html: str) -> str:
    """The visible text of an HTML widget value, spaces normalised."""
    spaced = re.sub(r"<(br|/div|/li|/td|/th|/tr|/h\d|span class=\"badge)[^>]*>", " ", html)
    plain = unescape(re.sub(r"<[^>]+>", "", spaced)).replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", " ", plain).strip()


def kr(ore: int, precise: bool = False) -> str:
    return text(format_kr(int(ore), ore_precision=precise))


@pytest.fixture
def agreement() -> Agreement:
    return load_agreement(AGREEMENT)


@pytest.fixture
def store(tmp_path: Path, agreement: Agreement) -> Store:
    store = Store.open(tmp_path / "demo.db")
    for path in write_examples(tmp_path / "exempel"):
        import_export(store, agreement, path.name, path.read_bytes(), user="test")
    return store


def make_app(store: Store, controller: bool = False, role: Role | None = None) -> App:
    return App(store, AGREEMENT.resolve(), role=role, controller=controller, user="kontroller")


def button(widget: object, description: str) -> object:
    """The button with this label anywhere inside a widget."""
    for child in getattr(widget, "children", ()):
        if getattr(child, "description", None) == description and hasattr(child, "click"):
            return child
        found = button(child, description)
        if found is not None:
            return found
    return None


def test_overview_opens_with_the_verdict_then_distinct_key_figures(store: Store, agreement: Agreement) -> None:
    app = make_app(store)
    figures = {f.key: f for f in key_figures(agreement, classified_rows(store, agreement))}
    overview = app.view(0)
    shown = text(overview.cards.value)
    # One sentence first, worked out by hand from the demo: 3 × 1 329 750 kr advanced, 2 910 985,95 kr booked.
    assert shown.startswith("Till och med 2023-09 har 2 910 986 kr av förskotten på 3 989 250 kr använts (73 %); "
                            "1 078 264 kr återstår. Hela avtalstiden har utfall: 1 078 264 kr ska betalas tillbaka "
                            "(§6). Ingen ersättning är innehållen.")
    # The picture: the agreed compensation, then the advances, actual and what is left, each with its amount.
    assert "Ersättning enligt avtalet 5 319 000 kr Förskott hittills 3 989 250 kr Utfall hittills 2 910 986 kr " \
           "Kvarstående medel 1 078 264 kr Återbetalning 1 078 264 kr §6" in shown
    # Then the key figures, no two with the same number: nothing remains to forecast, so the balance is the
    # repayment and one card says so.
    cards = re.findall(r'data-key="(\w+)"', overview.cards.value)
    assert cards == ["advanced", "actual", "unspent"]
    assert "Förskott hittills §6 3 989 250 kr" in shown
    assert f"Kvarstående medel = prognostiserad återbetalning §6 {kr(figures['repayment'].ore)}" in shown
    assert "Senaste utfall: 2023-09" in text(overview.provenance.value)
    findings = overview.findings.value
    assert "<details" in findings and "Avtalets egna motsägelser och luckor (8)" in text(findings)


def test_a_withholding_appears_on_the_overview(store: Store, agreement: Agreement) -> None:
    store.add_withholding(agreement_id=agreement.id, area="social", amount_ore=100_000_000, reason="Tvist",
                          withheld_on=dt.date(2023, 8, 1), cap_ore=132_975_000, clause="§10", user="k")
    app = make_app(store)
    shown = text(app.view(0).cards.value)
    # 3 989 250 − 1 000 000 = 2 989 250 kr advanced; 2 989 250 − 2 910 985,95 = 78 264,05 kr left and repaid.
    assert "förskotten på 2 989 250 kr använts (97 %); 78 264 kr återstår" in shown
    assert "1 000 000 kr är innehållet (Social välfärd, §10)." in shown
    assert "Innehållet 1 000 000 kr §10" in shown
    assert "Innehållen ersättning §10 1 000 000 kr Social välfärd" in shown
    assert re.findall(r'data-key="(\w+)"', app.view(0).cards.value) == ["advanced", "actual", "unspent", "withheld"]


def test_views_are_built_when_their_tab_is_first_shown(store: Store) -> None:
    app = make_app(store, controller=True)
    assert list(app.built) == [0]  # only Översikt: the first page load carries no other tab's widgets
    app.show(QuartersTab)
    assert sorted(app.built) == [0, 1] and isinstance(app.built[1], QuartersTab)
    assert app.panels[1].children == (app.built[1].widget,)


def test_council_has_no_upload_and_no_edit_controls(store: Store) -> None:
    council, controller = make_app(store), make_app(store, controller=True)
    council_tabs = [k for k in TABS if Role.COUNCIL in k.roles]
    assert [type(v) for v in council.views] == council_tabs == tabs_for(Role.COUNCIL)
    assert [type(v) for v in controller.views] == TABS == tabs_for(Role.CONTROLLER)
    assert UploadTab.roles == {Role.CONTROLLER}  # the one controller-only tab: in the list, not inserted anywhere
    assert council.titles == [k.title for k in TABS if k not in (UploadTab, TransactionsTab)]
    # The council's page never builds a controller's form; the controllers' page has every one of them.
    assert [f for v in council.views for f in v.forms] == []
    assert {type(f) for v in controller.views for f in v.forms} == {
        NarrativeForm, CommentForm, PaymentForm, WithholdingForm, ReleaseForm, SignoffForm, FinalizeForm,
        AgreementForm}
    assert isinstance(controller.tab(AreasTab).form(NarrativeForm), NarrativeForm)
    assert council.tab(AreasTab).form(NarrativeForm) is None
    with pytest.raises(KeyError):
        council.tab(UploadTab)


def test_area_filter_swaps_drawn_charts_and_updates_table(store: Store, agreement: Agreement) -> None:
    app = make_app(store)
    view = app.show(QuartersTab)
    built = {key: tuple(map(id, pair)) for key, pair in view.charts.items()}
    assert list(built) == [ALL, *[a.key for a in agreement.areas]]  # one pair of charts per filter choice
    social = agreement.areas[0]
    view.area.value = social.key
    # No chart is built or redrawn by a filter: the chosen area's pair is shown, every other pair hidden.
    assert {key: tuple(map(id, pair)) for key, pair in view.charts.items()} == built
    for key, pair in view.boxes.items():
        for box, widget in zip(pair, view.charts[key], strict=True):
            assert list(box.children) == [widget]
            assert has_class(box, "smd-hidden") == (key != social.key)
    assert [list(stack.children) for stack in view.stacks] == [[pair[i] for pair in view.boxes.values()]
                                                              for i in range(2)]
    by_area = quarterly(agreement, classified_rows(store, agreement), by_area=True)
    mine = by_area[by_area["area"] == social.key]
    assert list(view.chart.data[1].y) == [int(v) / 100 for v in mine["actual_ore"]]
    assert social.name in view.chart.layout.title.text
    # Half of the 1 329 750 kr advance (the 50/50 assumption) and the Q1 rows of project 7301.
    # Tables show the öre, so that the rows add up to the sums.
    assert "Kv 1 2023 664 875,00 kr 664 875,00 kr 477 733,75 kr" in text(view.table.value)
    view.area.value = ALL
    assert list(view.chart.data[1].y) == [959_627.41, 1_035_607.05, 915_751.49]
    assert not any(has_class(box, "smd-hidden") for box in view.boxes[ALL])
    # New data (a registered payment of 1 300 000 kr for Q2) updates the same charts in place.
    store.add_payment(agreement_id=agreement.id, quarter="2023Q2", amount_ore=130_000_000, invoice_no="F-2",
                      invoiced_on=None, paid_on=dt.date(2023, 4, 3), user="test")
    app.reload()
    assert {key: tuple(map(id, pair)) for key, pair in view.charts.items()} == built
    assert list(view.chart.data[0].y) == [1_329_750, 1_300_000, 1_329_750]


def test_drill_from_quarter_to_its_rows(store: Store, agreement: Agreement) -> None:
    app = make_app(store, role=Role.INSIGHT)
    quarter_view = app.show(QuartersTab)
    quarter_view.area.value = agreement.areas[0].key
    quarter_view.drill_quarter.value = "2023Q1"
    button(quarter_view.widget, "Visa transaktionerna").click()
    tx = app.tab(TransactionsTab)
    assert app.tabs.selected_index == app.kinds.index(TransactionsTab)
    assert (tx.quarter.value, tx.area.value) == ("2023Q1", agreement.areas[0].key)
    rows = tx.selection().frame()
    assert int(rows["amount_ore"].sum()) == 47_773_375  # 477 733,75 kr, the figure in the chart
    assert "477 733,75 kr" in text(tx.summary.value)
    assert set(rows["filename"]) == {"huvudbok_2023_kv1.xlsx"}
    assert "huvudbok_2023_kv1.xlsx:" in tx.table.value  # source file and Excel row


def test_left_out_rows_are_listable_by_reason(store: Store, agreement: Agreement) -> None:
    app = make_app(store, role=Role.INSIGHT)
    tx = app.show(TransactionsTab)
    tx.reason.value = "total"
    rows = tx.selection().frame()
    assert len(rows) == 3 and set(rows["reason"]) == {"total"}  # one Summa row per example export
    tx.reason.value = "*"
    assert len(tx.selection()) == len(classified_rows(store, agreement))


def test_transactions_are_shown_a_page_at_a_time_with_the_filters_count_and_sum(store: Store,
                                                                                agreement: Agreement) -> None:
    app = make_app(store, role=Role.INSIGHT)
    tx = app.show(TransactionsTab)
    tx.reason.value = "*"
    every = classified_rows(store, agreement)  # the ledger in order, as the old path loaded it
    assert PAGE_ROWS < len(every) < 2 * PAGE_ROWS  # the demo: two pages
    assert f"{len(every)} rader, summa {kr(int(every['amount_ore'].sum()), True)}" in text(tx.summary.value)
    assert f"visar rad 1–{PAGE_ROWS}" in text(tx.summary.value)

    def sources(rows: pd.DataFrame) -> list[str]:
        return [f"{r.filename}:{int(r.excel_row)}" for r in rows.itertuples()]

    def shown() -> list[str]:
        return re.findall(r"<td[^>]*>([^<]+\.xlsx:\d+)</td>", tx.table.value)

    assert shown() == sources(every.iloc[:PAGE_ROWS]) and tx.previous.disabled
    button(tx.widget, "Nästa").click()
    assert shown() == sources(every.iloc[PAGE_ROWS:]) and not tx.previous.disabled and tx.next.disabled
    assert f"visar rad {PAGE_ROWS + 1}–{len(every)}" in text(tx.summary.value)
    button(tx.widget, "Föregående").click()
    assert shown() == sources(every.iloc[:PAGE_ROWS])
    tx.text.value = "lön"  # a filter: its count and sum from the database, back to its first page
    wanted = every[every["text"].fillna("").str.contains("lön", case=False, regex=False)]
    assert 0 < len(wanted) < len(every)
    assert f"{len(wanted)} rader, summa {kr(int(wanted['amount_ore'].sum()), True)}" in text(tx.summary.value)
    assert shown() == sources(wanted.iloc[:PAGE_ROWS])


def test_excel_export_of_a_selection_is_exact_and_formula_free(store: Store, agreement: Agreement,
                                                              tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Verifikationsdatum", "Konto", "Projekt", "Text", "Belopp"])
    ws.append([dt.date(2023, 2, 3), "6510", "7301", "=HYPERLINK(\"http://x\",\"klicka\")", 12.34])
    ws["D2"].data_type = "s"  # the ERP wrote this text; openpyxl would otherwise store a formula
    wb.save(tmp_path / "feb.xlsx")
    import_export(store, agreement, "feb.xlsx", (tmp_path / "feb.xlsx").read_bytes(), user="test")
    app = make_app(store, role=Role.INSIGHT)
    tx = app.show(TransactionsTab)
    tx.quarter.value = "2023Q1"
    tx.export.click()
    link = tx.status.value
    assert 'download="transaktioner-' in link
    content = base64.b64decode(re.search(r"base64,([^\"]+)", link).group(1))
    sheet = load_workbook(io.BytesIO(content)).active
    header = [c.value for c in sheet[1]]
    amounts = [sheet.cell(r, header.index("Belopp") + 1).value for r in range(2, sheet.max_row + 1)]
    expected = tx.selection()
    assert len(amounts) == len(expected) > 0
    assert sum(Decimal(str(a)) for a in amounts) == Decimal(expected.total_ore) / 100
    texts = [sheet.cell(r, header.index("Text") + 1) for r in range(2, sheet.max_row + 1)]
    hyperlink = next(c for c in texts if str(c.value).startswith("=HYPERLINK"))
    assert hyperlink.data_type == "s"  # text, never a formula


def test_upload_preview_confirm_and_revert(store: Store, agreement: Agreement, tmp_path: Path) -> None:
    app = make_app(store, controller=True)
    view = app.show(UploadTab)
    wb = Workbook()
    ws = wb.active
    ws.append(["Verifikationsdatum", "Konto", "Projekt", "Text", "Belopp"])
    ws.append([dt.date(2023, 3, 25), "5011", "7301", "Månadslön 03", 50_000])
    buffer = io.BytesIO()
    wb.save(buffer)
    before = len(store.uploads(agreement.id))
    rows = classified_rows(store, agreement)
    counted = rows[rows["reason"] == ""]
    march = int(counted.loc[counted["period"] == "2023-03", "amount_ore"].sum())
    q1 = int(counted.loc[counted["quarter"] == "2023Q1", "amount_ore"].sum())
    assert q1 == 95_962_741  # the demo's Q1: 959 627,41 kr

    view.upload.deliver("mars.xlsx", buffer.getvalue())
    preview = text(view.status.value)
    assert "50 000,00 kr" in preview and "2023-03: ersätter raderna från uppladdning 1" in preview
    assert view.confirm.layout.display == "flex"
    assert len(store.uploads(agreement.id)) == before  # nothing stored before confirmation

    view.save.click()
    assert "Sparad som uppladdning 4" in text(view.status.value)
    quarters = app.state.quarters.set_index("quarter")
    assert quarters.loc["2023Q1", "actual_ore"] == q1 - march + 5_000_000
    assert [v for _, v in view.revert_choice.options] == [1]  # the partly replaced upload can come back
    view.revert_choice.value = 1
    view.revert.click()
    assert "Uppladdning 1 gäller igen" in text(view.status.value)
    assert app.state.quarters.set_index("quarter").loc["2023Q1", "actual_ore"] == q1


def test_refused_upload_shows_swedish_message_and_stores_nothing(store: Store, agreement: Agreement) -> None:
    app = make_app(store, controller=True)
    view = app.tab(UploadTab)
    before = len(store.uploads(agreement.id))
    view.upload.deliver("huvudbok.xlsx", b"Datum;Belopp\n2023-01-01;12\n")
    shown = text(view.status.value)
    assert "huvudbok.xlsx" in shown and "Traceback" not in shown
    assert 'class="message error"' in view.status.value
    assert view.confirm.layout.display == "none"
    assert len(store.uploads(agreement.id)) == before


def test_withholding_cap_shown_and_enforced(store: Store, agreement: Agreement) -> None:
    app = make_app(store, controller=True)
    view = app.show(PaymentsTab)
    form = view.form(WithholdingForm)
    social = agreement.areas[0]
    form.area.value = social.key
    # §10: at most 50 % of the area's compensation: 50 % × 50 % × 5 319 000 kr = 1 329 750 kr.
    assert "Tak för området: 1 329 750 kr (§10)" in text(form.cap.value)
    view.whatif_area.value = social.key
    view.whatif_amount.value = "1 400 000"
    assert "överskrider taket med 70 250 kr" in text(view.whatif.value)
    form.amount.value = "1 400 000"
    form.reason.value = "Tvist om leverans"
    withhold = button(form.widget, "Registrera innehållande")
    withhold.click()
    assert "§10" in text(form.status.value) and 'message error' in form.status.value
    assert store.withholdings(agreement.id).empty
    form.amount.value = "0"  # a withholding is more than zero (the CLI's rule too)
    withhold.click()
    assert "större än 0 kr" in text(form.status.value) and store.withholdings(agreement.id).empty
    form.amount.value = "500 000"
    withhold.click()
    assert "Innehållandet är registrerat" in text(form.status.value)
    assert int(store.withholdings(agreement.id)["amount_ore"].sum()) == 50_000_000
    assert "redan innehållet: 500 000 kr; kvar att hålla inne: 829 750 kr" in text(form.cap.value)


def test_what_if_shows_the_hand_worked_balance_and_repayment(store: Store, agreement: Agreement) -> None:
    """Demo data, all nine months booked: actual 959 627,41 + 1 035 607,05 + 915 751,49 = 2 910 985,95 kr; three
    advances of 1 329 750 kr = 3 989 250 kr; unspent = projected repayment = 1 078 264,05 kr. Withholding
    500 000 kr leaves 578 264,05 kr of both (whole kronor on screen)."""
    council = make_app(store)
    view = council.show(PaymentsTab)
    assert view.whatif_amount.value == "500 000"
    shown = text(view.whatif.value)
    assert "Att hålla inne 500 000 kr för Social välfärd ryms inom taket (tak 1 329 750 kr, §10" in shown
    assert "Kvarstående medel hos utföraren blir 578 264 kr i stället för 1 078 264 kr" in shown
    assert "prognostiserad återbetalning (§6) blir 578 264 kr i stället för 1 078 264 kr" in shown
    view.whatif_amount.value = "-5"
    assert "större än 0 kr" in text(view.whatif.value)


def test_registered_payment_replaces_the_plan_for_its_quarter(store: Store, agreement: Agreement) -> None:
    app = make_app(store, controller=True)
    form = app.show(PaymentsTab).form(PaymentForm)
    form.quarter.value = "2023Q2"
    form.amount.value = "1 300 000"
    form.invoice.value = "F-2023-2"
    form.paid.value = "2023-04-03"
    button(form.widget, "Registrera betalning").click()
    assert "Betalningen är registrerad" in text(form.status.value)
    q = app.state.quarters.set_index("quarter")
    assert q.loc["2023Q2", "advance_ore"] == 130_000_000 and q.loc["2023Q2", "source"] != "plan"
    assert q.loc["2023Q1", "advance_ore"] == 132_975_000 and q.loc["2023Q1", "source"] == "plan"


def test_comment_is_saved_and_listed(store: Store, agreement: Agreement) -> None:
    app = make_app(store, controller=True)
    view = app.show(CommentsTab)
    form = view.form(CommentForm)
    form.quarter.value = "2023Q2"
    form.text.value = "Vakans under maj; tjänsten tillsatt i juni."
    button(form.widget, "Spara kommentar").click()
    assert "Kommentaren är sparad" in text(form.status.value)
    assert "Kv 2 2023" in text(view.list.value) and "Vakans under maj" in view.list.value
    assert store.comments(agreement.id).iloc[-1]["author"] == "kontroller"


def test_a_write_elsewhere_is_seen_on_the_next_revision_check(store: Store, agreement: Agreement,
                                                              tmp_path: Path) -> None:
    """Another server (another Store on the same database) writes; the page load's one-query check reloads."""
    app = make_app(store)
    view = app.show(CommentsTab)
    loaded = app.state
    assert app.reload_if_changed() is False and app.state is loaded
    Store.open(tmp_path / "demo.db").add_comment(agreement_id=agreement.id, text="Skrivet på en annan server.",
                                                 author="anna", quarter="2023Q3", area=None)
    assert app.reload_if_changed() is True and app.state is not loaded
    assert "Skrivet på en annan server." in text(view.list.value)  # the visible tab shows it at once
    assert app.reload_if_changed() is False


def test_guarded_callback_turns_errors_into_swedish_messages() -> None:
    shown: list[str] = []

    @guarded(shown.append)
    def boom() -> None:
        raise KeyError("intern detalj")

    boom()
    assert "Något gick fel och inget har ändrats" in shown[0]
    assert "KeyError" not in shown[0] and "intern detalj" not in shown[0]


def test_agreement_named_in_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    choices = ["RUN/305/2022", "TEST/7/2024"]
    monkeypatch.setenv("QUERY_STRING", "avtal=RUN%2F305%2F2022")
    assert requested_agreement(choices) == "RUN/305/2022"
    monkeypatch.setenv("QUERY_STRING", "avtal=RUN-305-2022")  # as its file is named
    assert requested_agreement(choices) == "RUN/305/2022"
    monkeypatch.setenv("QUERY_STRING", "avtal=TEST%2F7%2F2024")
    assert requested_agreement(choices) == "TEST/7/2024"
    monkeypatch.setenv("QUERY_STRING", "avtal=RUN/1/1999")
    from samordning.errors import SamordningError

    with pytest.raises(SamordningError, match="RUN/1/1999"):
        requested_agreement(choices)


def test_quarter_figure_is_ibcs_and_swedish(store: Store, agreement: Agreement) -> None:
    table = quarterly(agreement, classified_rows(store, agreement))
    fig = charts.quarter_figure(table)
    advance, actual, variance = fig.data
    assert advance.marker.color == "rgba(0,0,0,0)" and advance.marker.line.width == 2  # plan outlined
    assert list(variance.text) == ["+370 123 kr", "+294 143 kr", "+413 999 kr"]
    assert fig.layout.separators == ", "
    assert list(actual.x) == ["Kv 1 2023", "Kv 2 2023", "Kv 3 2023"]
    assert pd.Series(variance.y).round(2).tolist() == [370_122.59, 294_142.95, 413_998.51]


def test_report_button_makes_the_same_report_as_the_cli(store: Store, agreement: Agreement) -> None:
    app = make_app(store, role=Role.INSIGHT)  # the Excel report carries rows: not the council's
    box = app.show(ReportTab)  # a tab renders when first shown
    assert box.quarter.value == "2023Q3"  # the newest quarter with data
    box.format.value = ".xlsx"
    box.make.click()
    link = box.status.value
    assert 'download="ekonomisk-rapport-RUN-305-2022-2023Q3.xlsx"' in link
    sheet = load_workbook(io.BytesIO(base64.b64decode(re.search(r"base64,([^\"]+)", link).group(1))))["Kvartal"]
    assert [r[4] for r in sheet.iter_rows(min_row=2, values_only=True)] == [959_627.41, 1_035_607.05, 915_751.49]


def test_narrative_written_by_a_controller_is_shown_to_the_council(store: Store, agreement: Agreement) -> None:
    controller = make_app(store, controller=True)
    areas = controller.show(AreasTab).form(NarrativeForm)
    areas.target.value, areas.quarter.value = "social", "2023Q2"
    assert areas.text.value == ""
    areas.text.value = "Vakansen i maj försenade handlingsplanen.\nTjänsten tillsattes i juni."
    button(areas.widget, "Spara återrapportering").click()
    assert "Återrapporteringen för Social välfärd är sparad." in text(areas.status.value)
    areas.text.value = "Vakansen i maj försenade handlingsplanen; klar i september."
    button(areas.widget, "Spara återrapportering").click()
    areas.target.value = ALL
    areas.target.value = "social"  # the editor shows the current text of the chosen area and quarter
    assert areas.text.value == "Vakansen i maj försenade handlingsplanen; klar i september."

    council = make_app(store)
    shown = text(council.show(AreasTab).narratives.value)
    social = agreement.area("social")
    by_area = quarterly(agreement, classified_rows(store, agreement), by_area=True)
    actual = int(by_area.loc[by_area["area"] == "social", "actual_ore"].sum())
    # Beside the area's own figures: 3 × 664 875 kr advanced to the area (half of each 1 329 750 kr).
    assert f"{social.name} Förskott hittills 1 994 625 kr · utfall {kr(actual)}" in shown
    assert "Kv 2 2023 kontroller" in shown and "1 tidigare version" in shown
    assert "klar i september" in shown and "Tjänsten tillsattes i juni" not in shown
    assert "Hela avtalet Förskott hittills 3 989 250 kr" in shown and "Ingen återrapportering ännu." in shown


def test_finalize_button_stores_the_report_and_lists_it_for_download(store: Store, agreement: Agreement) -> None:
    app = make_app(store, controller=True)
    view = app.show(ReportTab)
    sign, final = view.form(SignoffForm), view.form(FinalizeForm)
    assert "Ingen rapport är fastställd ännu." in text(view.finals.value) and view.fetch.disabled
    sign.party.value = "utförare"
    sign.name.value, sign.role_title.value = "Eva Berg", "Regiondirektör"
    sign.date.value = "2023-10-12"
    loaded = app.state
    button(sign.widget, "Spara underskrift").click()
    assert app.state is not loaded  # the sign-off reloads, like every other write
    assert "Underskriften för Region Jämtland Härjedalen (utförare) i rapporten för Kv 3 2023 är sparad." in text(
        sign.status.value)
    assert "Region Jämtland Härjedalen: Eva Berg, Regiondirektör, 2023-10-12" in text(view.signed.value)
    view.format.value, final.presented.value = ".xlsx", "2023-10-12"
    final.finalize.click()
    assert "Rapport nr 1 för Kv 3 2023 är fastställd som presenterad 2023-10-12." in text(final.status.value)
    assert 'download="faststalld-rapport-RUN-305-2022-2023Q3.xlsx"' in final.status.value
    stored = store.final_reports(agreement.id)
    assert stored["quarter"].tolist() == ["2023Q3"] and stored["presented_on"].astype(str).tolist() == ["2023-10-12"]
    listed = text(view.finals.value)
    assert "1 Kv 3 2023 2023-10-12 faststalld-rapport-RUN-305-2022-2023Q3.xlsx" in listed and "gäller" in listed

    final.finalize.click()  # the same quarter again, without saying it replaces the first: refused
    assert "redan fastställd (nr 1, presenterad 2023-10-12)" in text(final.status.value)
    assert len(store.final_reports(agreement.id)) == 1

    # The finalized Excel report carries rows: the insight view fetches it, the council's lists it only.
    council = make_app(store).show(ReportTab)
    assert "faststalld-rapport-RUN-305-2022-2023Q3.xlsx med rader: i insynsvyn och controllervyn" in text(
        council.finals.value)
    assert council.pick.options == () and council.fetch.disabled
    shown = make_app(store, role=Role.INSIGHT).show(ReportTab)
    assert shown.pick.value == 1 and not shown.fetch.disabled
    shown.fetch.click()
    content = base64.b64decode(re.search(r"base64,([^\"]+)", shown.fetched.value).group(1))
    assert content == store.final_report_content(agreement.id, 1)[1]
    sheet = load_workbook(io.BytesIO(content))["Underskrifter"]
    assert "Eva Berg" in [c for row in sheet.iter_rows(values_only=True) for c in row]


def test_columns_detection_misses_are_mapped_by_hand_and_remembered(tmp_path: Path, agreement: Agreement) -> None:
    """An export whose headers nothing recognises: the refusal opens the mapping, the controller picks the columns,
    the file is read and saved, and the next export of the same layout is read without asking."""
    store = Store.open(tmp_path / "map.db")
    app = make_app(store, controller=True)
    view = app.show(UploadTab)
    layout = ROOT / "tests" / "data" / "layouts" / "g_egna_rubriker.xlsx"
    view.upload.deliver("egna.xlsx", layout.read_bytes())
    assert "ingen tabell med bokförda transaktioner som kan kännas igen" in text(view.status.value)
    assert view.mapping.is_open and view.mapping.sheet.value == "Export"
    assert [label for label, _ in view.mapping.fields["amount"].options] == ["–", "Bokf.dag", "Vnr", "Kto", "Enhet",
                                                                         "Proj", "Ben.", "Netto"]
    for name, header in {"booking_date": "Bokf.dag", "amount": "Netto", "account": "Kto", "project": "Proj",
                         "text": "Ben."}.items():
        view.mapping.fields[name].value = header
    button(view.widget, "Läs filen med dessa val").click()
    # By hand (tests/data/make_layouts.py): eight rows count, 45 000 + 12 345,67 + 8 000,50 + 1 234,56 + 44 000
    # − 2 345,67 + 46 500,25 + 999,99 = 155 735,30 kr.
    assert "8 räknas som utfall, summa 155 735,30 kr" in text(view.status.value)
    view.save.click()
    assert "Sparad som uppladdning 1" in text(view.status.value)
    assert list(store.column_mappings().values()) == [
        {"booking_date": "Bokf.dag", "amount": "Netto", "account": "Kto", "project": "Proj", "text": "Ben."}]

    view.upload.deliver("egna-igen.xlsx", layout.read_bytes() + b"")  # same bytes: a duplicate, nothing read
    assert "redan inläst" in text(view.status.value)
    from openpyxl import load_workbook as load

    wb = load(layout)
    wb.active.append([dt.date(2023, 9, 30), "V9", "5011", "0410", "7301", "Lön rättad", 100.0])
    buffer = io.BytesIO()
    wb.save(buffer)
    view.upload.deliver("egna-september.xlsx", buffer.getvalue())
    assert "Kolumnkoppling (sparad tidigare för filer med samma rubriker)" in text(view.status.value)
    assert not view.mapping.is_open


def test_dates_are_typed_as_iso_text_and_checked(store: Store, agreement: Agreement) -> None:
    """No browser date picker (it follows the browser's locale, mm/dd/yyyy in an English one): ÅÅÅÅ-MM-DD as
    text, and a Swedish message naming the field for anything else; nothing is stored then."""
    app = make_app(store, controller=True)
    form = app.show(PaymentsTab).form(PaymentForm)
    assert form.paid.placeholder == "ÅÅÅÅ-MM-DD"
    form.quarter.value, form.amount.value, form.invoice.value = "2023Q2", "1 300 000", "F-2"
    for typed in ("04/03/2023", "2023-02-30", "3 april"):
        form.paid.value = typed
        button(form.widget, "Registrera betalning").click()
        assert f"Betald: '{typed}' är inget datum; skriv ÅÅÅÅ-MM-DD, till exempel 2023-10-12." in text(
            form.status.value)
    assert store.payments(agreement.id).empty
    form.paid.value = "2023-04-03"
    button(form.widget, "Registrera betalning").click()
    assert str(store.payments(agreement.id)["paid_on"].iloc[0])[:10] == "2023-04-03"


def test_a_withholding_is_released_in_the_dashboard(store: Store, agreement: Agreement) -> None:
    app = make_app(store, controller=True)
    view = app.show(PaymentsTab)
    release = view.form(ReleaseForm)
    assert release.release.disabled and not release.pick.options
    hold = view.form(WithholdingForm)
    hold.area.value, hold.amount.value, hold.reason.value, hold.date.value = "social", "400 000", "Tvist", "2023-08-15"
    button(hold.widget, "Registrera innehållande").click()
    assert "Innehållandet är registrerat" in text(hold.status.value)
    # Released on 2023-09-20: the Q3 advance is whole again, and so are the balance and the repayment.
    def overview() -> str:
        app.tabs.selected_index = 0  # a tab renders when shown
        shown = text(app.view(0).cards.value)
        app.tabs.selected_index = app.kinds.index(PaymentsTab)
        return shown

    assert "400 000 kr är innehållet" in overview()
    (label, wid), = release.pick.options
    assert label.startswith("Nr ") and "Social välfärd, 400 000 kr, från 2023-08-15 (Tvist)" in label
    release.date.value = "2023-09-20"
    button(release.widget, "Släpp innehållandet").click()
    assert f"Innehållande nr {wid} är släppt den 2023-09-20." in text(release.status.value)
    assert str(store.withholdings(agreement.id)["released_on"].iloc[0])[:10] == "2023-09-20"
    assert store.withholdings(agreement.id)["released_by"].iloc[0] == "kontroller"
    assert "Ingen ersättning är innehållen." in overview()
    assert not release.pick.options
    assert "2023-09-20 av kontroller" in text(view.withholdings.value)


def test_the_logged_in_name_arrives_after_the_page_and_signs_every_change(store: Store, agreement: Agreement,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A preheated page is built before anyone asks for it; the login's name arrives with the request
    (``$HTTP_X_SAMORDNING_USER``, never the query string) and every change after it carries that name."""
    from samordning.ui.dashboard.app import logged_in_user

    monkeypatch.delenv("HTTP_X_SAMORDNING_USER", raising=False)
    monkeypatch.setenv("QUERY_STRING", "user=Mallory&HTTP_X_SAMORDNING_USER=Mallory")
    assert logged_in_user() is None
    monkeypatch.setenv("HTTP_X_SAMORDNING_USER", " Anna Berg ")
    assert logged_in_user() == "Anna Berg"

    app = make_app(store, controller=True)
    upload = app.show(UploadTab)
    assert not any(getattr(w, "description", "") == "Ditt namn" for w in upload.widget.children)
    app.set_user("Anna Berg")
    assert "Inloggad som Anna Berg" in text(app.role_badge.value)
    form = app.show(CommentsTab).form(CommentForm)
    form.text.value = "Vakans under maj."
    button(form.widget, "Spara kommentar").click()
    payments = app.show(PaymentsTab).form(PaymentForm)
    payments.quarter.value, payments.amount.value, payments.invoice.value = "2023Q2", "1 329 750", "F-9"
    button(payments.widget, "Registrera betalning").click()
    wb = Workbook()
    wb.active.append(["Verifikationsdatum", "Konto", "Projekt", "Text", "Belopp"])
    wb.active.append([dt.date(2023, 3, 25), "5011", "7301", "Månadslön 03", 50_000])
    buffer = io.BytesIO()
    wb.save(buffer)
    upload = app.show(UploadTab)
    upload.upload.deliver("mars.xlsx", buffer.getvalue())
    upload.save.click()
    assert store.comments(agreement.id).iloc[-1]["author"] == "Anna Berg"
    assert store.payments(agreement.id).iloc[-1]["by"] == "Anna Berg"
    assert store.uploads(agreement.id).iloc[-1]["uploaded_by"] == "Anna Berg"
    assert "Anna Berg" in text(app.view(app.kinds.index(PaymentsTab)).payments.value)


def test_mapping_preselects_the_header_row_below_a_title(tmp_path: Path) -> None:
    """A title row above headers nothing recognises: the mapping offers the header row's cells, not the title."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Export"
    ws.append(["Huvudbok för samordningen, utdrag 2023-10-02"])
    ws.append([])
    ws.append(["Bokf.dag", "Kto", "Proj", "Ben.", "Netto"])
    ws.append([dt.date(2023, 2, 1), "5011", "7301", "Lön", 100.0])
    buffer = io.BytesIO()
    wb.save(buffer)
    view = make_app(Store.open(tmp_path / "t.db"), controller=True).show(UploadTab)
    view.upload.deliver("titel.xlsx", buffer.getvalue())
    assert view.mapping.is_open and view.mapping.header.value == 3
    assert [label for label, _ in view.mapping.fields["amount"].options] == ["–", "Bokf.dag", "Kto", "Proj", "Ben.",
                                                                         "Netto"]
