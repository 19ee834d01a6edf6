"""Run a file's reader in a child process, where its crash cannot take the caller with it.

python-calamine is Rust: a workbook that makes it allocate hundreds of GB aborts the whole process (SIGABRT),
which in the dashboard kills the kernel without a word. :func:`run` forks a child that reads the file under
an address-space limit (:data:`PARSE_MEMORY` beyond what it inherits) and a wall-clock limit
(:data:`PARSE_SECONDS`); the child sends back what it read through a pipe, and any crash, limit or hang
becomes a Swedish refusal (:class:`SamordningError`) in the caller, which stays alive.

The fork shares the caller's memory copy-on-write, so nothing is imported again. What crosses the pipe is
kept small: a frame's text and date columns go as codes into their distinct values (:func:`pack_frame`), not
as a Python object per cell. Where ``os.fork`` does not exist (Windows), the reader runs in the caller.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import gc
import os
import pickle
import resource
import signal
import threading
import traceback
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd

from samordning.errors import Problem, SamordningError

PARSE_SECONDS = 300                      # wall-clock time a file may take to read
PARSE_MEMORY = 4 * 1024 ** 3             # address space the child may add to what it inherits (bytes)
DEBUG_ENV = "SAMORDNING_DEBUG"           # set: the child's own error output (a Rust panic) is not silenced

T = TypeVar("T")
Cleaner = Callable[[np.ndarray], tuple[np.ndarray, "np.ndarray | None"]]


class ReaderFailed(RuntimeError):
    """An unexpected error inside the child (a bug, not a refusal): its type, message and traceback."""


def run(filename: str, read: Callable[[], T]) -> T:
    """``read()`` in a forked child with memory and time limits; its result, or its refusal raised here."""
    if not hasattr(os, "fork"):
        return read()
    _give_back_memory()
    receive, send = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(receive)
        _child(send, read)
    os.close(send)
    timed_out = threading.Event()
    timer = threading.Timer(PARSE_SECONDS, _kill, (pid, timed_out))
    timer.daemon = True
    timer.start()
    outcome: tuple[object, ...] | None = None
    try:
        with os.fdopen(receive, "rb") as pipe:
            try:
                outcome = pickle.load(pipe)
            except (EOFError, pickle.UnpicklingError, ValueError, MemoryError):
                outcome = None
    except BaseException:
        _kill(pid, None)
        raise
    finally:
        timer.cancel()
        _, status = os.waitpid(pid, 0)
    return _result(filename, outcome, status, timed_out.is_set())


def _give_back_memory() -> None:
    """Hand the caller's freed heap back to the system (glibc's ``malloc_trim``) before forking: the child
    starts with what the caller holds, not with what an earlier import left freed but mapped."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _kill(pid: int, flag: threading.Event | None) -> None:
    if flag is not None:
        flag.set()
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _child(send: int, read: Callable[[], object]) -> None:
    """Read under the limits and send the outcome; ``os._exit`` so nothing of the caller's runs here."""
    code = 0
    # No cyclic garbage collection here: the child reads one file and exits, so its few cycles die with it,
    # and a collection would traverse the caller's inherited objects (touching their pages copies them) and
    # every row's cells again and again as they pile up (calamine's 200 000 row lists: 0.42 s with it, 0.16 s
    # without). The address-space limit still bounds what the child may hold.
    gc.disable()
    try:
        _limit_memory()
        if not os.environ.get(DEBUG_ENV):
            faulthandler.disable()  # a crash here is the refusal's business: no Python traceback dumped
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)  # a Rust panic's backtrace is the refusal's business, not the terminal's
        try:
            outcome: tuple[object, ...] = ("ok", read())
        except SamordningError as exc:
            outcome = ("refused", exc.message, exc.problems, exc.remedy, exc.proposal)
        except MemoryError:
            outcome = ("memory",)
        except BaseException as exc:  # a bug: the caller raises it as one
            outcome = ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        with os.fdopen(send, "wb") as pipe:
            pickle.dump(outcome, pipe, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:
        code = 70
    finally:
        os._exit(code)


def _limit_memory() -> None:
    """Cap the child's address space at what it inherited plus :data:`PARSE_MEMORY`; a crash writes no core."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        inherited = int(statm.read().split()[0]) * resource.getpagesize()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = inherited + PARSE_MEMORY
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft == resource.RLIM_INFINITY or wanted < soft:
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))  # no core dump


def _result(filename: str, outcome: tuple[object, ...] | None, status: int, timed_out: bool) -> T:  # type: ignore[type-var]
    """The child's outcome in the caller: its result, its refusal, or a refusal for its crash or limit."""
    if outcome is not None and outcome[0] == "ok":
        return outcome[1]  # type: ignore[return-value]
    if outcome is not None and outcome[0] == "refused":
        _, message, problems, remedy, proposal = outcome
        raise SamordningError(str(message), list(problems), remedy=remedy, proposal=proposal)  # type: ignore[arg-type]
    if outcome is not None and outcome[0] == "error":
        raise ReaderFailed(str(outcome[1]))
    if timed_out:
        raise SamordningError(
            f"Filen {filename} tog mer än {PARSE_SECONDS} sekunder att läsa och har avbrutits; den är för stor "
            "eller konstruerad för att låsa läsaren. Inget har sparats.",
            [Problem(f"läsningen avbröts efter {PARSE_SECONDS} s", file=filename)])
    how = (f"avbröts ({signal.Signals(os.WTERMSIG(status)).name})" if os.WIFSIGNALED(status)
           else "tog slut på minne" if outcome is not None else f"avslutades (kod {os.WEXITSTATUS(status)})")
    raise SamordningError(
        f"Filen {filename} kunde inte läsas: läsaren {how}, troligen för att filen kräver mer än "
        f"{PARSE_MEMORY // 1024 ** 3} GB minne. Filen är skadad eller konstruerad för att krascha läsaren. Inget "
        "har sparats.", [Problem(f"läsaren {how}", file=filename)])


# -- a frame across the pipe ---------------------------------------------------------------------------------

def pack_frame(frame: pd.DataFrame, *, text: tuple[str, ...] = (), clean: Cleaner | None = None
               ) -> tuple[dict[str, object], int]:
    """A frame as numpy arrays: each object or text column as codes into its distinct values (a ledger has
    few distinct accounts, dates and texts), or as it is when nearly every value differs (a voucher number);
    numbers as they are. The ``text`` columns' values pass through ``clean`` (once per distinct value); the
    second result is how many cells it changed."""
    columns: dict[str, tuple[str, object, object]] = {}
    changed = 0
    for name in frame.columns:
        column = frame[name]
        found = None if column.dtype.kind in "biufM" else _codes(column)
        if found is None and column.dtype.kind in "biufM":
            columns[name] = ("array", column.to_numpy(), column.dtype)
        elif found is None:
            # nearly unique, codes would cost more than they save; or values such as a SIE row's dimensions
            # (a dict), which have no codes
            values = column.to_numpy(dtype=object)
            if clean is not None and name in text:
                values, hits = clean(values)
                changed += 0 if hits is None else int(hits.sum())
            columns[name] = ("array", values, column.dtype)
        else:
            codes, distinct = found
            if clean is not None and name in text:
                distinct, hits = clean(distinct)
                changed += 0 if hits is None else int(np.isin(codes, np.flatnonzero(hits)).sum())
            columns[name] = ("codes", (codes, distinct), column.dtype)
    return {"index": frame.index, "columns": columns}, changed


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """A column as int32 codes into its distinct values (the last one None, for code -1: a missing value);
    None for a column of nearly unique values, or of values that have no codes (a dict)."""
    try:
        if column.iloc[:1000].nunique() > 500:
            return None
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
    except TypeError:  # unhashable: a SIE row's dimensions
        return None
    distinct = np.empty(len(uniques) + 1, dtype=object)
    distinct[:-1] = np.asarray(uniques, dtype=object)
    distinct[-1] = None  # code -1 (a missing value) picks the last entry
    return codes.astype(np.int32), distinct


def unpack_frame(packed: dict[str, object]) -> pd.DataFrame:
    """The frame :func:`pack_frame` packed, with its dtypes and index."""
    data = {}
    for name, (how, values, dtype) in packed["columns"].items():  # type: ignore[attr-defined]
        if how == "array":
            data[name] = pd.Series(values, dtype=dtype, copy=False)
        else:
            codes, distinct = values
            data[name] = pd.Series(distinct[codes], dtype=dtype)
    frame = pd.DataFrame(data)
    frame.index = packed["index"]  # type: ignore[assignment]
    return frame
