"""``agreement import|export|list|show|versions``: the stored agreements and their versions (the core is
:mod:`samordning.agreements`, imported when the command runs)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from samordning.cli.common import print_json, store_of, user_of
from samordning.errors import SamordningError

if TYPE_CHECKING:
    from samordning.agreements import Version
    from samordning.store import Store

ACTIONS = ("import", "export", "list", "show", "versions")


def add_agreement(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("agreement", parents=[common], help="avtalen i databasen och deras versioner")
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("target", nargs="?", metavar="ID|FIL",
                   help="avtalets id (export, show, versions; annars --agreement) eller filen att läsa in (import)")
    p.add_argument("--version", type=int, metavar="N", help="versionen att exportera (annars den som gäller)")
    p.add_argument("--out", help="filen att skriva (export)")
    p.add_argument("--reason", help="skälet till ändringen (krävs när gällande version är undertecknad)")
    p.add_argument("--user", help="vem som gör ändringen (annars inloggad användare)")
    p.add_argument("--json", action="store_true", help="skriv JSON")
    p.add_argument("--text-diff", action="store_true",
                   help="versions: visa också skillnaden i TOML-texten, med kommentarer och layout")
    p.set_defaults(func=cmd_agreement)


def _summary(v: Version) -> dict[str, object]:
    from samordning.localtime import local_time

    a = v.agreement
    return {"id": a.id, "title": a.title, "short_title": a.short_title, "version": v.number, "status": v.status,
            "signed_on": None if v.signed_on is None else v.signed_on.isoformat(),
            "start": a.validity.start.isoformat(), "end": a.validity.end.isoformat(),
            "compensation": a.compensation_ore / 100, "areas": [x.name for x in a.areas],
            "findings": len(v.findings), "by": v.by, "at": local_time(v.at)}


def _version_record(v: Version) -> dict[str, object]:
    from samordning.localtime import local_time

    return {"version": v.number, "status": v.status, "signed_on": None if v.signed_on is None else str(v.signed_on),
            "by": v.by, "at": local_time(v.at), "reason": v.reason, "diff": v.diff,
            "changes": [{"path": c.path, "before": c.before, "after": c.after} for c in v.changes],
            "findings": v.findings,
            "fixed": v.fixed, "introduced": v.introduced}


def cmd_agreement(args: argparse.Namespace) -> int:
    store = store_of(args)
    return {"import": _import, "export": _export, "list": _list, "show": _show, "versions": _versions
            }[args.action](store, args)


def _import(store: Store, args: argparse.Namespace) -> int:
    from samordning import rules
    from samordning.agreements import import_file
    from samordning.names import shown

    if not args.target:
        raise SamordningError("Ange avtalsfilen att läsa in: samordning agreement import FIL.")
    saved, new = import_file(store, args.target, user=rules.user(user_of(args)), reason=args.reason or "")
    if not new:
        print(f"Avtal {shown(saved.agreement_id)}: filen är densamma som version {saved.number}; ingen ny version.")
        return 0
    print(f"Avtal {shown(saved.agreement_id)} version {saved.number} ({saved.status}) sparad av {shown(saved.by)}.")
    for f in saved.introduced:
        print(f"  ny iakttagelse [{f['clause']}] {f['title']}")
    for f in saved.fixed:
        print(f"  åtgärdad iakttagelse [{f['clause']}] {f['title']}")
    return 0


def _chosen(store: Store, args: argparse.Namespace) -> Version:
    from samordning.agreements import resolve

    return resolve(store, args.target or args.agreement, user=args.user)


def _export(store: Store, args: argparse.Namespace) -> int:
    from samordning.agreements import version
    from samordning.names import shown

    if not args.out:
        raise SamordningError("Ange filen att skriva med --out.")
    chosen = version(store, _chosen(store, args).agreement_id, args.version)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise SamordningError(f"Mappen {out.parent} finns inte; ange en fil i en befintlig mapp med --out.")
    try:
        out.write_text(chosen.text, encoding="utf-8")
    except OSError as exc:
        raise SamordningError(f"Filen {out} kan inte skrivas ({exc.strerror}).") from exc
    print(f"Avtal {shown(chosen.agreement_id)} version {chosen.number} är skriven till {out}.")
    return 0


def _list(store: Store, args: argparse.Namespace) -> int:
    from samordning.money import format_kr
    from samordning.names import shown
    from samordning.portfolio import portfolio

    entries = portfolio(store)
    if args.json:
        print_json([{"id": e.id, "title": e.title, "version": e.version, "status": e.status, "start": e.start,
                      "end": e.end, "compensation": e.compensation_ore / 100, "advanced": e.advanced_ore / 100,
                      "actual": e.actual_ore / 100,
                      "utilisation": None if e.utilisation is None else round(e.utilisation, 4),
                      "repayment": e.repayment_ore / 100, "withheld": e.withheld_ore / 100, "findings": e.findings,
                      "next_report": e.next_report} for e in entries])
        return 0
    for e in entries:
        used = "–" if e.utilisation is None else f"{e.utilisation:.0%}".replace("%", " %")
        print(f"{e.id:<16} v{e.version:<3} {e.status:<12} {e.start}–{e.end}  ersättning "
              f"{format_kr(e.compensation_ore)}, förskott hittills {format_kr(e.advanced_ore)}, utfall hittills "
              f"{format_kr(e.actual_ore)} ({used}), prognostiserad återbetalning {format_kr(e.repayment_ore)}, "
              f"innehållet {format_kr(e.withheld_ore)}, nästa rapport {_due(e.next_report)}, {e.findings} "
              f"iakttagelser  {shown(e.title)}")
    return 0


def _due(quarter: str | None) -> str:
    from samordning.agreement import quarter_label

    return "–" if quarter is None else quarter_label(quarter)


def _show(store: Store, args: argparse.Namespace) -> int:
    from samordning.money import format_kr
    from samordning.names import shown

    chosen = _chosen(store, args)
    record = _summary(chosen) | {"reason": chosen.reason, "finding_list": chosen.findings,
                                 "diff": chosen.diff}
    if args.json:
        print_json(record)
        return 0
    a = chosen.agreement
    signed = f", undertecknat {chosen.signed_on}" if chosen.signed_on else ""
    print(f"{shown(a.id)} – {shown(a.title)}\nVersion {chosen.number} ({chosen.status}{signed}), sparad "
          f"{record['at']} av {shown(chosen.by)}{': ' + shown(chosen.reason) if chosen.reason else ''}")
    print(f"Giltighetstid {a.validity.start}–{a.validity.end} ({a.validity.clause}); ersättning "
          f"{format_kr(a.compensation_ore)} ({a.compensation.clause}); {len(a.advances)} förskott i planen")
    for area in a.areas:
        print(f"  {area.name}: andel {area.share}{'' if area.share_confirmed else ' (antagande)'}, koder "
              + ", ".join(area.codes))
    print(f"{len(chosen.findings)} iakttagelser:")
    for f in chosen.findings:
        print(f"  [{f['clause']}] {f['title']}")
    if chosen.number > 1:
        print(f"Ändringar från version {chosen.number - 1}:" if chosen.diff else
              f"Samma innehåll som version {chosen.number - 1} (bara kommentarer eller layout skiljer).")
        _indented(chosen.diff)
    return 0


def _indented(text: str) -> None:
    from samordning.names import shown

    for line in text.splitlines():
        print("  " + shown(line))


def _versions(store: Store, args: argparse.Namespace) -> int:
    from samordning.agreements import versions
    from samordning.localtime import local_time
    from samordning.names import shown

    found = versions(store, _chosen(store, args).agreement_id)
    if args.json:
        print_json([_version_record(v) for v in found])
        return 0
    for v in found:
        signed = f" {v.signed_on}" if v.signed_on else ""
        print(f"Version {v.number}  {local_time(v.at)}  {shown(v.by)}  {v.status}{signed}  {len(v.findings)} "
              "iakttagelser" + (f"\n  Skäl: {shown(v.reason)}" if v.reason else ""))
        for f in v.fixed:
            print(f"  − åtgärdad [{f['clause']}] {f['title']}")
        for f in v.introduced:
            print(f"  + ny [{f['clause']}] {f['title']}")
        _indented(v.diff)
        if args.text_diff:
            _indented(v.text_diff)
    return 0
