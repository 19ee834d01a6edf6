"""The ``samordning`` command: a thin layer over the core, one subcommand per core function.

Errors reach the user as Swedish messages, never as tracebacks; an unexpected error is written to a
log file whose path the message names (``SAMORDNING_DEBUG=1`` prints it instead).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import traceback
import webbrowser
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from samordning import __version__, rules
from samordning.agreement import (
    AGREEMENT_ENV,
    ROOT,
    Agreement,
    agreement_path,
    quarter_label,
)
from samordning.agreement_cli import add_parser as add_agreement_parser
from samordning.agreements import resolve_agreement
from samordning.check import check
from samordning.errors import SamordningError
from samordning.figures import Figures
from samordning.followup import REASONS, WHOLE_PERIOD, quarter_records, withholding_cap, year_records, yearly
from samordning.imports import current_user, import_export
from samordning.ingest import CANONICAL_SV, file_period, read_regular_file
from samordning.money import format_kr, parse_kr
from samordning.names import shown
from samordning.queries import RowFilter, stream_rows
from samordning.serving import check_port
from samordning.store import DB_ENV, Store, default_db_path, resolve_url


def kronor(ore: int) -> float:
    """Öre as a JSON number of kronor. A float's shortest repr of ``ore / 100`` is the exact two-decimal
    amount for any sum a ledger holds (below 2**53 öre), so the JSON text is exact to the öre."""
    return ore / 100


# -- subcommands ---------------------------------------------------------------------------------

def cmd_import(args: argparse.Namespace, paths: Sequence[str] | None = None) -> int:
    agreement = resolve_agreement(args.agreement, args.db)
    if getattr(args, "user", None) is not None:
        rules.user(args.user)  # a bad name is bad input (exit 2), not a refused file
    store = Store.open(args.db)
    failed = 0
    options: dict[str, object] = {}
    if getattr(args, "sheet", None):
        options["sheet"] = args.sheet
    if getattr(args, "header_row", None) is not None:
        if args.header_row < 1:
            raise SamordningError(f"Rubrikraden ska vara ett radnummer i Excel, 1 eller större "
                                  f"(inte {args.header_row}).")
        options["header_row"] = args.header_row
    if getattr(args, "period", None):
        options["period"] = file_period(args.period)  # a quarter or a typo: refused before any file is read
    if getattr(args, "accept_unbalanced", False):
        options["accept_unbalanced"] = True
    if getattr(args, "column", None):
        columns = {}
        for item in args.column:
            key, sep, header = item.partition("=")
            if not sep or not header.strip():
                raise SamordningError(f"Ange kolumnkopplingen som FÄLT=RUBRIK, till exempel belopp=Utfall "
                                      f"(inte {item!r}).")
            columns[key.strip()] = header.strip()
        options["columns"] = columns
    for name in paths or args.files:
        path = Path(name)
        try:  # only a regular file, read with a bound: never a FIFO, a device or more than the size limit
            content = read_regular_file(path)
            result = import_export(store, agreement, path.name, content, user=args.user, **options)
        except SamordningError as exc:
            print(f"Avvisad: {exc.describe()}", file=sys.stderr)
            failed += 1
            continue
        print(result.summary())
    return 1 if failed else 0


def cmd_demo(args: argparse.Namespace) -> int:
    folder = ROOT / "data" / "exempel"
    files = sorted(folder.glob("*.xlsx"))
    if not files:
        raise SamordningError(f"Hittar inga exempelfiler i {folder}.")
    code = cmd_import(args, [str(f) for f in files])
    print(f"Demodata finns i {resolve_url(args.db)}.")
    return code


def cmd_quarters(args: argparse.Namespace) -> int:
    agreement = resolve_agreement(args.agreement, args.db)
    table = Figures.load(Store.open(args.db), agreement).quarterly(by_area=args.by_area)
    if args.by_year:
        return _print_years(agreement, yearly(table), args)
    if args.json:
        print(json.dumps(quarter_records(agreement, table), ensure_ascii=False, indent=2))
        return 0
    for row in table.itertuples():
        area = f" {agreement.area(row.area).name}" if args.by_area else ""
        print(f"{quarter_label(row.quarter)}{area}: förskott {format_kr(row.advance_ore)}, "
              f"utfall {format_kr(row.actual_ore)}, avvikelse {format_kr(row.variance_ore)}, "
              f"kvarstående {format_kr(row.balance_ore)}")
    return 0


def _print_years(agreement: Agreement, table: pd.DataFrame, args: argparse.Namespace) -> int:
    if args.json:
        _print_json(year_records(agreement, table))
        return 0
    for row in table.itertuples():
        area = f" {agreement.area(row.area).name}" if args.by_area else ""
        when = (f"Hela perioden {agreement.validity.start}–{agreement.validity.end}" if row.year == WHOLE_PERIOD
                else str(row.year))
        print(f"{when}{area}: förskott {format_kr(row.advance_ore)}, utfall {format_kr(row.actual_ore)}, "
              f"avvikelse {format_kr(row.variance_ore)}, kvarstående vid slutet {format_kr(row.balance_ore)}")
    return 0


def _positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} är inte ett heltal större än noll")
    return int(text)


def _parse_date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise SamordningError(f"Datumet {text!r} kan inte läsas; skriv ÅÅÅÅ-MM-DD, till exempel 2023-01-15.") from exc


def _quarter(agreement: Agreement, text: str | None) -> str | None:
    if text is None:
        return None
    quarter = text.upper().replace(" ", "").replace("KV", "Q")
    if quarter not in agreement.quarters:
        raise SamordningError(f"Kvartalet {text!r} ligger inte inom avtalet; "
                              f"välj bland {', '.join(agreement.quarters)}.")
    return quarter


def _area(agreement: Agreement, text: str | None) -> str | None:
    if text is None:
        return None
    for area in agreement.areas:
        if text.casefold() in (area.key.casefold(), area.name.casefold()):
            return area.key
    raise SamordningError(f"Området {text!r} finns inte; välj bland "
                          + ", ".join(f"{a.key} ({a.name})" for a in agreement.areas) + ".")


def _null_for_missing(data: object) -> object:
    """``data`` with every missing value (NaN, NaT, ``pd.NA``) as ``None``: JSON's ``null``, never ``NaN``
    (which is not JSON)."""
    if isinstance(data, dict):
        return {k: _null_for_missing(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_null_for_missing(v) for v in data]
    if data is pd.NA or data is pd.NaT or (isinstance(data, float) and math.isnan(data)):
        return None
    return data


def _print_json(data: object) -> None:
    print(json.dumps(_null_for_missing(data), ensure_ascii=False, indent=2, default=str, allow_nan=False))


def cmd_history(args: argparse.Namespace) -> int:
    agreement = resolve_agreement(args.agreement, args.db)
    frame = Store.open(args.db).uploads(agreement.id)
    records = [{
        "id": int(u.id), "sha256": u.sha256, "filename": u.filename, "user": u.uploaded_by,
        "uploaded_at": pd.Timestamp(u.uploaded_at).isoformat(), "sheet": u.sheet, "size_bytes": int(u.size_bytes),
        "periods": u.periods, "active_periods": u.active_periods, "status": u.status,
        "rows_read": u.summary.get("rows_read"), "rows_counted": u.summary.get("rows_counted"),
        "amount_counted": kronor(u.summary.get("amount_counted_ore", 0)),
        "left_out": {k: {"rows": v["rows"], "amount": kronor(v["amount_ore"])}
                     for k, v in u.summary.get("left_out", {}).items()},
        "period_given": u.summary.get("period_given"), "warnings": u.summary.get("warnings", []),
    } for u in frame.itertuples()]
    if args.json:
        _print_json(records)
        return 0
    if not records:
        print("Inga uppladdningar ännu.")
    for r in records:
        given = " (angiven för hela filen)" if r["period_given"] else ""
        print(f"{r['id']:>4}  {r['uploaded_at'][:16]}  {r['user']:<12} {shown(r['filename'])}  [{r['status']}]  "
              f"{', '.join(r['periods'])}{given}  {r['rows_read']} rader  sha256 {r['sha256'][:12]}…")
        for warning in r["warnings"]:
            print(f"      varning: {warning}")
    return 0


def cmd_rows(args: argparse.Namespace) -> int:
    """The rows behind a figure, streamed from the database a chunk at a time (as JSON: a valid array written
    as the rows come, ``null`` for what is missing)."""
    agreement = resolve_agreement(args.agreement, args.db)
    store = Store.open(args.db)
    reason = {"all": None, "counted": ""}.get(args.reason, args.reason)
    where = RowFilter(upload_id=args.upload, quarter=_quarter(agreement, args.quarter),
                      area=_area(agreement, args.area), reason=reason)
    rows = (r for chunk in stream_rows(store.engine, agreement, where) for r in chunk)
    records = ({
        "upload_id": r.upload_id, "file": r.filename, "sheet": r.sheet, "row": r.excel_row,
        "date": None if r.booking_date is None else r.booking_date.isoformat()[:10],
        "period": r.period, "account": r.account, "cost_centre": r.cost_centre, "project": r.project,
        "voucher": r.voucher, "text": r.text, "amount": kronor(r.amount_ore), "quarter": r.quarter,
        "area": r.area, "reason": r.reason or None, "in_force": r.in_force,
    } for r in rows)
    if args.json:
        first = True
        for record in records:
            item = json.dumps(record, ensure_ascii=False, indent=2, allow_nan=False)
            sys.stdout.write(("[\n  " if first else ",\n  ") + item.replace("\n", "\n  "))
            first = False
        sys.stdout.write("[]\n" if first else "\n]\n")
        return 0
    count = total = 0
    for r in records:
        why = f"  [{REASONS[r['reason']]}]" if r["reason"] else ""
        ore = round(r["amount"] * 100)
        print(f"{shown(r['file'])}:{r['row']:<5} {r['date'] or r['period'] or '':<10} {r['account']:<6} "
              f"{r['project']:<6} {format_kr(ore, ore_precision=True):>18}  {r['text']}{why}")
        count, total = count + 1, total + ore
    print(f"{count} rader, summa {format_kr(total, ore_precision=True)}")
    return 0


def cmd_revert(args: argparse.Namespace) -> int:
    agreement = resolve_agreement(args.agreement, args.db)
    stepped = Store.open(args.db).reinstate(agreement.id, args.upload, args.user or current_user())
    print(f"Uppladdning {args.upload} gäller igen för alla sina månader.")
    for month, ids in sorted(stepped.items()):
        print(f"  {month}: uppladdning {', '.join(map(str, ids))} står åt sidan")
    return 0


def cmd_payment(args: argparse.Namespace) -> int:
    agreement = resolve_agreement(args.agreement, args.db)
    store = Store.open(args.db)
    if args.action == "add":
        if not (args.quarter and args.amount and args.invoice):
            raise SamordningError("Ange --quarter, --amount och --invoice för en betalning.")
        pid = store.add_payment(agreement_id=agreement.id, quarter=_quarter(agreement, args.quarter) or "",
                                amount_ore=parse_kr(args.amount), invoice_no=args.invoice,
                                invoiced_on=_parse_date(args.invoiced), paid_on=_parse_date(args.paid),
                                user=args.user or current_user(), note=args.note or "")
        print(f"Betalning {pid} registrerad.")
        return 0
    frame = store.payments(agreement.id)
    records = [{"id": int(p.id), "quarter": p.quarter, "invoice_no": p.invoice_no,
                "invoiced_on": None if pd.isna(p.invoiced_on) else str(p.invoiced_on)[:10],
                "paid_on": None if pd.isna(p.paid_on) else str(p.paid_on)[:10],
                "amount": kronor(int(p.amount_ore)), "note": p.note, "by": p.by} for p in frame.itertuples()]
    if args.json:
        _print_json(records)
    else:
        for r in records:
            print(f"{r['id']:>3} {r['quarter']} faktura {r['invoice_no']} {format_kr(round(r['amount'] * 100))} "
                  f"fakturerad {r['invoiced_on'] or '–'} betald {r['paid_on'] or '–'}")
    return 0


def cmd_withhold(args: argparse.Namespace) -> int:
    agreement = resolve_agreement(args.agreement, args.db)
    store = Store.open(args.db)
    if args.action == "add":
        area = _area(agreement, args.area)
        if area is None or not args.amount or not args.reason:
            raise SamordningError("Ange --area, --amount och --reason för ett innehållande.")
        wid = store.add_withholding(
            agreement_id=agreement.id, area=area, amount_ore=parse_kr(args.amount), reason=args.reason,
            withheld_on=_parse_date(args.date) or dt.date.today(), cap_ore=withholding_cap(agreement, area),
            clause=agreement.dispute.clause, user=args.user or current_user())
        print(f"Innehållande {wid} registrerat (tak {format_kr(withholding_cap(agreement, area))}, "
              f"{agreement.dispute.clause}).")
    elif args.action == "release":
        if args.id is None:
            raise SamordningError("Ange --id för det innehållande som släpps.")
        store.release_withholding(agreement.id, args.id, _parse_date(args.date) or dt.date.today())
        print(f"Innehållande {args.id} släppt.")
    else:
        frame = store.withholdings(agreement.id)
        records = [{"id": int(w.id), "area": w.area, "amount": kronor(int(w.amount_ore)), "reason": w.reason,
                    "withheld_on": str(w.withheld_on)[:10],
                    "released_on": None if pd.isna(w.released_on) else str(w.released_on)[:10],
                    "cap": kronor(withholding_cap(agreement, w.area))} for w in frame.itertuples()]
        if args.json:
            _print_json(records)
        else:
            for r in records:
                print(f"{r['id']:>3} {agreement.area(r['area']).name}: {format_kr(round(r['amount'] * 100))} "
                      f"från {r['withheld_on']} släppt {r['released_on'] or '–'} – {r['reason']}")
    return 0


def cmd_comment(args: argparse.Namespace) -> int:
    agreement = resolve_agreement(args.agreement, args.db)
    store = Store.open(args.db)
    if args.action == "add":
        if not args.text:
            raise SamordningError("Ange kommentarens text med --text.")
        kind = "narrative" if args.narrative else "variance"
        cid = store.add_comment(agreement_id=agreement.id, text=args.text, author=args.user or current_user(),
                                quarter=_quarter(agreement, args.quarter), area=_area(agreement, args.area),
                                kind=kind)
        print(f"{'Återrapportering' if args.narrative else 'Kommentar'} {cid} sparad.")
        return 0
    frame = store.comments(agreement.id, history=args.history, kind="narrative" if args.narrative else "variance")
    records = [{"id": int(c.id), "quarter": c.quarter, "area": c.area, "text": c.text, "author": c.author,
                "at": pd.Timestamp(c.at).isoformat(), "current": bool(c.current),
                "supersedes": None if pd.isna(c.supersedes) else int(c.supersedes)} for c in frame.itertuples()]
    if args.json:
        _print_json(records)
    else:
        for r in records:
            target = " ".join(x for x in (r["quarter"], r["area"]) if x) or "hela avtalet"
            print(f"{r['id']:>3} [{target}] {r['author']} {r['at'][:16]}: {r['text']}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from samordning.report import FORMATS, finalize
    from samordning.ui.document import renderer, report_file  # the HTML/PDF writer is UI; Excel stays domain

    agreement = resolve_agreement(args.agreement, args.db)
    out = Path(args.out)
    if out.suffix.lower() not in FORMATS:
        raise SamordningError(f"Ange en fil som slutar på {', '.join(FORMATS)} (inte {out.name!r}); ändelsen "
                              "väljer format.")
    _check_writable(out)
    store = Store.open(args.db)
    if args.finalize:
        if not args.presented:
            raise SamordningError("Ange datumet då rapporten presenterades för samverkansrådet: "
                                  "--presented ÅÅÅÅ-MM-DD.")
        report_id, report, content = finalize(
            store, agreement, _parse_date(args.presented), quarter=_quarter(agreement, args.quarter),
            suffix=out.suffix.lower(), render=renderer(out.suffix), user=args.user or current_user(),
            replace=args.replace)
        out.write_bytes(content)
        print(f"Rapport nr {report_id} för {quarter_label(report.quarter)} är fastställd som presenterad "
              f"{args.presented} och sparad; en kopia är skriven till {out}. sha256 "
              f"{hashlib.sha256(content).hexdigest()}.")
        return 0
    if out.suffix.lower() == ".xlsx":  # streamed from the database straight into the file, never all in memory
        from samordning.report import build_report
        from samordning.report.excel import write_report

        report = build_report(store, agreement, _quarter(agreement, args.quarter))
        partial = out.with_name(out.name + ".delvis")
        write_report(report, str(partial))
        partial.replace(out)
    else:
        report, content = report_file(store, agreement, out.suffix, _quarter(agreement, args.quarter))
        out.write_bytes(content)
    actual = next(f for f in report.figures if f.key == "actual")
    print(f"Rapporten för {agreement.id} till och med {quarter_label(report.quarter)} är skriven till {out} "
          f"({FORMATS[out.suffix.lower()]}). Utfall hittills {format_kr(actual.ore)}; "
          f"{len(report.uploads)} uppladdningar bakom siffrorna.")
    return 0


def _check_writable(out: Path) -> None:
    """Refuse an output file that cannot be written before anything is made or stored (a finalized report
    would otherwise be stored while its copy fails)."""
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise SamordningError(f"Mappen {folder} finns inte; ange en fil i en befintlig mapp med --out.")
    if not os.access(folder, os.W_OK) or (out.exists() and (out.is_dir() or not os.access(out, os.W_OK))):
        raise SamordningError(f"Filen {out} kan inte skrivas (saknar skrivrätt, eller är en mapp).")


def cmd_signoff(args: argparse.Namespace) -> int:
    agreement = resolve_agreement(args.agreement, args.db)
    quarter = _quarter(agreement, args.quarter)
    Store.open(args.db).add_signoff(agreement_id=agreement.id, quarter=quarter, party_role=args.party,
                                    name=args.name, title=args.title, signed_on=_parse_date(args.date),
                                    user=args.user or current_user())
    print(f"Underskrift för {agreement.party(args.party).name} i rapporten för {quarter_label(quarter)} är sparad.")
    return 0


def cmd_reports(args: argparse.Namespace) -> int:
    agreement = resolve_agreement(args.agreement, args.db)
    store = Store.open(args.db)
    if args.save is not None:
        if not args.out:
            raise SamordningError("Ange filen att spara till med --out.")
        filename, content = store.final_report_content(agreement.id, args.save)
        _check_writable(Path(args.out))
        Path(args.out).write_bytes(content)
        print(f"Fastställd rapport {args.save} ({shown(filename)}) är sparad till {args.out}.")
        return 0
    frame = store.final_reports(agreement.id)
    records = [{
        "id": int(r.id), "quarter": r.quarter, "presented_on": str(pd.Timestamp(r.presented_on).date()),
        "filename": r.filename, "sha256": r.sha256, "by": r.by, "at": pd.Timestamp(r.at).isoformat(),
        "replaces": None if pd.isna(r.replaces) else int(r.replaces),
        "replaced_by": None if pd.isna(r.replaced_by) else int(r.replaced_by),
        "uploads": json.loads(r.uploads), "figures": json.loads(r.figures),
        "agreement_version": None if pd.isna(r.agreement_version_number) else int(r.agreement_version_number),
    } for r in frame.itertuples()]
    if args.json:
        _print_json(records)
        return 0
    if not records:
        print("Inga fastställda rapporter ännu (samordning report --finalize --presented ÅÅÅÅ-MM-DD --out FIL).")
    for r in records:
        state = f", ersatt av {r['replaced_by']}" if r["replaced_by"] else ""
        version = f"  avtalsversion {r['agreement_version']}" if r["agreement_version"] else ""
        print(f"{r['id']:>3}  {quarter_label(r['quarter'])}  presenterad {r['presented_on']}  {shown(r['filename'])}  "
              f"sha256 {r['sha256'][:12]}…{version}{state}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    agreement = resolve_agreement(args.agreement, args.db)
    findings = check(agreement)
    if args.json:
        print(json.dumps([{"rule": f.rule, "clause": f.clause, "title": f.title, "detail": f.detail,
                           "amount": None if f.amount_ore is None else kronor(f.amount_ore)} for f in findings],
                         ensure_ascii=False, indent=2))
        return 0
    print(f"Avtal {agreement.id}: {len(findings)} iakttagelser")
    for f in findings:
        print(f"\n[{f.clause}] {f.title}\n    {f.detail}")
    return 0


def voila_command(notebook: Path, port: int, ip: str = "127.0.0.1", base_url: str | None = None,
                  config_dir: Path | None = None, *, max_viewers: int | None = None) -> list[str]:
    """Voilà serving ``notebook`` with the settings in ``notebooks/voila.json`` (the benchmark serves its empty
    notebook through this too, so both are served the same way), or in ``config_dir``'s ``voila.json``
    (:func:`samordning.login.voila_config`, which adds the authentication). Voilà runs as
    ``samordning.ui.server`` (kernels that end with their page, the cap on page kernels)."""
    config_dir = config_dir or ROOT / "notebooks"
    command = [sys.executable, "-m", "samordning.ui.server", str(notebook), f"--Voila.config_file_paths={config_dir}",
               f"--port={port}", f"--Voila.ip={ip}", "--no-browser"]
    if base_url:
        command.append(f"--Voila.base_url={base_url}")
    if max_viewers is not None:
        command.append(f"--PageKernelManager.max_viewers={max_viewers}")
    return command


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the dashboard with Voilà. Static settings live in ``notebooks/voila.json``; the role, the address
    and the authentication are chosen here."""
    from samordning.ui import ROLE_ENV  # not the dashboard: it imports plotly and pandas

    rules.port(args.port)
    check_port(args.ip, args.port)
    path = agreement_path(args.agreement)
    resolve_agreement(str(path), args.db)  # refuse a malformed file here, not in the browser; store its version
    notebook = ROOT / "notebooks" / "dashboard.ipynb"
    if not notebook.is_file():
        raise SamordningError(f"Hittar inte instrumentpanelen {notebook}.")
    env = dict(os.environ, **{DB_ENV: resolve_url(args.db), AGREEMENT_ENV: str(path),
                              ROLE_ENV: "controller" if args.controller else "council"})
    for secret in ("SAMORDNING_TOKEN", "SAMORDNING_PASSWORD_HASH"):  # Voilà reads them from its config file
        env.pop(secret, None)
    Store.open(env[DB_ENV])  # create or upgrade the schema before any kernel starts
    shown = opened = f"http://{args.ip}:{args.port}{args.base_url or '/'}"
    # Authentication is Jupyter's own: a token or a hashed password. The controllers' view always has one
    # (a token is made up when none is given); the council's view has one when asked for.
    password_hash = args.password_hash or (os.environ.get("SAMORDNING_PASSWORD_HASH") if args.controller else None)
    token = args.token or (os.environ.get("SAMORDNING_TOKEN") or secrets.token_urlsafe(24) if args.controller
                           else None)
    view = "Controllervyn" if args.controller else "Samverkansrådets läsvy"
    from samordning.login import voila_config

    config_dir = voila_config(ROOT / "notebooks" / "voila.json", token, password_hash)
    command = voila_command(notebook, args.port, args.ip, args.base_url, config_dir, max_viewers=args.max_viewers)
    if password_hash:
        print(f"{view} startar på {shown} (inloggning med lösenord).", flush=True)
    elif token:
        opened = f"{shown}?token={token}"
        print(f"{view} startar på {opened}", flush=True)
    else:
        print(f"{view} startar på {shown}", flush=True)
    print("Avsluta med Ctrl+C.", flush=True)
    if not args.no_browser:
        threading.Timer(3.0, webbrowser.open, [opened]).start()
    # Voilà runs as a child: a service manager's SIGTERM to this process is passed on, so Voilà shuts its
    # kernels down instead of living on as an orphan; Ctrl+C reaches both (one process group).
    proc = subprocess.Popen(command, env=env)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: proc.terminate())
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                continue  # Voilà got the same Ctrl+C and is shutting down: wait for it
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


