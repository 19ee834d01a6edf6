"""The figures and the report: ``quarters``, ``check``, ``report``, ``reports``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from samordning.cli.common import (
    agreement_of,
    check_writable,
    kronor,
    parse_date,
    print_json,
    quarter,
    store_of,
    user_of,
)
from samordning.errors import SamordningError

if TYPE_CHECKING:
    from samordning.agreement import Agreement
    from samordning.store import Store


def cmd_quarters(args: argparse.Namespace) -> int:
    from samordning.agreement import quarter_label
    from samordning.figures import quarter_table  # the dashboard's and the report's rule, without pandas
    from samordning.money import format_kr
    from samordning.quarters import quarter_record

    agreement = agreement_of(args)
    if args.by_year:
        from samordning.figures import Figures  # the years are summed from the quarterly frame

        return _print_years(agreement, Figures.load(store_of(args), agreement).quarterly(by_area=args.by_area), args)
    table = quarter_table(store_of(args), agreement, by_area=args.by_area)
    if args.json:
        print_json([quarter_record(agreement, row, with_area=args.by_area) for row in table])
        return 0
    for row in table:
        area = f" {agreement.area(row.area).name}" if args.by_area else ""
        print(f"{quarter_label(row.quarter)}{area}: förskott {format_kr(row.advance_ore)}, "
              f"utfall {format_kr(row.actual_ore)}, avvikelse {format_kr(row.variance_ore)}, "
              f"kvarstående {format_kr(row.balance_ore)}")
    return 0


def _print_years(agreement: Agreement, quarters: object, args: argparse.Namespace) -> int:
    """``quarters --by-year``: per calendar year and for the whole period."""
    from samordning.followup import WHOLE_PERIOD, year_records, yearly
    from samordning.money import format_kr

    table = yearly(quarters)  # type: ignore[arg-type]
    if args.json:
        print_json(year_records(agreement, table))
        return 0
    for row in table.itertuples():
        area = f" {agreement.area(row.area).name}" if args.by_area else ""
        when = (f"Hela perioden {agreement.validity.start}–{agreement.validity.end}" if row.year == WHOLE_PERIOD
                else str(row.year))
        print(f"{when}{area}: förskott {format_kr(row.advance_ore)}, utfall {format_kr(row.actual_ore)}, "
              f"avvikelse {format_kr(row.variance_ore)}, kvarstående vid slutet {format_kr(row.balance_ore)}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from samordning.check import check

    agreement = agreement_of(args)
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


def cmd_report(args: argparse.Namespace) -> int:
    from samordning.agreement import quarter_label
    from samordning.money import format_kr
    from samordning.report import FORMATS
    from samordning.ui.document import report_file  # the HTML/PDF writer is UI; Excel stays domain

    agreement = agreement_of(args)
    out = Path(args.out)
    if out.suffix.lower() not in FORMATS:
        raise SamordningError(f"Ange en fil som slutar på {', '.join(FORMATS)} (inte {out.name!r}); ändelsen "
                              "väljer format.")
    check_writable(out)
    store = store_of(args)
    if args.finalize:
        return _finalize(args, agreement, store, out)
    if out.suffix.lower() == ".xlsx":  # streamed from the database straight into the file, never all in memory
        from samordning.report import build_report
        from samordning.report.excel import write_report

        report = build_report(store, agreement, quarter(agreement, args.quarter))
        partial = out.with_name(out.name + ".delvis")
        write_report(report, str(partial))
        partial.replace(out)
    else:
        report, content = report_file(store, agreement, out.suffix, quarter(agreement, args.quarter))
        out.write_bytes(content)
    actual = next(f for f in report.figures if f.key == "actual")
    print(f"Rapporten för {agreement.id} till och med {quarter_label(report.quarter)} är skriven till {out} "
          f"({FORMATS[out.suffix.lower()]}). Utfall hittills {format_kr(actual.ore)}; "
          f"{len(report.uploads)} uppladdningar bakom siffrorna.")
    return 0


def _finalize(args: argparse.Namespace, agreement: Agreement, store: Store, out: Path) -> int:
    """``report --finalize``: the report stored as presented to the council, and a copy written to ``out``."""
    import hashlib

    from samordning.agreement import quarter_label
    from samordning.report import finalize
    from samordning.ui.document import renderer

    if not args.presented:
        raise SamordningError("Ange datumet då rapporten presenterades för samverkansrådet: "
                              "--presented ÅÅÅÅ-MM-DD.")
    report_id, report, content = finalize(
        store, agreement, parse_date(args.presented), quarter=quarter(agreement, args.quarter),
        suffix=out.suffix.lower(), render=renderer(out.suffix), user=user_of(args), replace=args.replace)
    out.write_bytes(content)
    print(f"Rapport nr {report_id} för {quarter_label(report.quarter)} är fastställd som presenterad "
          f"{args.presented} och sparad; en kopia är skriven till {out}. sha256 "
          f"{hashlib.sha256(content).hexdigest()}.")
    return 0


def cmd_reports(args: argparse.Namespace) -> int:
    import pandas as pd

    from samordning.agreement import quarter_label
    from samordning.agreements import version_numbers
    from samordning.cli.common import optional_int
    from samordning.localtime import local_iso
    from samordning.names import shown

    agreement = agreement_of(args)
    store = store_of(args)
    numbers = version_numbers(store, agreement.id)
    if args.save is not None:
        if not args.out:
            raise SamordningError("Ange filen att spara till med --out.")
        filename, content = store.final_report_content(agreement.id, args.save)
        check_writable(Path(args.out))
        Path(args.out).write_bytes(content)
        print(f"Fastställd rapport {args.save} ({shown(filename)}) är sparad till {args.out}.")
        return 0
    records = [{
        "id": int(r.id), "quarter": r.quarter, "presented_on": str(pd.Timestamp(r.presented_on).date()),
        "filename": r.filename, "sha256": r.sha256, "by": r.by, "at": local_iso(r.at),
        "replaces": optional_int(r.replaces), "replaced_by": optional_int(r.replaced_by),
        "uploads": json.loads(r.uploads), "figures": json.loads(r.figures),
        "agreement_version": numbers.get(optional_int(r.agreement_version)),  # type: ignore[arg-type]
    } for r in store.final_reports(agreement.id).itertuples()]
    if args.json:
        print_json(records)
        return 0
    if not records:
        print("Inga fastställda rapporter ännu (samordning report --finalize --presented ÅÅÅÅ-MM-DD --out FIL).")
    for r in records:
        state = f", ersatt av {r['replaced_by']}" if r["replaced_by"] else ""
        version = f"  avtalsversion {r['agreement_version']}" if r["agreement_version"] else ""
        print(f"{r['id']:>3}  {quarter_label(r['quarter'])}  presenterad {r['presented_on']}  {shown(r['filename'])}  "
              f"sha256 {r['sha256'][:12]}…{version}{state}")
    return 0


# -- the parsers --------------------------------------------------------------------------------------------

def add_quarters(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("quarters", parents=[common], help="förskott, utfall och avvikelse per kvartal")
    p.add_argument("--by-area", action="store_true", help="per kvartal och område")
    p.add_argument("--by-year", action="store_true", help="per år och för hela avtalsperioden")
    p.add_argument("--json", action="store_true", help="skriv JSON (belopp i kronor)")
    p.set_defaults(func=cmd_quarters)


def add_check(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("check", parents=[common], help="avtalets egna motsägelser och luckor")
    p.add_argument("--json", action="store_true", help="skriv JSON")
    p.set_defaults(func=cmd_check)


def add_reports(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("reports", parents=[common], help="fastställda rapporter (presenterade för samverkansrådet)")
    p.add_argument("--save", type=int, metavar="NR", help="spara den fastställda rapporten NR till --out")
    p.add_argument("--out", help="fil att spara till (med --save)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_reports)


def add_report(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("report", parents=[common], help="den ekonomiska rapporten (§7) som xlsx, pdf eller html")
    p.add_argument("--quarter", help="till och med kvartal, t.ex. 2023Q2 (annars det senaste med utfall)")
    p.add_argument("--out", required=True, help="filen att skriva; ändelsen väljer format: .xlsx, .pdf eller .html")
    p.add_argument("--finalize", action="store_true",
                   help="fastställ rapporten som presenterad för samverkansrådet: sparas och ändras aldrig")
    p.add_argument("--presented", help="datum då rapporten presenterades, ÅÅÅÅ-MM-DD (med --finalize)")
    p.add_argument("--replace", action="store_true", help="ersätt en tidigare fastställd rapport för kvartalet")
    p.add_argument("--user")
    p.set_defaults(func=cmd_report)
