"""Every command at any size: time and peak memory of the CLI on stores of 200 000 and 1 000 000 transactions.

A store is made once per size (rows generated with a fixed seed and stored through ``Store.add_upload``, the
importer's own insert, as three quarterly exports plus a correction of one month, with every reason to leave a
row out), then each command runs in its own fresh process under ``/usr/bin/time -v``:
``quarters --json``, ``rows --json``, ``report`` as ``.xlsx``, ``.html`` and ``.pdf`` and ``history``. Peak
memory is the largest resident set of any process of the command (for the PDF that is Chromium's).

The demo store (``samordning demo``) is measured the same way in the same run, as the reference for the HTML
and PDF reports. A command that takes less than 10 s is run ``--repeat`` times (median time, largest peak).

Baseline, in the same run: the same rows as the report's *Transaktioner* sheet (13 columns, a date and a money
format) read with sqlite3 and written with xlsxwriter in ``constant_memory`` mode — the least any writer of
that sheet must do. Goals (issue 21): ``quarters --json`` at 1 000 000 rows ≤ 1 s and ≤ 250 MB; the HTML and
PDF reports within 1.5 × their time on the demo store and ≤ 300 MB; the xlsx report ≤ 1.5 × the baseline and
≤ 300 MB; every command's memory at 1 000 000 rows ≤ 1.2 × at 200 000.

    python bench/bench_scale.py [--sizes 200000 1000000] [--repeat 3] [--no-demo]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from samordning.agreement import load_agreement  # noqa: E402
from samordning.store import Store  # noqa: E402

AGREEMENT = ROOT / "data" / "avtal" / "RUN-305-2022.toml"
TEXTS = np.array(["Månadslön", "Arbetsgivaravgift", "Konsultarvode", "Resa Östersund–Sveg", "Lokalhyra",
                  "Kontorsmaterial", "=Utbildning", "Hotell", "Kreditering"], dtype=object)
ACCOUNTS = np.array(["5011", "5011", "5411", "6110", "6510", "7010", "4010", "3010", "1930"], dtype=object)


def _rows(rng: np.random.Generator, n: int, months: list[str], start_row: int) -> pd.DataFrame:
    """``n`` rows in ``months`` (a few outside the validity period and on unmapped projects), one total row."""
    month = rng.choice(np.array(months, dtype=object), n)
    day = rng.integers(1, 29, n)
    dates = [dt.date(int(m[:4]), int(m[5:7]), int(d)) for m, d in zip(month, day, strict=True)]
    projects = rng.choice(np.array(["7301", "7302", "7301", "7302", "9999"], dtype=object), n)
    frame = pd.DataFrame({
        "sheet": "Huvudbok", "excel_row": np.arange(start_row, start_row + n), "booking_date": dates,
        "period": month, "account": rng.choice(ACCOUNTS, n),
        "cost_centre": [f"0{x}" for x in rng.integers(400, 499, n)],
        "activity": "", "project": projects, "counterpart": "", "voucher": [f"V{i:07d}" for i in range(n)],
        "text": rng.choice(TEXTS, n), "amount_ore": rng.integers(-200_000, 6_000_000, n).astype("int64"),
        "row_kind": "data",
    })
    total = frame.iloc[:1].assign(booking_date=None, period=None, account="", project="", text="Summa",
                                  amount_ore=int(frame["amount_ore"].sum()), row_kind="total",
                                  excel_row=start_row + n)
    return pd.concat([frame, total], ignore_index=True)


def make_store(size: int) -> Path:
    """The benchmark store of ``size`` transactions, made once and kept in the temp folder."""
    path = Path(tempfile.gettempdir()) / f"samordning-scale-{size}.db"
    if path.exists():
        Store.open(path).engine.dispose()  # a store made by an older version is upgraded here, not measured
        return path
    agreement = load_agreement(AGREEMENT)
    store = Store.open(path.with_suffix(".tmp"))
    rng = np.random.default_rng(20231005)
    quarters = [["2022-12", "2023-01", "2023-02", "2023-03"], ["2023-04", "2023-05", "2023-06"],
                ["2023-07", "2023-08", "2023-09", "2023-10"]]
    per_file = (size - size // 100) // 3
    files = [(f"huvudbok_kv{i + 1}.xlsx", _rows(rng, per_file, months, 5)) for i, months in enumerate(quarters)]
    files.append(("rattelse_maj.xlsx", _rows(rng, size - 3 * per_file, ["2023-05"], 5)))
    for name, rows in files:
        store.add_upload(agreement_id=agreement.id, filename=name, content=name.encode() * 100,
                         sha256=f"{name:0>64}"[-64:], user="bench", sheet="Huvudbok", header_row=4, rows=rows,
                         summary={"rows_read": len(rows)})
    store.engine.dispose()
    path.with_suffix(".tmp").rename(path)
    return path


BASELINE = """
import sqlite3, sys, xlsxwriter
db, out = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db)
wb = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                               "default_date_format": "yyyy-mm-dd"})
money = wb.add_format({"num_format": '#,##0.00 "kr"'})
ws = wb.add_worksheet("Transaktioner")
ws.set_column(10, 10, 16, money)
ws.write_row(0, 0, ["Fil", "Blad", "Rad", "Datum", "Period", "Konto", "Ansvar", "Projekt", "Verifikation",
                    "Text", "Belopp", "Kvartal", "Område"])
