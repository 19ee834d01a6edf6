"""Import speed and CLI start-up: our full ``samordning import`` against four baselines, in one run, on the
same file, and the CLI's start-up against a bare interpreter and one that imports pandas.

The file is an ERP-style export (title rows above the header, Swedish column names, Excel dates, codes as
text with leading zeros, a "Summa" row), written once per row count with a fixed seed and reused. Each
contender runs in its own fresh process, so each reports its own peak memory (ru_maxrss, the larger of the
process's own and its children's: our reader runs in a forked child, samordning/ingest/isolate.py):

  (a) ``pandas.read_excel(engine="openpyxl")`` — what a notebook would do;
  (b) a bare python-calamine parse to Python lists — the floor for reading the cells at all;
  (c) ``samordning import FILE --db new.sqlite`` in-process — reading (in a child process with limits),
      checking every value, classifying and storing every row with its upload in SQLite (one transaction);
  (d) the floor for any importer that keeps every row: the bare parse, then each row's cells stored in
      SQLite as they are (no checks, no classification), in the same table shape as ours;
  (e) the naive pipeline: ``pandas.read_excel(engine="calamine")`` then ``DataFrame.to_sql`` into SQLite,
      no checks — what a user would otherwise do;
  (f) (c) with the reader run in the calling process instead of a child: (c) − (f) is what the isolation
      (fork, limits, the pipe) costs.

Start-up, each command a fresh process, wall time: ``python -c pass``, ``python -c "import pandas"``,
``samordning --help``, a refused argument, and ``samordning quarters --json`` on the demo store.

Goals from issue 19: (c) ≤ 1.0 × (e); peak memory of (c) ≤ (e)'s and growing no faster than the file;
(a)/(c) ≥ 10; ``--help`` and a refused argument ≤ 0.2 s; ``quarters --json`` ≤ 0.6 s. Nothing is asserted;
the figures are printed.

    python bench/bench_import.py [--rows 200000] [--repeat 3 (rounds)] [--startup-repeat 7] [--only abcde] [--profile]
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
import time
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
    "e": ("naive: pandas.read_excel(calamine) + to_sql, no checks", """
        import sqlite3
        import pandas as pd
        def run(path, db):
            Path(db).unlink(missing_ok=True)
            frame = pd.read_excel(path, engine="calamine", header=3)
            con = sqlite3.connect(db)
            frame.to_sql("ledger_rows", con, index=False)
            con.commit()
            con.close()
    """),
    "f": ("(c) with the reader in this process (no child)", """
        import contextlib, io
        from samordning.cli import main
        from samordning.ingest import isolate
        isolate.run = lambda filename, read: read()  # what the child process, its limits and the pipe cost
        def run(path, db):
            Path(db).unlink(missing_ok=True)
            with contextlib.redirect_stdout(io.StringIO()):
                assert main(["import", path, "--db", db]) == 0
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
        def cpu():
            own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
        times, cpus = [], []
        for _ in range({repeat}):
            t, c = time.perf_counter(), cpu()
            run({str(path)!r}, {str(db)!r})
            times.append(time.perf_counter() - t)
            cpus.append(cpu() - c)
        peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                   resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        print(json.dumps({{"times": times, "cpu": cpus, "peak_mib": peak, "import_s": imported}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env=dict(os.environ, SAMORDNING_DB=str(db)))
    return json.loads(out.stdout.strip().splitlines()[-1])


def interleaved(keys: list[str], path: Path, rounds: int) -> dict[str, dict[str, object]]:
    """Each contender once per round, in turn, each time in a fresh process that runs it twice and keeps the
    second run (the first pays what is imported on first use): a slow minute of a shared machine (its
    hypervisor's steal time) then falls on every contender alike, not on whichever ran in it."""
    results: dict[str, dict[str, object]] = {k: {"times": [], "cpu": [], "peak_mib": 0.0} for k in keys}
    for _ in range(rounds):
        for key in keys:
            one = measure(key, path, 2)
            results[key]["times"].append(one["times"][-1])  # type: ignore[union-attr]
            results[key]["cpu"].append(one["cpu"][-1])  # type: ignore[union-attr]
            results[key]["peak_mib"] = max(results[key]["peak_mib"], one["peak_mib"])  # type: ignore[type-var]
    return results


def profile(path: Path) -> None:
    import cProfile
    import pstats

    db = Path(tempfile.gettempdir()) / "samordning-bench-profile.sqlite"
    db.unlink(missing_ok=True)
    from samordning.cli import main

    cProfile.runctx("main(['import', str(path), '--db', str(db)])", globals(), {"main": main, "path": path,
                                                                               "db": db}, "/tmp/import.prof")
    pstats.Stats("/tmp/import.prof").sort_stats("cumulative").print_stats(25)


def samordning_command() -> list[str]:
    """The installed ``samordning`` script next to this interpreter (what a user runs), else ``-m``."""
    script = Path(sys.executable).parent / "samordning"
    return [str(script)] if script.exists() else [sys.executable, "-m", "samordning.cli"]


def startup(repeat: int) -> dict[str, list[tuple[float, float]]]:
    """Wall time and CPU time (user + system) of each start-up command, a fresh process each time (after one
    warm-up run each). On a loaded machine the CPU time is the steadier figure."""
    import resource

    db = Path(tempfile.gettempdir()) / "samordning-bench-startup.sqlite"
    db.unlink(missing_ok=True)
    cli = samordning_command()
    subprocess.run([*cli, "demo", "--db", str(db)], check=True, capture_output=True)
    commands = {
        "python -c pass": ([sys.executable, "-c", "pass"], 0),
        'python -c "import pandas"': ([sys.executable, "-c", "import pandas"], 0),
        "samordning --help": ([*cli, "--help"], 0),
        "samordning quarters --nope (refused)": ([*cli, "quarters", "--nope"], 2),
        "samordning quarters --json (demo store)": ([*cli, "quarters", "--json", "--db", str(db)], 0),
    }
    # As a user's Python runs: it caches each module's bytecode (__pycache__), unless told not to, as some
    # sandboxes and CI images do (PYTHONDONTWRITEBYTECODE); every command would then compile our 30-odd modules
    # from source on every start (0.05–0.07 s). The warm-up run writes the cache.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
    for command, _ in commands.values():
        subprocess.run(command, capture_output=True, check=False, env=env)  # warm-up: bytecode and file cache
    for _ in range(repeat):  # in turn, as the import's contenders: a slow moment falls on all of them
        for label, (command, code) in commands.items():
            t, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run(command, capture_output=True, check=False, env=env)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            times[label].append((time.perf_counter() - t, cpu))
            assert done.returncode == code, (command, done.returncode, done.stderr)
    db.unlink(missing_ok=True)
    return times


def report_import(results: dict[str, dict[str, object]]) -> None:
    """Wall time (median and best of the runs), CPU time (user + system of the process and its children: the
    steadier figure on a loaded machine) and peak memory of each contender."""
    print(f"{'':3}{'contender':56}{'median s':>10}{'min s':>9}{'CPU s':>8}{'peak MiB':>10}")
    for key, r in results.items():
        label = CONTENDERS[key][0]
        print(f"({key}) {label:56}{statistics.median(r['times']):>8.2f}{min(r['times']):>9.2f}"
              f"{statistics.median(r['cpu']):>8.2f}{r['peak_mib']:>10.0f}")
    median = {k: statistics.median(r["times"]) for k, r in results.items()}
    if {"c", "e"} <= set(median):
        c, e = median["c"], median["e"]
        cpu_c, cpu_e = statistics.median(results["c"]["cpu"]), statistics.median(results["e"]["cpu"])
        print(f"\n(c)/(e) = {c / e:.2f}  (goal ≤ 1.0: {'met' if c / e <= 1.0 else 'not met'}); "
              f"in CPU time {cpu_c / cpu_e:.2f}")
        pc, pe = results["c"]["peak_mib"], results["e"]["peak_mib"]
        print(f"peak (c)/(e) = {pc / pe:.2f}  (goal ≤ 1.0: {'met' if pc <= pe else 'not met'})")
    if {"c", "f"} <= set(median):
        cost = median["c"] - median["f"]
        print(f"the reader's isolation (child process, limits, pipe): (c) − (f) = {cost:+.2f} s "
              f"({cost / median['f']:+.0%})")
    if {"a", "c"} <= set(median):
        a, c = median["a"], median["c"]
        print(f"(a)/(c) = {a / c:.2f}  (goal ≥ 10: {'met' if a / c >= 10 else 'not met'})")
    if {"b", "c", "d"} <= set(median):
        print(f"(c)/(b) = {median['c'] / median['b']:.2f}; (d)/(b) = {median['d'] / median['b']:.2f} "
              "(storing every row, no checks)")


def report_startup(times: dict[str, list[tuple[float, float]]]) -> None:
    print(f"\n{'start-up (fresh process)':48}{'wall median s':>14}{'wall min s':>11}{'CPU median s':>13}")
    for label, values in times.items():
        print(f"{label:48}{statistics.median(w for w, _ in values):>14.3f}{min(w for w, _ in values):>11.3f}"
              f"{statistics.median(c for _, c in values):>13.3f}")
    median = {label: statistics.median(w for w, _ in values) for label, values in times.items()}
    bare, pandas = median["python -c pass"], median['python -c "import pandas"']
    for label, goal in (("samordning --help", 0.2), ("samordning quarters --nope (refused)", 0.2),
                        ("samordning quarters --json (demo store)", 0.6)):
        m = median[label]
        print(f"{label}: {m:.3f} s = python + {m - bare:.3f} s = {m / pandas:.2f} × import pandas "
              f"(goal ≤ {goal} s: {'met' if m <= goal else 'not met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--startup-repeat", type=int, default=7)
    parser.add_argument("--only", default="".join(CONTENDERS), help="the contenders to run, e.g. ce (none: -)")
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up measurements")
    parser.add_argument("--profile", action="store_true", help="profile (c) once and print the top functions")
    args = parser.parse_args()
    print(f"{platform.platform()} · {os.cpu_count()} CPU · Python {platform.python_version()} · "
          f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    keys = [k for k in CONTENDERS if k in args.only]
    if keys or args.profile:
        path = write_export(args.rows)
        if args.profile:
            profile(path)
            return
        print(f"{args.rows} rows, {path.stat().st_size / 1e6:.1f} MB ({path})\n")
        report_import(interleaved(keys, path, args.repeat))
    if not args.no_startup:
        report_startup(startup(args.startup_repeat))
    print(f"load afterwards {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
