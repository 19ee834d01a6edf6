"""Every read-then-write decision of an agreement is one serialised decision, on SQLite and on PostgreSQL:
real concurrent processes, released together by a barrier, race for the same month, the same §10 cap, the same
current narrative and the same finalized report, eight trials each; every trial must end right."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import traceback
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from test_storage import db_url  # noqa: F401  (the SQLite / PostgreSQL fixture)

from samordning.agreement import load_agreement
from samordning.errors import SamordningError
from samordning.followup import quarterly, withholding_cap
from samordning.imports import classified_rows, commit_import, prepare_import
from samordning.store import Store

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT = ROOT / "data" / "avtal" / "RUN-305-2022.toml"
TRIALS = 8
WORKERS = 2
CONTEXT = multiprocessing.get_context("fork")


def january(worker: int, trial: int) -> bytes:
    """An export of January 2023: 100 000 kr × (worker + 1) of salary on project 7301 (Social välfärd), plus
    ``trial`` öre so that every file is new."""
    kronor = 100_000 * (worker + 1)
    return (f"Bokföringsdatum;Konto;Projekt;Text;Belopp\n"
            f"2023-01-25;5011;7301;lön;{kronor},{trial:02d}\n").encode()


def _import(store: Store, worker: int, trial: int) -> object:
    agreement = load_agreement(AGREEMENT)
    prepared = prepare_import(store, agreement, f"jan-{worker}-{trial}.csv", january(worker, trial))
    return commit_import(store, agreement, prepared, user=f"controller{worker}").upload_id


def _withhold(store: Store, worker: int, trial: int) -> object:
    agreement = load_agreement(AGREEMENT)
    return store.add_withholding(agreement_id=agreement.id, area="social", amount_ore=100_000_000,
                                 reason=f"tvist {trial}", withheld_on=dt.date(2023, 5, 1),
                                 cap_ore=withholding_cap(agreement, "social"), clause="§10", user=f"k{worker}")


def _narrative(store: Store, worker: int, trial: int) -> object:
    return store.add_comment(agreement_id="RUN/305/2022", kind="narrative", area="social",
                             text=f"text {trial} från {worker}", author=f"k{worker}")


def _finalize(store: Store, worker: int, trial: int) -> object:
    finals = store.final_reports("RUN/305/2022")
    in_force = finals[finals["replaced_by"].isna()]
    return store.add_final_report(agreement_id="RUN/305/2022", quarter="2023Q1", presented_on=dt.date(2023, 4, 12),
                                  filename=f"r{trial}-{worker}.html", content=f"{trial}{worker}".encode(),
                                  figures="[]", uploads="[]", user=f"k{worker}",
                                  replaces=int(in_force["id"].iloc[-1]) if len(in_force) else None)


def _worker(url: str, action: Callable[[Store, int, int], object], worker: int,
            sync: tuple[Barrier, Barrier, multiprocessing.Queue]) -> None:
    start, done, results = sync
    store = Store(url)
    for trial in range(TRIALS):
        start.wait()
        try:
            results.put((trial, worker, "ok", action(store, worker, trial)))
        except SamordningError as exc:
            results.put((trial, worker, "refused", exc.message))
        except Exception:  # reported to the test, which fails on it
            results.put((trial, worker, "error", traceback.format_exc()))
        done.wait()


def race(url: str, action: Callable[[Store, int, int], object],
         check: Callable[[Store, int, list[tuple[str, object]]], None]) -> None:
    """Run ``action`` in :data:`WORKERS` processes at once, :data:`TRIALS` times; after each trial ``check``
    sees the store and each worker's outcome ("ok" with the result, or "refused" with the message)."""
    Store(url)  # the schema exists before the workers start
    start, done = CONTEXT.Barrier(WORKERS + 1), CONTEXT.Barrier(WORKERS + 1)
    results = CONTEXT.Queue()
    procs = [CONTEXT.Process(target=_worker, args=(url, action, w, (start, done, results))) for w in range(WORKERS)]
    for p in procs:
        p.start()
    try:
        store = Store(url)
        for trial in range(TRIALS):
            start.wait(timeout=120)
            done.wait(timeout=120)
            outcomes = sorted(results.get(timeout=10) for _ in range(WORKERS))
            assert all(o[0] == trial for o in outcomes)
            errors = [o[3] for o in outcomes if o[2] == "error"]
            assert not errors, errors[0]
            check(store, trial, [(o[2], o[3]) for o in outcomes])
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()


