"""Serving a whole council on a large ledger: page speed, one page's kernel, and a load run (issue 15).

For each store size (the stores of ``bench/bench_scale.py``: 200 000 and 1 000 000 transactions, SQLite) one run,
headless Debian Chromium, every server started with the settings of ``samordning serve`` (``notebooks/voila.json``),
the insight view (the council's tabs and *Transaktioner*, which the council's view does not have; no login, the
server is started directly):

* first render against an empty notebook served the same way (page loads take turns between the two);
* area filter → chart in *Kvartal* (timed inside the page, as ``bench/bench_dashboard.py`` does);
* a *Transaktioner* filter → its count, sum and first page of rows on screen (timed inside the page);
* the resident memory (RSS) of one page's kernel after visiting every tab — also on the demo store, to compare;
* a load run: ``--viewers`` viewers arriving evenly over ``--load-seconds``, each opening the view, visiting
  every tab and closing; peak memory of the server and all its kernels (sampled every 0.25 s), errors (a page
  that does not show its figures or a tab, an HTTP error, a script error, an error message), and the kernels
  left ``--linger`` seconds after the last page closed (0: not measured).

    python bench/bench_serving.py [--sizes 200000 1000000] [--viewers 20] [--load-seconds 300] [--linger 180]

Nothing here asserts a time; it prints a table (and writes bench/out/serving.json).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_dashboard import (  # noqa: E402
    CHROMIUM,
    EMPTY_TEXT,
    FILTER_JS,
    FLAGS,
    Server,
    demo_store,
    empty_notebook,
    wait_until_quiet,
)
from bench_scale import make_store  # noqa: E402

from samordning.agreement import agreement_path, load_agreement  # noqa: E402
from samordning.ui import ROLE_ENV, Role  # noqa: E402
from samordning.ui.dashboard.app import tabs_for  # noqa: E402

NOTEBOOK = ROOT / "notebooks" / "dashboard.ipynb"
READY = ".smd-app .card .value"
# Text that shows a tab of the insight view is drawn (as tests/test_browser.py waits for them): the council's tabs
# and Transaktioner, whose rows the council's view does not show.
DRAWN = {"Översikt": "Avtalets egna motsägelser", "Kvartal": "Förskott i uppföljningen",
         "Områden": "Högst innehållet vid tvist", "Månader": "Utfall per månad och kontoklass",
         "Transaktioner": "rader, summa",
         "Kommentarer": "Inga kommentarer ännu", "Betalningar och tvist": "Tänk om: tvist om ett område",
         "Rapport": "Fastställda rapporter"}

# Choose an option of the visible dropdown labelled ``label``, then wait (in the page) until the visible
# "N rader, summa …" line has changed and a row of the table is drawn: the time a user waits for the rows.
ROWS_JS = """
async ([label, option]) => {
  const visible = el => el.offsetParent !== null;
  const norm = t => t.replace(/\u00a0/g, ' ').trim();
  const box = [...document.querySelectorAll('.widget-dropdown')].filter(visible)
    .find(d => d.querySelector('label') && norm(d.querySelector('label').innerText) === label);
  const select = box.querySelector('select');
  const summary = () => ([...document.querySelectorAll('.smd.sub')].filter(visible)
    .map(h => h.innerText).find(t => t.includes('rader, summa')) || '');
  const before = summary();
  const index = [...select.options].findIndex(o => norm(o.text) === option);
  if (index < 0) throw new Error('no option ' + option);
  const start = performance.now();
  select.selectedIndex = index;
  select.dispatchEvent(new Event('change', {bubbles: true}));
  await new Promise((resolve, reject) => {
    const check = () => {
      const now = summary();
      const rows = [...document.querySelectorAll('.smd table td')].filter(visible).length;
      if (now && now !== before && rows) requestAnimationFrame(() => resolve());
      else if (performance.now() - start > 20000) reject(new Error('the rows did not change for ' + option));
      else requestAnimationFrame(check);
    };
    check();
  });
  return performance.now() - start;
}
"""


# -- processes ----------------------------------------------------------------------------------------------

def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    tree, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(tree.get(p, []))
    return out


def rss(pid: int) -> int:
    """Resident set of a process in bytes (0 if gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def kernels(server: Server) -> list[int]:
    """The server's kernel processes."""
    found = []
    for pid in descendants(server.proc.pid):
        try:
            if b"ipykernel" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            pass
    return found


def server_rss(server: Server) -> int:
    return sum(rss(p) for p in descendants(server.proc.pid))


# -- one page -----------------------------------------------------------------------------------------------

def first_render(browser: object, server: Server, selector: str) -> float:
    """One page load in a fresh browser context: seconds from navigation until ``selector`` is visible (as
    ``bench/bench_dashboard.py`` measures it, with room for a machine busy with other work)."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="sv-SE")  # type: ignore[attr-defined]
    page = context.new_page()
    start = time.perf_counter()
    page.goto(server.url, timeout=180_000)
    page.wait_for_selector(selector, timeout=180_000)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def open_view(browser: object, server: Server) -> tuple[object, object]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="sv-SE")  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(server.url, timeout=180_000)
    page.wait_for_selector(READY, timeout=180_000)
    return context, page


def show_tab(page: object, title: str) -> None:
    page.get_by_role("tab", name=title).click()  # type: ignore[attr-defined]
    page.locator(".smd-app").get_by_text(DRAWN[title]).first.wait_for(timeout=60_000)  # type: ignore[attr-defined]


def filter_to_chart(page: object, areas: list[str], samples: int) -> list[float]:
    show_tab(page, "Kvartal")
    page.wait_for_selector(".js-plotly-plot .xaxislayer-above text", timeout=60_000)  # type: ignore[attr-defined]
    choices = [*areas, "Alla områden"]
    page.evaluate(FILTER_JS, choices[0])  # type: ignore[attr-defined]  # warm-up
    return [page.evaluate(FILTER_JS, choices[(i + 1) % len(choices)]) / 1000  # type: ignore[attr-defined]
            for i in range(samples * len(choices))]


def filter_to_rows(page: object, areas: list[str], samples: int) -> list[float]:
    show_tab(page, "Transaktioner")
    choices = [*areas, "alla"]
    page.evaluate(ROWS_JS, ["Område", choices[0]])  # type: ignore[attr-defined]  # warm-up
    return [page.evaluate(ROWS_JS, ["Område", choices[(i + 1) % len(choices)]]) / 1000  # type: ignore[attr-defined]
            for i in range(samples * len(choices))]


def page_kernel_rss(browser: object, server: Server, titles: list[str]) -> int:
    """RSS of the kernel a page took (the preheated one waiting before it opened) after visiting every tab."""
    waiting = set(kernels(server))
    context, page = open_view(browser, server)
    for title in titles:
        show_tab(page, title)
    page.wait_for_timeout(1000)  # type: ignore[attr-defined]
    taken = [p for p in kernels(server) if p in waiting]
    size = max((rss(p) for p in taken), default=0)
    context.close()  # type: ignore[attr-defined]
    return size


# -- the load run --------------------------------------------------------------------------------------------

async def _viewer(browser: object, url: str, titles: list[str], errors: list[str], n: int) -> None:
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="sv-SE")  # type: ignore[attr-defined]
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"viewer {n}: script error {exc}"))
    try:
        response = await page.goto(url, timeout=180_000)
        if response is None or response.status >= 400:
            errors.append(f"viewer {n}: HTTP {response.status if response else '?'}")
            return
        await page.wait_for_selector(READY, timeout=180_000)
        for title in titles:
            await page.get_by_role("tab", name=title).click()
            await page.locator(".smd-app").get_by_text(DRAWN[title]).first.wait_for(timeout=120_000)
        if await page.locator(".message.error").count():
            errors.append(f"viewer {n}: error message on the page")
    except Exception as exc:
        errors.append(f"viewer {n}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        await context.close()


async def _load(url: str, titles: list[str], viewers: int, seconds: float, errors: list[str]) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        tasks = []
        for n in range(viewers):
            tasks.append(asyncio.create_task(_viewer(browser, url, titles, errors, n)))
            await asyncio.sleep(seconds / viewers)
        await asyncio.gather(*tasks)
        await browser.close()


def load_run(server: Server, titles: list[str], viewers: int, seconds: float, linger: float) -> dict[str, object]:
    peak, stop = [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], server_rss(server))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    errors: list[str] = []
    started = time.perf_counter()
    # In a thread of its own: the sync Playwright of the other measurements runs an event loop in this one.
    runner = threading.Thread(target=lambda: asyncio.run(_load(server.url, titles, viewers, seconds, errors)))
    runner.start()
    runner.join()
    took = time.perf_counter() - started
    after_close = len(kernels(server))
    left = None
    if linger > 0:
        time.sleep(linger)
        left = len(kernels(server))
    stop.set()
    sampler.join()
    return {"peak_bytes": peak[0], "errors": errors, "seconds": took, "kernels_at_close": after_close,
            "kernels_left": left, "linger": linger}


# -- the run ------------------------------------------------------------------------------------------------

def quiet(args: argparse.Namespace) -> None:
    """Wait ``--pause`` seconds, then until the machine is idle, but at most ``--quiet-limit`` seconds (on a
    machine shared with other work it may never be)."""
    wait_until_quiet(args.pause, limit=args.quiet_limit)


def stats(times: list[float]) -> dict[str, float]:
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "n": len(times)}


def measure_size(label: str, db: str, empty: Server, browser: object, args: argparse.Namespace, *,
                 areas: list[str], titles: list[str]) -> dict[str, object]:
    server = Server(NOTEBOOK, dict(os.environ, SAMORDNING_DB=db, **{ROLE_ENV: Role.INSIGHT.value}))
    try:
        loads: dict[str, list[float]] = {"empty": [], "dashboard": []}
        first_render(browser, server, ".card .value:visible")  # not measured: the server's first pool is ready
        for _ in range(args.samples):
            for name, (srv, selector) in (("empty", (empty, f"text={EMPTY_TEXT}")),
                                          ("dashboard", (server, ".card .value:visible"))):
                quiet(args)
                loads[name].append(first_render(browser, srv, selector))
        quiet(args)
        context, page = open_view(browser, server)
        chart = filter_to_chart(page, areas, args.samples)
        rows = filter_to_rows(page, areas, args.samples)
        context.close()  # type: ignore[attr-defined]
        quiet(args)
        kernel = page_kernel_rss(browser, server, titles)
        print(f"  {label}: first render {statistics.median(loads['dashboard']):.2f} s "
              f"(empty {statistics.median(loads['empty']):.2f} s), kernel {kernel / 2**20:.0f} MB", flush=True)
        load = None
        if args.viewers:
            quiet(args)
            load = load_run(server, titles, args.viewers, args.load_seconds, args.linger)
            print(f"  {label}: load run peak {load['peak_bytes'] / 2**30:.2f} GB, "
                  f"{len(load['errors'])} errors", flush=True)
        return {"first_render": stats(loads["dashboard"]), "empty": stats(loads["empty"]),
                "filter_chart": stats(chart), "filter_rows": stats(rows), "kernel_bytes": kernel, "load": load}
    finally:
        server.stop()


def print_table(results: dict[str, dict[str, object]]) -> None:
    print(f"\n{'store':<24} {'first render (empty)':>22} {'area → chart':>13} {'Transaktioner → rows':>21} "
          f"{'page kernel':>12} {'load: peak':>11} {'errors':>7} {'kernels left':>13}")
    for label, r in results.items():
        load = r["load"] or {}
        left = load.get("kernels_left")
        print(f"{label:<24} {r['first_render']['median']:>8.2f} s ({r['empty']['median']:.2f} s) "  # type: ignore[index]
              f"{r['filter_chart']['median'] * 1000:>10.0f} ms {r['filter_rows']['median'] * 1000:>18.0f} ms "  # type: ignore[index]
              f"{r['kernel_bytes'] / 2**20:>9.0f} MB "  # type: ignore[operator]
              f"{load.get('peak_bytes', 0) / 2**30:>8.2f} GB {len(load.get('errors', [])):>7} "
              f"{'not measured' if left is None else left:>13}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--pause", type=float, default=8.0, help="seconds before each measurement (then until idle)")
    parser.add_argument("--quiet-limit", type=float, default=10.0, help="longest wait for an idle machine")
    parser.add_argument("--viewers", type=int, default=20, help="viewers in the load run (0: no load run)")
    parser.add_argument("--load-seconds", type=float, default=300.0, help="the viewers arrive evenly over this")
    parser.add_argument("--linger", type=float, default=180.0,
                        help="seconds after the last page closed to count the kernels left (0: not measured)")
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"{platform.platform()} · {os.cpu_count()} CPU · Python {platform.python_version()} · {dt.date.today()}",
          flush=True)
    agreement = load_agreement(agreement_path())
    areas = [a.name for a in agreement.areas]
    titles = [kind.title for kind in tabs_for(Role.INSIGHT)]
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        folder = Path(tmp)
        stores = {} if args.skip_demo else {"demo": demo_store(folder)}
        stores.update({f"{size:,} rader".replace(",", " "): str(make_store(size)) for size in args.sizes})
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        empty = Server(empty_notebook(folder), dict(os.environ))
        first_render(browser, empty, f"text={EMPTY_TEXT}")  # not measured: the first pool is ready
        try:
            for label, db in stores.items():
                demo_args = argparse.Namespace(**{**vars(args), "viewers": 0}) if label == "demo" else args
                results[label] = measure_size(label, db, empty, browser, demo_args, areas=areas, titles=titles)
                save(results)  # each size as it is done
        finally:
            empty.stop()
            browser.close()
    print_table(results)


def save(results: dict[str, dict[str, object]]) -> None:
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "serving.json").write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
