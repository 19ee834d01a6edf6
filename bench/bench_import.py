"""Import speed: our full ``samordning import`` against three baselines, in one run, on the same file.

The file is a 200 000-row ERP-style export (title rows above the header, Swedish column names, Excel dates,
codes as text with leading zeros, a "Summa" row), written once with a fixed seed and reused. Each contender
runs in its own fresh process, so each reports its own peak memory (ru_maxrss):

  (a) ``pandas.read_excel(engine="openpyxl")`` — what a notebook would do;
  (b) a bare python-calamine parse to Python lists — the floor for reading the cells at all;
  (c) ``samordning import FILE --db new.sqlite`` in-process — reading, checking every value, classifying and
      storing every row with its upload in SQLite (one transaction);
  (d) the floor for any importer that keeps every row: the bare parse, then each row's cells stored in
      SQLite as they are (no checks, no classification), in the same table shape as ours.

Goals from issue 3: (c) ≤ 1.5 × (b), and (a) ≥ 5 × (c). (d)/(b) shows how much of the 1.5 storing alone
takes. Nothing is asserted; the figures are printed.

    python bench/bench_import.py [--rows 200000] [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import tomllib
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["Verifikationsdatum", "Verifikation", "Konto", "Ansvar", "Projekt", "Text", "Belopp"]
TEXTS = ["Månadslön", "Arbetsgivaravgift", "Konsultarvode", "Resa Östersund–Sveg", "Lokalhyra", "Kontorsmaterial",
         "Utbildning", "Hotell", "Kreditering"]


def write_export(rows: int) -> Path:
    """The benchmark file, written once per row count (openpyxl's write-only mode keeps memory flat)."""
    path = Path(tempfile.gettempdir()) / f"samordning-bench-{rows}.xlsx"
    if path.exists():
        return path
    from openpyxl import Workbook

    agreement = tomllib.loads((ROOT / "data" / "avtal" / "RUN-305-2022.toml").read_text(encoding="utf-8"))
    projects = [code for area in agreement["areas"] for code in area["codes"]] + ["9999"]
    rng = random.Random(20231005)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Huvudbok")
    ws.append(["Huvudbok RUN/305/2022"])
    ws.append(["Utskrivet 2023-10-05"])
    ws.append([])
    ws.append(HEADER)
    start, total = date(2023, 1, 1), 0
    for i in range(rows):
        account = rng.choice(["5011", "5011", "5411", "6110", "6510", "7010", "4010", "3010"])
        amount = round(rng.uniform(-2_000, 60_000), 2) * (-1 if account == "3010" else 1)
        total += round(amount * 100)
        ws.append([start + timedelta(days=rng.randrange(273)), f"V{i + 1:06d}", account,
                   f"0{rng.randrange(400, 499)}", rng.choice(projects), rng.choice(TEXTS), amount])
    ws.append(["Summa", None, None, None, None, None, total / 100])
    wb.save(path)
    return path


CONTENDERS = {
    "a": ("pandas.read_excel(engine=openpyxl)", """
        import pandas as pd
        def run(path, db):
            pd.read_excel(path, engine="openpyxl", header=3)
    """),
    "b": ("python-calamine, bare parse", """
        from python_calamine import CalamineWorkbook
        def run(path, db):
            CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()
    """),
    "c": ("samordning import (read, check, classify, store)", """
        import contextlib, io
        from samordning.cli import main
        def run(path, db):
            Path(db).unlink(missing_ok=True)
            with contextlib.redirect_stdout(io.StringIO()):
                assert main(["import", path, "--db", db]) == 0
    """),
    "d": ("floor: bare parse + every row stored as it is", """
        import sqlite3
        from python_calamine import CalamineWorkbook
        def run(path, db):
            Path(db).unlink(missing_ok=True)
            rows = CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()[4:]
            con = sqlite3.connect(db)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("CREATE TABLE ledger_rows (id INTEGER PRIMARY KEY, upload_id INTEGER, sheet TEXT, "
                        "excel_row INTEGER, booking_date TEXT, period TEXT, account TEXT, cost_centre TEXT, "
                        "activity TEXT, project TEXT, counterpart TEXT, voucher TEXT, text TEXT, "
                        "amount_ore INTEGER, row_kind TEXT)")
            con.execute("CREATE INDEX ix_ledger_rows_upload_period ON ledger_rows (upload_id, period)")
            with con:  # the least any import must do: one pass over the rows, one insert each
                con.executemany(
                    "INSERT INTO ledger_rows VALUES (NULL, 1, 'Huvudbok', ?, ?, ?, ?, ?, '', ?, '', ?, ?, ?, 'data')",
                    ((i, str(r[0])[:10], str(r[0])[:7], r[2], r[3], r[4], r[1], r[5], round(r[6] * 100))
                     for i, r in enumerate(rows, 5)))
            con.close()
    """),
}


def measure(key: str, path: Path, repeat: int) -> dict[str, object]:
    """Run one contender ``repeat`` times in a fresh process; wall times after imports, and peak memory."""
    _, body = CONTENDERS[key]
    db = Path(tempfile.gettempdir()) / "samordning-bench-import.sqlite"
    script = textwrap.dedent("""
        import json, resource, sys, time
        from pathlib import Path
        t0 = time.perf_counter()
    """) + textwrap.dedent(body) + textwrap.dedent(f"""
        imported = time.perf_counter() - t0
        times = []
        for _ in range({repeat}):
            t = time.perf_counter()
            run({str(path)!r}, {str(db)!r})
            times.append(time.perf_counter() - t)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({{"times": times, "peak_mib": peak, "import_s": imported}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env=dict(os.environ, SAMORDNING_DB=str(db)))
    return json.loads(out.stdout.strip().splitlines()[-1])


def profile(path: Path) -> None:
    import cProfile
    import pstats

    db = Path(tempfile.gettempdir()) / "samordning-bench-profile.sqlite"
    db.unlink(missing_ok=True)
    from samordning.cli import main

    cProfile.runctx("main(['import', str(path), '--db', str(db)])", globals(), {"main": main, "path": path,
                                                                               "db": db}, "/tmp/import.prof")
    pstats.Stats("/tmp/import.prof").sort_stats("cumulative").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="profile (c) once and print the top functions")
    args = parser.parse_args()
    path = write_export(args.rows)
    if args.profile:
        profile(path)
        return
    print(f"{platform.platform()} · {os.cpu_count()} CPU · Python {platform.python_version()}")
    print(f"{args.rows} rows, {path.stat().st_size / 1e6:.1f} MB ({path})\n")
    results = {key: measure(key, path, args.repeat) for key in CONTENDERS}
    print(f"{'':3}{'contender':52}{'median s':>10}{'min s':>9}{'peak MiB':>10}")
    for key, (label, _) in CONTENDERS.items():
        r = results[key]
        print(f"({key}) {label:52}{statistics.median(r['times']):>8.2f}{min(r['times']):>9.2f}"
              f"{r['peak_mib']:>10.0f}")
    a, b, c, d = (statistics.median(results[k]["times"]) for k in "abcd")
    print(f"\n(c)/(b) = {c / b:.2f}  (goal ≤ 1.5: {'met' if c / b <= 1.5 else 'not met'})")
    print(f"(a)/(c) = {a / c:.2f}  (goal ≥ 5: {'met' if a / c >= 5 else 'not met'})")
    print(f"(d)/(b) = {d / b:.2f}  (storing every row, no checks: the floor for (c)/(b))")


if __name__ == "__main__":
    main()
