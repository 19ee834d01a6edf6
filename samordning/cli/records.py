"""What people record by hand, each with their name: ``payment``, ``withhold``, ``comment``, ``signoff``,
``revert``."""

from __future__ import annotations

import argparse
import datetime as dt

from samordning.cli.common import (
    agreement_of,
    area,
    day,
    kronor,
    optional_int,
    parse_date,
    print_json,
    quarter,
    store_of,
    user_of,
)
from samordning.errors import SamordningError


def cmd_revert(args: argparse.Namespace) -> int:
    agreement = agreement_of(args)
    stepped = store_of(args).reinstate(agreement.id, args.upload, user_of(args))
    print(f"Uppladdning {args.upload} gäller igen för alla sina månader.")
    for month, ids in sorted(stepped.items()):
        print(f"  {month}: uppladdning {', '.join(map(str, ids))} står åt sidan")
    return 0


def cmd_payment(args: argparse.Namespace) -> int:
    from samordning.localtime import local_iso
    from samordning.money import format_kr, parse_kr

    agreement = agreement_of(args)
    store = store_of(args)
    if args.action == "add":
        if not (args.quarter and args.amount and args.invoice):
            raise SamordningError("Ange --quarter, --amount och --invoice för en betalning.")
        pid = store.add_payment(agreement_id=agreement.id, quarter=quarter(agreement, args.quarter) or "",
                                amount_ore=parse_kr(args.amount), invoice_no=args.invoice,
                                invoiced_on=parse_date(args.invoiced), paid_on=parse_date(args.paid),
                                user=user_of(args), note=args.note or "")
        print(f"Betalning {pid} registrerad.")
        return 0
    records = [{"id": int(p.id), "quarter": p.quarter, "invoice_no": p.invoice_no,
                "invoiced_on": day(p.invoiced_on), "paid_on": day(p.paid_on),
                "amount": kronor(int(p.amount_ore)), "note": p.note, "by": p.by, "at": local_iso(p.at)}
               for p in store.payments(agreement.id).itertuples()]
    if args.json:
        print_json(records)
    else:
        for r in records:
            print(f"{r['id']:>3} {r['quarter']} faktura {r['invoice_no']} {format_kr(round(r['amount'] * 100))} "
                  f"fakturerad {r['invoiced_on'] or '–'} betald {r['paid_on'] or '–'}")
    return 0


def cmd_withhold(args: argparse.Namespace) -> int:
    from samordning.followup import withholding_cap
    from samordning.localtime import local_iso
    from samordning.money import format_kr, parse_kr

    agreement = agreement_of(args)
    store = store_of(args)
    if args.action == "add":
        key = area(agreement, args.area)
        if key is None or not args.amount or not args.reason:
            raise SamordningError("Ange --area, --amount och --reason för ett innehållande.")
        wid = store.add_withholding(
            agreement_id=agreement.id, area=key, amount_ore=parse_kr(args.amount), reason=args.reason,
            withheld_on=parse_date(args.date) or dt.date.today(), cap_ore=withholding_cap(agreement, key),
            clause=agreement.dispute.clause, user=user_of(args))
        print(f"Innehållande {wid} registrerat (tak {format_kr(withholding_cap(agreement, key))}, "
              f"{agreement.dispute.clause}).")
    elif args.action == "release":
        if args.id is None:
            raise SamordningError("Ange --id för det innehållande som släpps.")
        store.release_withholding(agreement.id, args.id, parse_date(args.date) or dt.date.today(),
                                  user=user_of(args))
        print(f"Innehållande {args.id} släppt.")
    else:
        records = [{"id": int(w.id), "area": w.area, "amount": kronor(int(w.amount_ore)), "reason": w.reason,
                    "withheld_on": str(w.withheld_on)[:10], "by": w.by, "at": local_iso(w.at),
                    "released_on": day(w.released_on), "released_by": w.released_by,
                    "released_at": None if w.released_at is None else local_iso(w.released_at),
                    "cap": kronor(withholding_cap(agreement, w.area))}
                   for w in store.withholdings(agreement.id).itertuples()]
        if args.json:
            print_json(records)
        else:
            for r in records:
                print(f"{r['id']:>3} {agreement.area(r['area']).name}: {format_kr(round(r['amount'] * 100))} "
                      f"från {r['withheld_on']} släppt {r['released_on'] or '–'} – {r['reason']}")
    return 0


def cmd_comment(args: argparse.Namespace) -> int:
    from samordning.localtime import local_iso

    agreement = agreement_of(args)
    store = store_of(args)
    kind = "narrative" if args.narrative else "variance"
    if args.action == "add":
        if not args.text:
            raise SamordningError("Ange kommentarens text med --text.")
        cid = store.add_comment(agreement_id=agreement.id, text=args.text, author=user_of(args),
                                quarter=quarter(agreement, args.quarter), area=area(agreement, args.area),
                                kind=kind)
        print(f"{'Återrapportering' if args.narrative else 'Kommentar'} {cid} sparad.")
        return 0
    frame = store.comments(agreement.id, history=args.history, kind=kind)
    records = [{"id": int(c.id), "quarter": c.quarter, "area": c.area, "text": c.text, "author": c.author,
                "at": local_iso(c.at), "current": bool(c.current),
                "supersedes": optional_int(c.supersedes)} for c in frame.itertuples()]
    if args.json:
        print_json(records)
    else:
        for r in records:
            target = " ".join(x for x in (r["quarter"], r["area"]) if x) or "hela avtalet"
            print(f"{r['id']:>3} [{target}] {r['author']} {r['at'][:16].replace('T', ' ')}: {r['text']}")
    return 0


def cmd_signoff(args: argparse.Namespace) -> int:
    from samordning.agreement import quarter_label

    agreement = agreement_of(args)
    key = quarter(agreement, args.quarter)
    store_of(args).add_signoff(agreement_id=agreement.id, quarter=key, party_role=args.party,
                               name=args.name, title=args.title, signed_on=parse_date(args.date),
                               user=user_of(args))
    print(f"Underskrift för {agreement.party(args.party).name} i rapporten för {quarter_label(key)} är sparad.")
    return 0


# -- the parsers --------------------------------------------------------------------------------------------

def add_revert(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("revert", parents=[common], help="låt en ersatt uppladdning gälla igen")
    p.add_argument("upload", type=int, metavar="UPPLADDNING")
    p.add_argument("--user", help="vem som gör ändringen")
    p.set_defaults(func=cmd_revert)


def add_payment(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
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


def add_withhold(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
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


def add_comment(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
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


def add_signoff(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("signoff", parents=[common], help="underskrift för en part i en kvartalsrapport")
    p.add_argument("--quarter", required=True)
    p.add_argument("--party", required=True, choices=["utförare", "beställare"])
    p.add_argument("--name", required=True)
    p.add_argument("--title", default="", help="befattning")
    p.add_argument("--date", help="datum för underskriften, ÅÅÅÅ-MM-DD (annars tom rad att fylla i)")
    p.add_argument("--user")
    p.set_defaults(func=cmd_signoff)
