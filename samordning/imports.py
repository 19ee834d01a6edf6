"""The import pipeline shared by the CLI and the dashboard: read, classify, store, summarise."""

from __future__ import annotations

import getpass
import hashlib
from dataclasses import dataclass, field, replace

import pandas as pd

from samordning import rules
from samordning.agreement import Agreement
from samordning.errors import SamordningError
from samordning.followup import classify, counted, left_out_summary
from samordning.ingest import NAME_SV, Export, read_export
from samordning.mapping import sie_dimension
from samordning.money import format_kr
from samordning.names import shown
from samordning.store import ROW_COLUMNS, Store


@dataclass(frozen=True)
class ImportResult:
    filename: str
    sha256: str
    upload_id: int
    duplicate: bool                    # the same bytes were imported before: nothing changed
    sheet: str = ""
    rows_read: int = 0
    rows_imported: int = 0
    amount_imported_ore: int = 0
    left_out: pd.DataFrame | None = None   # reason, label, rows, amount_ore
    replaced: dict[str, list[int]] = field(default_factory=dict)  # month → older uploads it replaces
    summary_data: dict[str, object] = field(default_factory=dict)  # counts and sums as stored with the upload
    notes: tuple[str, ...] = ()        # which sheet was read and why, macros not run, a mapping reused

    def summary(self) -> str:
        """A short Swedish summary for the CLI and the dashboard."""
        if self.duplicate:
            return (f"{shown(self.filename)}: filen är redan inläst (uppladdning {self.upload_id}, "
                    f"sha256 {self.sha256[:12]}…); inget har ändrats.")
        total = format_kr(self.amount_imported_ore, ore_precision=True)
        lines = [f"{shown(self.filename)} (blad {self.sheet!r}): uppladdning {self.upload_id}, {self.rows_read} rader "
                 f"lästa, {self.rows_imported} räknas som utfall, summa {total}."]
        if self.left_out is not None:
            for item in self.left_out.itertuples():
                lines.append(f"  utelämnade: {item.rows} {'rad' if item.rows == 1 else 'rader'}, "
                             f"{format_kr(int(item.amount_ore), ore_precision=True)} – {item.label}")
        for month, older in sorted(self.replaced.items()):
            lines.append(f"  ersätter {month} från uppladdning {', '.join(map(str, older))}")
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "okänd"


def summarise(rows: pd.DataFrame, left: pd.DataFrame) -> dict[str, object]:
    """Counts and sums of classified rows, as stored with the upload (JSON-friendly, öre); ``left`` is their
    :func:`left_out_summary`."""
    used = counted(rows)
    return {
        "rows_read": len(rows),
        "rows_counted": len(used),
        "amount_counted_ore": int(used["amount_ore"].sum()),
        "left_out": {r.reason: {"rows": int(r.rows), "amount_ore": int(r.amount_ore)} for r in left.itertuples()},
        "areas": sorted(used["area"].dropna().unique().tolist()),
    }


@dataclass(frozen=True)
class PreparedImport:
    """A file read and classified but not yet stored: what the controller confirms before saving."""

    filename: str
    content: bytes
    sha256: str
    duplicate_of: int | None
    result: ImportResult | None = None          # the summary to show (None for a duplicate)
    export: Export | None = None
    will_replace: dict[str, list[int]] = field(default_factory=dict)  # month → uploads whose rows it replaces