# -- the parser and the entry point ----------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"samordning: fel i kommandot: {message}\nSe 'samordning --help'.\n")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help=f"databas: sökväg till SQLite-fil eller SQLAlchemy-URL "
                                     f"(annars ${DB_ENV}, annars {default_db_path()})")
    common.add_argument("--agreement", help="avtals-id i databasen, eller en avtalsfil som då läses in som ny version "
                                            "(annars det enda avtalet i databasen)")

    parser = _Parser(prog="samordning", description="Kvartalsvis ekonomisk uppföljning av samverkansavtal.")
    parser.add_argument("--version", action="version", version=f"samordning {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="KOMMANDO", parser_class=_Parser)

    p = sub.add_parser("demo", parents=[common], help="läs in exempelexporterna i databasen")
    p.add_argument("--user", help="vem som laddar upp (annars inloggad användare)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", parents=[common],
                       help="läs in exporter från ekonomisystemet (Excel, CSV eller SIE 4)")
    p.add_argument("files", nargs="+", metavar="FIL")
    p.add_argument("--sheet", metavar="BLAD", help="bladet att läsa (annars bladet med den största tabellen)")
    p.add_argument("--column", action="append", metavar="FÄLT=RUBRIK",
                   help="koppla en kolumn för hand när den inte känns igen; FÄLT är något av "
                        + ", ".join(CANONICAL_SV) + ". Kopplingen sparas för filer med samma rubriker.")
    p.add_argument("--header-row", type=int, metavar="RAD", help="rubrikradens radnummer i Excel")
    p.add_argument("--period", metavar="ÅÅÅÅ-MM",
                   help="månaden för alla rader i en fil utan datum- eller periodkolumn (ett kvartal avvisas)")
    p.add_argument("--accept-unbalanced", action="store_true",
                   help="läs in en SIE-fil trots verifikationer som inte balanserar; varningen sparas")
    p.add_argument("--user", help="vem som laddar upp (annars inloggad användare)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("quarters", parents=[common], help="förskott, utfall och avvikelse per kvartal")
    p.add_argument("--by-area", action="store_true", help="per kvartal och område")
    p.add_argument("--by-year", action="store_true", help="per år och för hela avtalsperioden")
    p.add_argument("--json", action="store_true", help="skriv JSON (belopp i kronor)")
    p.set_defaults(func=cmd_quarters)

    p = sub.add_parser("history", parents=[common], help="uppladdningarnas historik (med sha256)")
    p.add_argument("--json", action="store_true", help="skriv JSON")
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("rows", parents=[common], help="raderna bakom en siffra, med källfil och rad")
    p.add_argument("--upload", type=int, help="bara en uppladdning (också ersatta rader)")
    p.add_argument("--quarter", help="kvartal, t.ex. 2023Q2")
    p.add_argument("--area", help="område (nyckel eller namn)")
    p.add_argument("--reason", default="all", choices=["all", "counted", *REASONS],
                   help="counted = räknas som utfall; annars skälet att raden utelämnats")
    p.add_argument("--json", action="store_true", help="skriv JSON")
    p.set_defaults(func=cmd_rows)

    p = sub.add_parser("revert", parents=[common], help="låt en ersatt uppladdning gälla igen")
    p.add_argument("upload", type=int, metavar="UPPLADDNING")
    p.add_argument("--user", help="vem som gör ändringen")
    p.set_defaults(func=cmd_revert)

    p = sub.add_parser("payment", parents=[common], help="fakturerade och betalda förskott (§6)")
    p.add_argument("action", choices=["add", "list"])
    p.add_argument("--quarter")
    p.add_argument("--amount", help="belopp i kronor")
    p.add_argument("--invoice", help="fakturanummer")
    p.add_argument("--invoiced", help="fakturadatum ÅÅÅÅ-MM-DD")
    p.add_argument("--paid", help="betaldatum ÅÅÅÅ-MM-DD")
    p.add_argument("--note")
    p.add_argument("--user")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_payment)

    p = sub.add_parser("withhold", parents=[common], help="innehållen ersättning vid tvist (§10)")
    p.add_argument("action", choices=["add", "release", "list"])
    p.add_argument("--area")
    p.add_argument("--amount", help="belopp i kronor")
    p.add_argument("--reason")
    p.add_argument("--date", help="ÅÅÅÅ-MM-DD (annars i dag)")
    p.add_argument("--id", type=int, help="innehållandet som släpps")
    p.add_argument("--user")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_withhold)

    p = sub.add_parser("comment", parents=[common], help="kommentarer till avvikelser")
    p.add_argument("action", choices=["add", "list"])
    p.add_argument("--quarter")
    p.add_argument("--area")
    p.add_argument("--text")
    p.add_argument("--history", action="store_true", help="visa också tidigare versioner")
    p.add_argument("--narrative", action="store_true",
                   help="återrapportering av uppdraget per område (§7) i stället för en kommentar till en avvikelse")
    p.add_argument("--user")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_comment)

    p = sub.add_parser("signoff", parents=[common], help="underskrift för en part i en kvartalsrapport")
    p.add_argument("--quarter", required=True)
    p.add_argument("--party", required=True, choices=["utförare", "beställare"])
    p.add_argument("--name", required=True)
    p.add_argument("--title", default="", help="befattning")
    p.add_argument("--date", help="datum för underskriften, ÅÅÅÅ-MM-DD (annars tom rad att fylla i)")
    p.add_argument("--user")
    p.set_defaults(func=cmd_signoff)

    p = sub.add_parser("reports", parents=[common], help="fastställda rapporter (presenterade för samverkansrådet)")
    p.add_argument("--save", type=int, metavar="NR", help="spara den fastställda rapporten NR till --out")
    p.add_argument("--out", help="fil att spara till (med --save)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_reports)

    p = sub.add_parser("report", parents=[common], help="den ekonomiska rapporten (§7) som xlsx, pdf eller html")
    p.add_argument("--quarter", help="till och med kvartal, t.ex. 2023Q2 (annars det senaste med utfall)")
    p.add_argument("--out", required=True, help="filen att skriva; ändelsen väljer format: .xlsx, .pdf eller .html")
    p.add_argument("--finalize", action="store_true",
                   help="fastställ rapporten som presenterad för samverkansrådet: sparas och ändras aldrig")
    p.add_argument("--presented", help="datum då rapporten presenterades, ÅÅÅÅ-MM-DD (med --finalize)")
    p.add_argument("--replace", action="store_true", help="ersätt en tidigare fastställd rapport för kvartalet")
    p.add_argument("--user")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("check", parents=[common], help="avtalets egna motsägelser och luckor")
    p.add_argument("--json", action="store_true", help="skriv JSON")
    p.set_defaults(func=cmd_check)

    add_agreement_parser(sub, common)

    p = sub.add_parser("serve", parents=[common], help="visa instrumentpanelen i webbläsaren (Voilà)")
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--ip", default="127.0.0.1", help="adress att lyssna på (bakom en omvänd proxy: 127.0.0.1)")
    p.add_argument("--base-url", help="sökvägsprefix bakom en omvänd proxy, t.ex. /samordning/")
    p.add_argument("--controller", action="store_true",
                   help="controllervyn (uppladdning, kommentarer, betalningar); kräver token eller lösenord")
    p.add_argument("--token", help="kräv denna token (controllervyn: annars $SAMORDNING_TOKEN, annars slumpas en)")
    p.add_argument("--password-hash", help="kräv lösenord: hash från jupyter_server.auth.passwd() i stället för "
                                            "token (controllervyn: annars $SAMORDNING_PASSWORD_HASH)")
    p.add_argument("--no-browser", action="store_true", help="öppna ingen webbläsare")
    p.add_argument("--max-viewers", type=_positive_int, metavar="N",
                   help="högst N sidor (kärnor) samtidigt; fler får 'Många tittar just nu' (annars voila.json)")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SamordningError as exc:
        print(exc.describe(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into head and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:
        if os.environ.get("SAMORDNING_DEBUG"):
            raise
        log = default_db_path().parent / "fel.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        # Owner-only (the umask may make it stricter); SQL parameters are hidden by the engine, so the log
        # holds the error and where it happened, not ledger rows.
        with os.fdopen(os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a", encoding="utf-8") as fh:
            fh.write(f"{dt.datetime.now().isoformat(timespec='seconds')} samordning {__version__}\n"
                     + traceback.format_exc() + "\n")
        print(f"Ett oväntat fel inträffade. Detaljer finns i {log}. Kontakta den som förvaltar samordning.",
              file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
