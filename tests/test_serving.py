"""How the dashboard is served (samordning.ui.server): kernels that end with their page, the cap on page
kernels with its Swedish 503 page, the page's language and title, and a taken port.

Kernels are counted as the processes under the server (the council's view runs one preheated kernel in
the pool besides the page kernels), so the counts are the server's real state, not its own bookkeeping."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_browser import LOAD, Served, browser, children, free_port, serve  # noqa: F401 -- browser: a fixture

from samordning.agreement import AGREEMENT_ENV
from samordning.cli import voila_command
from samordning.store import DB_ENV
from samordning.ui import ROLE_ENV
from samordning.ui.server import BUSY_TEXT, retitle

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT = ROOT / "data" / "avtal" / "RUN-305-2022.toml"
POOL = json.loads((ROOT / "notebooks" / "voila.json").read_text())["VoilaConfiguration"]["default_pool_size"]
READY = ".smd-app .card .value"


def kernels(served: Served) -> set[int]:
    """The kernel processes under the server (samordning serve → the Voilà server → its kernels)."""
    found = set()
    for pid in children(served.pid) | set().union(*(children(p) for p in children(served.pid))):
        try:
            if b"ipykernel" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
        except OSError:
            continue
    return found


def settle(served: Served, expected: int, within: float) -> int:
    """The number of kernels once it is ``expected``, or after ``within`` seconds (a bound on waiting, not an
    assertion on time: the test then asserts the count)."""
    deadline = time.monotonic() + within
    while (count := len(kernels(served))) != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    return count


def get(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=120) as answer:
            return answer.status, answer.read().decode(), dict(answer.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def serve_quickly_culled(tmp: Path) -> Iterator[Served]:
    """The council's view served the way ``samordning serve`` serves it, with culling in seconds."""
    db = str(tmp / "demo.db")
    env = dict(os.environ, SAMORDNING_DB=db, XDG_DATA_HOME=str(tmp / "xdg"))
    subprocess.run([sys.executable, "-m", "samordning.cli", "demo"], env=env, capture_output=True, check=True)
    env.update({DB_ENV: db, AGREEMENT_ENV: str(AGREEMENT), ROLE_ENV: "council"})
    port = free_port()
    command = [*voila_command(ROOT / "notebooks" / "dashboard.ipynb", port), "--Voila.token=",
               "--MappingKernelManager.cull_idle_timeout=8", "--MappingKernelManager.cull_interval=2"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    ready = threading.Event()

    def watch() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            if "is running at" in line:
                ready.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        assert ready.wait(90), "".join(output)
        yield Served(f"http://127.0.0.1:{port}/", db, output, proc.pid)
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("council"))


@pytest.fixture(scope="module")
def culled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_quickly_culled(tmp_path_factory.mktemp("culled"))


@pytest.fixture
def new_page(browser: object) -> Iterator[Callable[[str], object]]:  # noqa: F811 -- the imported fixture
    pages: list[object] = []

    def go(url: str) -> object:
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="sv-SE")  # type: ignore[attr-defined]
        pages.append(page)
        page.goto(url, wait_until="commit", timeout=LOAD)
        page.wait_for_selector(READY, timeout=LOAD)
        return page

    yield go
    for page in pages:
        page.close()  # type: ignore[attr-defined]


# -- without a browser --------------------------------------------------------------------------------

def test_settings_end_a_closed_page_within_two_minutes() -> None:
    settings = json.loads((ROOT / "notebooks" / "voila.json").read_text())
    culling = settings["MappingKernelManager"]
    # A page kernel without a websocket goes after cull_idle_timeout, found by a round every cull_interval.
    assert culling["cull_idle_timeout"] + culling["cull_interval"] <= 120
    assert culling["cull_connected"] is False  # an open page is never culled
    assert settings["PageKernelManager"]["max_viewers"] >= 1
    assert settings["HTMLExporter"]["language_code"] == "sv"


def test_retitle_replaces_the_notebook_name_only() -> None:
    page = '<html lang="sv"><head><title>dashboard</title></head><body><svg><title>spin</title></svg></body>'
    assert retitle(page, "RUN/305/2022 – samordning <&>") == (
        '<html lang="sv"><head><title>RUN/305/2022 – samordning &lt;&amp;&gt;</title></head>'
        "<body><svg><title>spin</title></svg></body>")


def test_taken_port_is_one_swedish_message_and_exit_2(tmp_path: Path) -> None:
    env = dict(os.environ, SAMORDNING_DB=str(tmp_path / "x.db"), XDG_DATA_HOME=str(tmp_path / "xdg"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "samordning.cli", "serve", "--port", str(port),
                               "--no-browser"], env=env, capture_output=True, text=True, timeout=120, check=False)
        # The server by itself (a port taken between the check and the start) says the same.
        env.update({AGREEMENT_ENV: str(AGREEMENT), DB_ENV: str(tmp_path / "x.db")})
        server = subprocess.run([*voila_command(ROOT / "notebooks" / "dashboard.ipynb", port), "--Voila.token="],
                                env=env, capture_output=True, text=True, timeout=120, check=False)
    message = f"Port {port} på 127.0.0.1 används redan av ett annat program. Välj en annan port med --port.\n"
    assert (done.returncode, done.stdout, done.stderr) == (2, "", message)
    assert server.returncode == 2
    assert message in server.stderr
    for english in ("trying another port", "CRITICAL", "Traceback"):
        assert english not in done.stderr + server.stderr


