"""Hostile files (issue 16, items 7–10): time and peak memory of each refusal, and what the reader's isolation
in a child process costs on the 200 000-row benchmark file. Nothing is asserted; the figures are printed.

Each run is a fresh process, timed after its imports; peak memory is the larger of its own and its children's
ru_maxrss (the reader runs in a forked child).

    python bench/bench_hostile.py [--repeat 3] [--rows 200000] [--skip-isolation]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "data"), str(ROOT / "bench")]

import bench_import  # noqa: E402
import make_hostile  # noqa: E402

PRELUDE = """
import json, resource, sys, time
"""
REPORT = """
elapsed = time.perf_counter() - t0
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": elapsed, "peak_mib": peak / 1024, "result": result}))
"""
IMPORT = """
import contextlib, io
from samordning.cli import main
err = io.StringIO()
t0 = time.perf_counter()  # after the imports: the refusal's own time
with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
    code = main(["import", sys.argv[1], "--db", sys.argv[2]])
result = [code, err.getvalue().splitlines()[0][:110] if err.getvalue() else ""]
"""
# The same read with and without the child: read_export (isolated, packed, cleaned) against the read alone in
# the caller (no child, no packing, no cleaning: what read_export was before).
ISOLATED = """
from samordning.ingest import read_export
content = open(sys.argv[1], "rb").read()
t0 = time.perf_counter()
result = len(read_export(content, "bench.xlsx").rows)
"""
IN_PROCESS = """
from samordning.ingest import _read_export
content = open(sys.argv[1], "rb").read()
t0 = time.perf_counter()
export = _read_export(content, "bench.xlsx", sheet=None, columns=None, header_row=None, saved=None)
result = len(export.rows)
"""


def run(body: str, *args: str) -> dict[str, object]:
    script = PRELUDE + textwrap.dedent(body) + REPORT
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=ROOT,
                         timeout=900, check=False)
    if out.returncode:
        return {"seconds": float("nan"), "peak_mib": float("nan"), "result": f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def hostile_table(repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="samordning-hostile-") as folder:
        _hostile_rows(Path(folder), repeat)


def _hostile_rows(folder: Path, repeat: int) -> None:
    paths = make_hostile.write(folder)
    db = str(folder / "bench.sqlite")
    print("| file | size | refused in (median) | peak memory | exit | message |")
    print("|---|---:|---:|---:|---:|---|")
    for name, path in paths.items():
        runs = [run(IMPORT, str(path), db) for _ in range(repeat)]
        size = path.lstat().st_size if path.is_symlink() or not path.exists() else path.stat().st_size
        size_text = "–" if not path.is_file() else f"{size / 1024:.0f} kB"
        code, message = runs[-1]["result"] if isinstance(runs[-1]["result"], list) else (runs[-1]["result"], "")
        print(f"| {name} | {size_text} | {statistics.median(r['seconds'] for r in runs):.2f} s | "
              f"{max(r['peak_mib'] for r in runs):.0f} MiB | {code} | {message} |")


def isolation_table(rows: int, repeat: int) -> None:
    path = str(bench_import.write_export(rows))
    results: dict[str, list[dict[str, object]]] = {"in the caller": [], "in a child (read_export)": []}
    for _ in range(repeat):  # interleaved, so a busy moment hits both
        results["in the caller"].append(run(IN_PROCESS, path))
        results["in a child (read_export)"].append(run(ISOLATED, path))
    print(f"\nReading the {rows}-row benchmark file (read and check; no store), {repeat} runs each:\n")
    print("| where | median | peak memory (caller or child) |")
    print("|---|---:|---:|")
    for where, runs in results.items():
        print(f"| {where} | {statistics.median(r['seconds'] for r in runs):.2f} s | "
              f"{max(r['peak_mib'] for r in runs):.0f} MiB |")
    base = statistics.median(r["seconds"] for r in results["in the caller"])
    child = statistics.median(r["seconds"] for r in results["in a child (read_export)"])
    print(f"\nIsolation costs {child - base:+.2f} s ({(child / base - 1) * 100:+.0f} %).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--skip-isolation", action="store_true")
    args = parser.parse_args()
    hostile_table(args.repeat)
    if not args.skip_isolation:
        isolation_table(args.rows, args.repeat)


if __name__ == "__main__":
    main()
