"""Uppladdning (controllers only): read an export, show what was read and left out, store it on confirmation;
the history of uploads, and letting a replaced upload count again."""

from __future__ import annotations

from typing import Any

import ipywidgets as ipw

from samordning.errors import SamordningError
from samordning.imports import PreparedImport, commit_import, prepare_import
from samordning.ingest import peek, too_large
from samordning.localtime import local_time
from samordning.names import shown
from samordning.ui.dashboard.base import CONTROLLERS, Tab, button, heading, set_options
from samordning.ui.dashboard.html import e, kr, message, smd, sub, table, whole
from samordning.ui.dashboard.state import State
from samordning.ui.dashboard.tabs.mapping import ColumnMapping
from samordning.ui.widgets import ChunkedUpload


def preview_html(name: str, prepared: PreparedImport) -> str:
    """What a read file holds, before it is stored: rows read and counted, left out per reason, replacements."""
    r = prepared.result
    assert r is not None
    left = "".join(f"<li>{row.rows} {'rad' if row.rows == 1 else 'rader'}, {kr(int(row.amount_ore), True)} – "
                   f"{e(row.label)}</li>" for row in (r.left_out if r.left_out is not None else []).itertuples())
    replaces = "".join(f"<li>{e(m)}: ersätter raderna från uppladdning {', '.join(map(str, ids))}</li>"
                       for m, ids in sorted(prepared.will_replace.items()))
    return smd(
        f'<div class="message"><b>{e(name)}</b> (blad {e(r.sheet)}): {r.rows_read} rader lästa, '
        f'<b>{r.rows_imported}</b> räknas som utfall, summa <b>{kr(r.amount_imported_ore, True)}</b>.'
        f'{"<br>Utelämnade:<ul>" + left + "</ul>" if left else ""}'
        f'{"Ersätter:<ul>" + replaces + "</ul>" if replaces else ""}'
        f'{"".join(f"<div>{e(n)}</div>" for n in r.notes)}'
        f'Kontrollera och spara.</div>')


def upload_notes(summary: dict[str, Any]) -> str:
    """What was accepted when an upload was read: the period given for a whole file, and warnings."""
    notes = [f"Perioden {e(summary['period_given'])} angiven för hela filen"] if summary.get("period_given") else []
    return "<br>".join(notes + [f"Varning: {e(w)}" for w in summary.get("warnings", [])])


def history_html(uploads: Any) -> str:
    if not len(uploads):
        return sub("Inga uppladdningar ännu.")
    return table(
        ["Id", "Fil", "Inläst", "Av", "Månader", "Gäller för", "Status", "Rader (räknas)", "sha256", "Anmärkning"],
        [[str(int(r.id)), e(shown(r.filename)), local_time(r.uploaded_at), whole(r.uploaded_by),
          e(", ".join(r.periods)), e(", ".join(r.active_periods) or "–"), e(r.status),
          f"{r.summary.get('rows_read', '')} ({r.summary.get('rows_counted', '')})",
          f'<span title="{e(r.sha256)}">{e(r.sha256[:12])}…</span>', upload_notes(r.summary)]
         for r in uploads.iloc[::-1].itertuples()],
        left={1, 2, 3, 4, 5, 6, 9})


class ReadOptions:
    """What a refused file needs the controller to confirm before it is read again: a period for a file
    without dates (proposed from its name or title rows), or accepting a SIE file that does not balance."""

    def __init__(self, reread: Any, guard: Any) -> None:
        style = {"description_width": "initial"}
        self.period = ipw.Text(description="Period för hela filen (ÅÅÅÅ-MM)", placeholder="2016-03", style=style)
        self.accept = ipw.Checkbox(description="Läs in trots obalans", indent=False)
        self.again = button("Läs in med det bekräftade", icon="check-circle", button_style="info")
        self.again.on_click(guard(lambda _b: reread()))
        self.widget = ipw.VBox([heading("Läs in ändå", "Bekräfta det som filen inte säger själv; det sparas med "
                                        "uppladdningen och syns i historiken och i rapportens underlag."),
                                ipw.HBox([self.period, self.accept, self.again])], layout=ipw.Layout(display="none"))

    def reset(self) -> None:
        self.period.value, self.accept.value = "", False
        self.widget.layout.display = "none"

    def offer(self, refusal: SamordningError) -> None:
        """Open for a refusal that a confirmation lets through (see :attr:`SamordningError.remedy`)."""
        if refusal.remedy not in ("period", "accept_unbalanced"):
            return
        self.period.layout.display = "flex" if refusal.remedy == "period" else "none"
        self.accept.layout.display = "flex" if refusal.remedy == "accept_unbalanced" else "none"
        if refusal.remedy == "period" and refusal.proposal and not self.period.value:
            self.period.value = refusal.proposal
        self.widget.layout.display = "flex"

    def options(self) -> dict[str, Any]:
        """The read options confirmed so far (none while the panel is closed)."""
        if self.widget.layout.display == "none":
            return {}
        chosen: dict[str, Any] = {"period": self.period.value.strip()} if self.period.value.strip() else {}
        return chosen | ({"accept_unbalanced": True} if self.accept.value else {})