def test_two_imports_of_one_month_leave_one_upload_in_force(db_url: str) -> None:  # noqa: F811
    agreement = load_agreement(AGREEMENT)

    def check(store: Store, trial: int, outcomes: list[tuple[str, object]]) -> None:
        assert [o[0] for o in outcomes] == ["ok", "ok"]          # both files are stored …
        in_force = store.months_in_force(agreement.id, ["2023-01"])["2023-01"]
        assert len(in_force) == 1                                 # … and January is one upload's
        assert in_force[0] == max(int(o[1]) for o in outcomes)    # the later commit's (it replaced the other)
        winner = [o for o in outcomes if int(o[1]) == in_force[0]]
        q1 = quarterly(agreement, classified_rows(store, agreement))
        actual = int(q1.loc[q1["quarter"] == "2023Q1", "actual_ore"].iloc[0])
        # 100 000 kr or 200 000 kr (the winner's), plus the trial's öre: never the two added up (300 000 kr)
        assert actual in (10_000_000 + trial, 20_000_000 + trial)
        assert winner

    race(db_url, _import, check)


def test_two_withholdings_at_once_never_pass_the_cap(db_url: str) -> None:  # noqa: F811
    agreement = load_agreement(AGREEMENT)
    cap = withholding_cap(agreement, "social")
    assert cap == 132_975_000  # 1 329 750 kr: 50 % of the area's half of 5 319 000 kr (§10)

    def check(store: Store, trial: int, outcomes: list[tuple[str, object]]) -> None:
        # 1 000 000 kr + 1 000 000 kr > 1 329 750 kr: exactly one of the two is accepted, every time
        assert sorted(o[0] for o in outcomes) == ["ok", "refused"]
        assert "§10" in next(str(o[1]) for o in outcomes if o[0] == "refused")
        held = store.withholdings(agreement.id)
        open_ = held[held["released_on"].isna()]
        assert open_["amount_ore"].sum() == 100_000_000 <= cap
        # for the next trial
        store.release_withholding(agreement.id, int(open_["id"].iloc[0]), dt.date(2023, 6, 1), user="k")

    race(db_url, _withhold, check)


def test_two_narrative_saves_leave_one_current_text(db_url: str) -> None:  # noqa: F811
    def check(store: Store, trial: int, outcomes: list[tuple[str, object]]) -> None:
        assert [o[0] for o in outcomes] == ["ok", "ok"]
        current = store.comments("RUN/305/2022", kind="narrative")
        assert len(current) == 1
        history = store.comments("RUN/305/2022", kind="narrative", history=True)
        assert len(history) == 2 * (trial + 1)
        # one chain: every version but the first supersedes the one before it
        assert history["supersedes"].iloc[1:].astype(int).tolist() == history["id"].iloc[:-1].tolist()

    race(db_url, _narrative, check)


def test_two_finalizings_at_once_store_one_report(db_url: str) -> None:  # noqa: F811
    stored = [0]

    def check(store: Store, trial: int, outcomes: list[tuple[str, object]]) -> None:
        kinds = sorted(o[0] for o in outcomes)
        # Both saw the same report in force: one is stored, the other refused. A worker that only started after
        # the other had committed saw the new report and legitimately replaced it: both stored, one chain.
        assert kinds in (["ok", "refused"], ["ok", "ok"])
        stored[0] += kinds.count("ok")
        finals = store.final_reports("RUN/305/2022")
        assert len(finals) == stored[0]
        assert finals["replaced_by"].isna().sum() == 1  # never two reports in force for the quarter

    race(db_url, _finalize, check)


@pytest.mark.parametrize("name", ["a", "RUN/305/2022"])
def test_lock_key_is_a_signed_64_bit_integer(name: str) -> None:
    from samordning.store import agreement_lock_key

    assert -(2**63) <= agreement_lock_key(name) < 2**63
    assert agreement_lock_key(name) == agreement_lock_key(name)
