"""The import pipeline shared by the CLI and the dashboard: read, classify, store, summarise."""

from __future__ import annotations

import getpass
import hashlib
from dataclasses import dataclass

import pandas as pd

from samordning.agreement import Agreement
from samordning.followup import classify, counted, left_out_summary
from samordning.ingest import read_export
from samordning.money import format_kr
from samordning.store import Store


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

    def summary(self) -> str:
        """A short Swedish summary for the CLI and the dashboard."""
        if self.duplicate:
            return (f"{self.filename}: filen är redan inläst (uppladdning {self.upload_id}, "
                    f"sha256 {self.sha256[:12]}…); inget har ändrats.")
        total = format_kr(self.amount_imported_ore, ore_precision=True)
        lines = [f"{self.filename} (blad {self.sheet!r}): {self.rows_read} rader lästa, "
                 f"{self.rows_imported} räknas som utfall, summa {total}."]
        if self.left_out is not None:
            for item in self.left_out.itertuples():
                lines.append(f"  utelämnade: {item.rows} rader, {format_kr(int(item.amount_ore), ore_precision=True)}"
                             f" – {item.label}")
        return "\n".join(lines)


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "okänd"


def import_export(store: Store, agreement: Agreement, filename: str, content: bytes,
                  user: str | None = None) -> ImportResult:
    """Import one export for an agreement. A file that cannot be read raises and stores nothing."""
    sha256 = hashlib.sha256(content).hexdigest()
    existing = store.find_upload(agreement.id, sha256)
    if existing is not None:
        return ImportResult(filename, sha256, existing, duplicate=True)
    export = read_export(content, filename)
    rows = classify(export.rows, agreement)
    upload_id = store.add_upload(agreement_id=agreement.id, filename=filename, content=content, sha256=sha256,
                                 user=user or current_user(), sheet=export.sheet, header_row=export.header_row,
                                 rows=export.rows)
    used = counted(rows)
    return ImportResult(filename, sha256, upload_id, duplicate=False, sheet=export.sheet, rows_read=len(rows),
                        rows_imported=len(used), amount_imported_ore=int(used["amount_ore"].sum()),
                        left_out=left_out_summary(rows))


def ledger(store: Store, agreement: Agreement) -> pd.DataFrame:
    """The agreement's stored rows, classified: what the follow-up and the views compute from."""
    return classify(store.ledger(agreement.id), agreement)
