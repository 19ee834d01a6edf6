"""The import pipeline shared by the CLI and the dashboard: read, classify, store, summarise."""

from __future__ import annotations

import getpass
import hashlib
from dataclasses import dataclass, field

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
    replaced: dict[str, list[int]] = field(default_factory=dict)  # month → older uploads it replaces

    def summary(self) -> str:
        """A short Swedish summary for the CLI and the dashboard."""
        if self.duplicate:
            return (f"{self.filename}: filen är redan inläst (uppladdning {self.upload_id}, "
                    f"sha256 {self.sha256[:12]}…); inget har ändrats.")
        total = format_kr(self.amount_imported_ore, ore_precision=True)
        lines = [f"{self.filename} (blad {self.sheet!r}): uppladdning {self.upload_id}, {self.rows_read} rader "
                 f"lästa, {self.rows_imported} räknas som utfall, summa {total}."]
        if self.left_out is not None:
            for item in self.left_out.itertuples():
                lines.append(f"  utelämnade: {item.rows} {'rad' if item.rows == 1 else 'rader'}, "
                             f"{format_kr(int(item.amount_ore), ore_precision=True)} – {item.label}")
        for month, older in sorted(self.replaced.items()):
            lines.append(f"  ersätter {month} från uppladdning {', '.join(map(str, older))}")
        return "\n".join(lines)


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "okänd"


def summarise(rows: pd.DataFrame) -> dict[str, object]:
    """Counts and sums of classified rows, as stored with the upload (JSON-friendly, öre)."""
    used = counted(rows)
    left = left_out_summary(rows)
    return {
        "rows_read": len(rows),
        "rows_counted": len(used),
        "amount_counted_ore": int(used["amount_ore"].sum()),
        "left_out": {r.reason: {"rows": int(r.rows), "amount_ore": int(r.amount_ore)} for r in left.itertuples()},
        "areas": sorted(used["area"].dropna().unique().tolist()),
    }


def import_export(store: Store, agreement: Agreement, filename: str, content: bytes,
                  user: str | None = None) -> ImportResult:
    """Import one export for an agreement. A file that cannot be read raises and stores nothing."""
    sha256 = hashlib.sha256(content).hexdigest()
    existing = store.find_upload(agreement.id, sha256)
    if existing is not None:
        return ImportResult(filename, sha256, existing, duplicate=True)
    export = read_export(content, filename)
    rows = classify(export.rows, agreement)
    summary = summarise(rows)
    upload_id, replaced = store.add_upload(
        agreement_id=agreement.id, filename=filename, content=content, sha256=sha256,
        user=user or current_user(), sheet=export.sheet, header_row=export.header_row, rows=export.rows,
        summary=summary)
    return ImportResult(filename, sha256, upload_id, duplicate=False, sheet=export.sheet,
                        rows_read=len(rows), rows_imported=int(summary["rows_counted"]),  # type: ignore[call-overload]
                        amount_imported_ore=int(summary["amount_counted_ore"]),  # type: ignore[call-overload]
                        left_out=left_out_summary(rows), replaced=replaced)


def ledger(store: Store, agreement: Agreement) -> pd.DataFrame:
    """The agreement's rows in force, classified: what the follow-up and the views compute from."""
    return classify(store.ledger(agreement.id), agreement)