def prepare_import(store: Store, agreement: Agreement, filename: str, content: bytes,
                   **read_options: object) -> PreparedImport:
    """Read and classify an export without storing anything. A file that cannot be read raises."""
    sha256 = hashlib.sha256(content).hexdigest()
    existing = store.find_upload(agreement.id, sha256)
    if existing is not None:
        return PreparedImport(filename, content, sha256, existing)
    if "saved" not in read_options:
        read_options["saved"] = store.column_mappings()
    _refuse_unstorable_mapping(agreement)
    export = read_export(content, shown(filename), **read_options)  # type: ignore[arg-type]
    if too_long := rules.row_lengths(export.rows, filename, export.sheet, export.columns):
        raise SamordningError(f"Filen {filename} har värden som är längre än databasen sparar; inget har sparats.",
                              too_long)
    rows = classify(export.rows, agreement)
    left = left_out_summary(rows)
    summary = summarise(rows, left)
    if export.period_given:
        summary["period_given"] = export.period_given
    if export.warnings:
        summary["warnings"] = list(export.warnings)
    months = sorted(export.rows["period"].dropna().unique().tolist())
    preview = ImportResult(filename, sha256, 0, duplicate=False, sheet=export.sheet, rows_read=len(rows),
                           rows_imported=int(summary["rows_counted"]),  # type: ignore[call-overload]
                           amount_imported_ore=int(summary["amount_counted_ore"]),  # type: ignore[call-overload]
                           left_out=left, summary_data=summary, notes=tuple(_notes(export)))
    return PreparedImport(filename, content, sha256, None, preview, export,
                          store.months_in_force(agreement.id, months))


def _refuse_unstorable_mapping(agreement: Agreement) -> None:
    """An agreement that maps by a SIE dimension number needs the rows' dimensions stored; until the store keeps
    them (a ``dimensions`` column of ledger_rows), its figures would differ from the preview: refuse, saying so."""
    if sie_dimension(agreement.mapping.dimension) is not None and "dimensions" not in ROW_COLUMNS:
        raise SamordningError(
            f"Avtalet {agreement.id} kopplar områdena efter SIE-dimension {agreement.mapping.dimension!r}, men "
            "databasen sparar ännu inte radernas SIE-dimensioner; inget har lästs in. Koppla efter projekt, "
            "ansvar, verksamhet, konto eller motpart tills vidare.")


def commit_import(store: Store, agreement: Agreement, prepared: PreparedImport, user: str | None = None
                  ) -> ImportResult:
    """Store a prepared import in one transaction."""
    if prepared.duplicate_of is not None or prepared.export is None or prepared.result is None:
        return ImportResult(prepared.filename, prepared.sha256, prepared.duplicate_of or 0, duplicate=True)
    export, preview = prepared.export, prepared.result
    upload_id, replaced = store.add_upload(
        agreement_id=agreement.id, filename=prepared.filename, content=prepared.content, sha256=prepared.sha256,
        user=user or current_user(), sheet=export.sheet, header_row=export.header_row, rows=export.rows,
        summary=preview.summary_data)
    if export.mapping_source == "manual":
        store.save_column_mapping(export.layout, export.columns, user or current_user())
    return replace(preview, upload_id=upload_id, replaced=replaced)


def _notes(export: Export) -> list[str]:
    notes = list(export.notes)
    if export.period_given:
        notes.append(f"Perioden {export.period_given} är angiven för hela filen (filen har inga datum).")
    notes += [f"Varning: {warning}" for warning in export.warnings]
    if export.mapping_source != "auto":
        how = "given nu; sparas för filer med samma rubriker" if export.mapping_source == "manual" else \
            "sparad tidigare för filer med samma rubriker"
        notes.append("Kolumnkoppling (" + how + "): " + ", ".join(
            f"{NAME_SV.get(name, name)} = {header!r}" for name, header in export.columns.items()) + ".")
    return notes


def import_export(store: Store, agreement: Agreement, filename: str, content: bytes,
                  user: str | None = None, **read_options: object) -> ImportResult:
    """Import one export for an agreement. A file that cannot be read raises and stores nothing."""
    return commit_import(store, agreement, prepare_import(store, agreement, filename, content, **read_options),
                         user)


def classified_rows(store: Store, agreement: Agreement) -> pd.DataFrame:
    """Every row in force of the agreement, classified (quarter, area, reason): the whole ledger in pandas. The
    figures are computed in the database by :mod:`samordning.figures`; this is for tests and small stores."""
    return classify(store.rows_in_force(agreement.id), agreement)


ledger = classified_rows  # the old name (not Store.ledger, which gives the rows unclassified)