def test_max_viewers_must_be_a_positive_number() -> None:
    done = subprocess.run([sys.executable, "-m", "samordning.cli", "serve", "--max-viewers", "0", "--no-browser"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert "'0' är inte ett heltal större än noll" in done.stderr


# -- served ---------------------------------------------------------------------------------------------

@pytest.mark.browser
def test_page_is_swedish_and_names_the_agreement(council: Served) -> None:
    status, page, _ = get(council.url)
    assert status == 200
    assert '<html lang="sv">' in page
    assert "<title>RUN/305/2022 – samordning</title>" in page
    assert "<title>dashboard</title>" not in page
    _, page, _ = get(council.url + "?avtal=RUN-305-2022")  # the file's stem names it too
    assert "<title>RUN/305/2022 – samordning</title>" in page


@pytest.mark.browser
def test_closed_and_reloaded_pages_let_their_kernels_go(tmp_path: Path, new_page: Callable[[str], object]) -> None:
    running = serve(tmp_path)  # a server of its own, so that no other test's kernel is counted
    served = next(running)
    try:
        assert settle(served, POOL, 90) == POOL  # the preheated pool
        page = new_page(served.url)
        assert settle(served, POOL + 1, 60) == POOL + 1  # the page's kernel, and the pool refilled
        page.reload()  # type: ignore[attr-defined]
        page.wait_for_selector(READY, timeout=LOAD)  # type: ignore[attr-defined]
        # The reloaded page's old kernel was shut down by Voilà's own request (accepted: the page has its
        # _xsrf cookie now, voila#1458); the new page has one kernel, the pool one.
        assert settle(served, POOL + 1, 60) == POOL + 1
        second = new_page(served.url)
        assert settle(served, POOL + 2, 60) == POOL + 2
        page.goto("about:blank")  # type: ignore[attr-defined]
        second.goto("about:blank")  # type: ignore[attr-defined]
        assert settle(served, POOL, 60) == POOL
        log = "".join(served.output)
        assert log.count("Kernel shutdown:") >= 3
        assert "_xsrf' argument missing" not in log
        assert "Culling 'idle' kernel" not in log  # gone by their shutdown request, not by the culler
    finally:
        next(running, None)


@pytest.mark.browser
def test_culling_ends_vanished_pages_and_spares_open_ones(culled: Served, new_page: Callable[[str], object]) -> None:
    assert settle(culled, POOL, 90) == POOL
    page = new_page(culled.url)
    # Two requests that never open the websocket (a script, a preview bot): each is handed a kernel.
    assert get(culled.url)[0] == 200
    assert get(culled.url)[0] == 200
    # A page whose shutdown request never arrives (the browser crashed, the network went).
    vanished = new_page(culled.url)
    vanished.route("**/voila/api/shutdown/**", lambda route: route.abort())  # type: ignore[attr-defined]
    vanished.goto("about:blank")  # type: ignore[attr-defined]
    # The culler (8 s without a websocket, checked every 2 s) ends the three, and only them (none was shut
    # down otherwise); the open page stays, though its reader did nothing for longer than the cull timeout,
    # and the pool is kept.
    assert settle(culled, POOL + 1, 90) == POOL + 1
    log = "".join(culled.output)
    assert log.count("Culling 'idle' kernel") == log.count("Kernel shutdown:") == 3
    page.wait_for_timeout(12_000)  # type: ignore[attr-defined]  # longer than the cull timeout, idle
    assert len(kernels(culled)) == POOL + 1
    page.get_by_role("tab", name="Kvartal").click()  # type: ignore[attr-defined]  # its kernel still answers
    page.wait_for_selector(".js-plotly-plot:visible .xaxislayer-above text", timeout=60_000)  # type: ignore[attr-defined]
    # A new page gets the refilled pool's kernel.
    new_page(culled.url)
    assert settle(culled, POOL + 2, 60) == POOL + 2


@pytest.mark.browser
def test_page_beyond_the_cap_gets_the_swedish_503(tmp_path: Path, new_page: Callable[[str], object]) -> None:
    running = serve(tmp_path, "--max-viewers", "2")
    served = next(running)
    try:
        first = new_page(served.url)
        assert get(served.url)[0] == 200  # the second page (a request that never opens its websocket)
        status, body, headers = get(served.url)
        assert status == 503
        assert BUSY_TEXT in body
        assert "Många tittar just nu — försök igen om en stund" in body
        assert '<html lang="sv">' in body and "<title>RUN/305/2022 – samordning</title>" in body
        assert headers["Retry-After"] == "60"
        assert settle(served, POOL + 2, 30) == POOL + 2  # the refused page took no kernel
        # Those already in are served on.
        first.get_by_role("tab", name="Kvartal").click()  # type: ignore[attr-defined]
        first.wait_for_selector(".js-plotly-plot:visible .xaxislayer-above text", timeout=60_000)  # type: ignore[attr-defined]
        # A page that closes makes room.
        first.goto("about:blank")  # type: ignore[attr-defined]
        assert settle(served, POOL + 1, 60) == POOL + 1
        assert get(served.url)[0] == 200
    finally:
        next(running, None)