cur = con.execute("SELECT u.filename, r.sheet, r.excel_row, r.booking_date, r.period, r.account, r.cost_centre, "
                  "r.project, r.voucher, r.text, r.amount_ore, r.period, r.project FROM ledger_rows r "
                  "JOIN uploads u ON u.id = r.upload_id ORDER BY r.id")
import datetime
fromiso = datetime.date.fromisoformat
for i, r in enumerate(cur, 1):
    ws.write_row(i, 0, (r[0], r[1], r[2], fromiso(r[3]) if r[3] else None, r[4], r[5], r[6], r[7], r[8], r[9],
                        r[10] / 100, r[11], r[12]))
wb.close()
"""


def make_demo() -> Path:
    """A store with the demo's example exports (``samordning demo``), made anew."""
    path = Path(tempfile.gettempdir()) / "samordning-scale-demo.db"
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    subprocess.run([*cli(path, "demo")], check=True, capture_output=True)
    return path


def run(command: list[str]) -> tuple[float, float, float]:
    """Wall time (s), peak resident memory (MB, the largest process) and CPU time (s, user + system, with the
    command's children) of a command in a fresh process. On a busy machine the CPU time is the steadier."""
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    cpu = sum(float(re.search(rf"{kind} time \(seconds\): ([\d.]+)", done.stderr).group(1))
              for kind in ("User", "System"))
    return wall, peak_kb * 1024 / 1e6, cpu


def cli(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "samordning.cli", *args, "--db", str(db)]


def measure(size: int, tmp: Path, repeat: int) -> dict[str, tuple[float, float, float]]:
    """Each command on the store of ``size`` rows (0: the demo store): median wall time (s), largest peak (MB) and
    median CPU time (s)."""
    db = make_store(size) if size else make_demo()
    rows = {
        "`quarters --json`": cli(db, "quarters", "--json"),
        "`quarters --by-area --json`": cli(db, "quarters", "--by-area", "--json"),
        "`rows --json`": cli(db, "rows", "--json"),
        "`report --out r.xlsx`": cli(db, "report", "--out", str(tmp / "r.xlsx")),
        "`report --out r.html`": cli(db, "report", "--out", str(tmp / "r.html")),
        "`report --out r.pdf`": cli(db, "report", "--out", str(tmp / "r.pdf")),
        "`history --json`": cli(db, "history", "--json"),
        "baseline: sqlite3 + xlsxwriter constant_memory, the Transaktioner rows": [
            sys.executable, "-c", BASELINE, str(db), str(tmp / "baseline.xlsx")],
    }
    results = {}
    for label, command in rows.items():
        runs = [run(command)]
        while len(runs) < repeat and runs[0][0] < 10:
            runs.append(run(command))
        results[label] = (statistics.median(t for t, _, _ in runs), max(m for _, m, _ in runs),
                          statistics.median(c for _, _, c in runs))
        print(f"  {size or 'demo':>9} {label}: {results[label][0]:.2f} s ({results[label][2]:.2f} s CPU), "
              f"{results[label][1]:.0f} MB ({len(runs)} runs)", flush=True)
    return results