class UploadTab(Tab):
    title = "Uppladdning"
    roles = CONTROLLERS

    def build(self) -> list[ipw.Widget]:
        self.prepared: PreparedImport | None = None
        self.received: tuple[str, bytes] | None = None
        self.upload = ChunkedUpload(description="Välj exportfil (Excel, CSV eller SIE) …")
        self.save = button("Spara i uppföljningen", button_style="primary", icon="check")
        self.cancel = button("Avbryt", icon="times")
        self.confirm = ipw.HBox([self.save, self.cancel], layout=ipw.Layout(display="none"))
        self.history = ipw.HTML()
        guard = self.status.guard
        self.mapping = ColumnMapping(guard(lambda options: self.read(**options)), guard)
        self.read_options = ReadOptions(lambda: self.read(**self.mapping_options), guard)
        self.mapping_options: dict[str, Any] = {}
        self.map_toggle = button("Välj blad och kolumner själv", icon="columns")
        self.map_toggle.layout.display = "none"
        self.map_toggle.on_click(guard(lambda _b: self.open_mapping()))
        self.revert_choice = ipw.Dropdown(description="Uppladdning", style={"description_width": "initial"})
        self.revert = button("Låt den gälla igen", icon="undo")
        self.upload.on_file(guard(self.received_file))
        self.upload.on_too_large(guard(lambda name, size: self.status.show(message(
            f"{too_large(name, size).message} Inget har skickats.", "error"))))
        self.save.on_click(guard(lambda _b: self.store()))
        self.cancel.on_click(guard(lambda _b: self.drop()))
        self.revert.on_click(guard(lambda _b: self.reinstate()))
        return [ipw.HTML(sub("Ladda upp exporten från ekonomisystemet som den är. Filen läses och visas först; inget "
                             "sparas förrän du bekräftar. En ny export som täcker samma månader ersätter de äldre "
                             "raderna för de månaderna; den äldre uppladdningen finns kvar i historiken och kan "
                             "återställas.")),
                self.upload, self.status.widget, self.confirm, self.read_options.widget,
                ipw.HBox([self.map_toggle]), self.mapping.widget, heading("Historik"), self.history,
                ipw.HBox([self.revert_choice, self.revert])]

    def show(self, state: State) -> None:
        u = state.uploads
        self.history.value = history_html(u)
        replaced = u[u["status"] != "aktiv"] if len(u) else u
        set_options(self.revert_choice, [(f"{int(r.id)}: {shown(r.filename)} ({r.status})", int(r.id))
                                         for r in replaced.itertuples()])
        self.revert.disabled = not len(replaced)

    def received_file(self, name: str, content: bytes) -> None:
        self.received = (name, content)
        self.mapping.close()
        self.mapping.preview = {}
        self.mapping_options = {}
        self.read_options.reset()
        self.map_toggle.layout.display = "none"
        try:
            self.read()
        except SamordningError:
            try:  # offer the mapping where the file itself can be read
                preview = peek(content, name)
            except SamordningError:
                preview = {}
            if preview:
                self.mapping.open(preview)
            raise

    def read(self, **options: Any) -> None:
        """Read the received file (with the mapping's ``options``) and show it; nothing is stored yet."""
        assert self.received is not None
        name, content = self.received
        self.confirm.layout.display = "none"
        self.prepared = None
        self.mapping_options = options
        try:
            prepared = prepare_import(self.ctx.store, self.ctx.current().agreement, name, content,
                                      **(self.read_options.options() | options))
        except SamordningError as refusal:
            self.read_options.offer(refusal)  # e.g. a mapping by hand that shows the file has no date column
            raise
        if prepared.duplicate_of is not None:
            self.status.show(message(f"{name} är redan inläst (uppladdning {prepared.duplicate_of}); inget har "
                                     "ändrats.", "ok"))
            return
        self.status.show(preview_html(name, prepared))
        self.prepared = prepared
        self.confirm.layout.display = "flex"
        self.map_toggle.layout.display = "flex" if prepared.export and prepared.export.kind != "SIE" else "none"

    def open_mapping(self) -> None:
        if self.received is None:
            return
        export = self.prepared.export if self.prepared else None
        preview = self.mapping.preview or peek(self.received[1], self.received[0])
        if export is None:
            self.mapping.open(preview)
        else:
            self.mapping.open(preview, export.sheet, export.header_row, export.columns)

    def store(self) -> None:
        prepared = self.prepared
        if prepared is None:
            return
        self.prepared = None
        self.confirm.layout.display = "none"
        self.ctx.actions.run(
            lambda: commit_import(self.ctx.store, self.ctx.current().agreement, prepared, user=self.name()),
            self.status.show,
            lambda result: f"Sparad som uppladdning {result.upload_id}. Siffrorna är uppdaterade.\n" + result.summary())

    def drop(self) -> None:
        self.prepared = None
        self.confirm.layout.display = "none"
        self.status.show(message("Avbrutet; inget har sparats."))

    def reinstate(self) -> None:
        upload_id = self.revert_choice.value
        if upload_id is None:
            return

        def done(stepped: dict[str, list[int]]) -> str:
            aside = "; ".join(f"{m}: uppladdning {', '.join(map(str, ids))}" for m, ids in sorted(stepped.items()))
            return f"Uppladdning {upload_id} gäller igen. Står åt sidan: {aside or 'inga'}."
        self.ctx.actions.run(lambda: self.ctx.store.reinstate(self.ctx.current().agreement.id, upload_id,
                                                              self.name()), self.status.show, done)

    def name(self) -> str:
        """The logged-in name the upload is stored with (the login gives it; there is no name to type)."""
        return self.ctx.user