def goals(results: dict[int, dict[str, tuple[float, float, float]]], sizes: list[int]) -> None:
    """Issue 21's goals against this run's figures (ratios also in CPU time, steadier on a busy machine)."""
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    big, small = sizes[-1], sizes[0]
    t, m, c = results[big]["`quarters --json`"]
    print(f"\nquarters --json at {big}: {t:.2f} s (goal ≤ 1 s: {verdict(t <= 1)}; CPU {c:.2f} s), {m:.0f} MB "
          f"(goal ≤ 250 MB: {verdict(m <= 250)})")
    base = "baseline: sqlite3 + xlsxwriter constant_memory, the Transaktioner rows"
    for s in sizes:
        (xlsx, mem, cpu), (ref, _, ref_cpu) = results[s]["`report --out r.xlsx`"], results[s][base]
        print(f"{s}: xlsx report / baseline = {xlsx / ref:.2f} (goal ≤ 1.5: {verdict(xlsx <= 1.5 * ref)}; in CPU "
              f"{cpu / ref_cpu:.2f}), {mem:.0f} MB (goal ≤ 300 MB: {verdict(mem <= 300)})")
        for label in ("`report --out r.html`", "`report --out r.pdf`"):
            (time_s, mem, cpu) = results[s][label]
            if 0 in results:
                demo, _, demo_cpu = results[0][label]
                print(f"{s}: {label} {time_s:.2f} s = {time_s / demo:.2f} × the demo store's {demo:.2f} s "
                      f"(goal ≤ 1.5: {verdict(time_s <= 1.5 * demo)}; in CPU {cpu / demo_cpu:.2f}), {mem:.0f} MB "
                      f"(goal ≤ 300 MB: {verdict(mem <= 300)})")
    if big != small:
        for label in results[big]:
            ratio = results[big][label][1] / results[small][label][1]
            print(f"memory {big} / {small}, {label}: {ratio:.2f} × (goal ≤ 1.2: {verdict(ratio <= 1.2)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command shorter than 10 s")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo store")
    args = parser.parse_args()
    print(f"{platform.platform()} · {os.cpu_count()} CPU · Python {platform.python_version()} · {dt.date.today()} · "
          f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    columns = ([] if args.no_demo else [0]) + args.sizes
    with tempfile.TemporaryDirectory(prefix="samordning-scale-") as folder:
        results = {size: measure(size, Path(folder), args.repeat) for size in columns}
    head = "| command | " + " | ".join(f"{s:,} rows: time (CPU) | peak memory".replace(",", " ") if s else
                                       "demo: time (CPU) | peak memory" for s in columns)
    ratio = len(args.sizes) > 1
    print("\n" + head + (" | memory ratio |" if ratio else " |"))
    print("|---|" + "---:|---:|" * len(columns) + ("---:|" if ratio else ""))
    for label in results[columns[0]]:
        cells = " | ".join(f"{wall:.2f} s ({cpu:.2f} s) | {mem:.0f} MB"
                           for wall, mem, cpu in (results[s][label] for s in columns))
        tail = f" | {results[args.sizes[-1]][label][1] / results[args.sizes[0]][label][1]:.2f} ×" if ratio else ""
        print(f"| {label} | {cells}{tail} |")
    goals(results, args.sizes)
    print(f"load afterwards {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
