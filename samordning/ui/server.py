"""Voilà as ``samordning serve`` runs it: kernels that end with their page, and a cap on them.

``python -m samordning.ui.server NOTEBOOK …`` is Voilà's own application with three changes, all server-side:

- **The page handler** (:class:`PageHandler`, Voilà's handler for the notebook page) refuses a page beyond the
  cap with a short Swedish page and status 503; it sets the ``_xsrf`` cookie, so the shutdown request that
  Voilà's page sends when it is closed or reloaded is accepted (without the cookie it is refused with
  "403 '_xsrf' argument missing", voila-dashboards/voila#1458, and the kernel lives on); and it gives the page
  ``<title>`` the agreement's id. It also hands the page's kernel the logged-in name
  (:meth:`PageHandler.pass_user`), the way Voilà hands it the query string.
- **The kernel manager** (:class:`PageKernelManager`, under Voilà's preheated pool) counts the page kernels
  (every kernel but those waiting in the pool), and culls a page kernel that has had no websocket for
  ``cull_idle_timeout`` seconds, counted from its last message, its hand-out to a page or its last
  disconnect — so a page that closed without its shutdown request, or a request that never opened the
  websocket, lets its kernel go, while an open page (connected) is never culled, however idle its reader.
- **The port**: a taken port ends the server with one Swedish message and exit code 2, not Voilà's English
  "trying another port" and exit code 1.

The numbers (the cap, the cull times) are settings in ``notebooks/voila.json``; only the wiring is here.
"""

from __future__ import annotations

import errno
import html
import os
import re
import sys
import uuid
from typing import Any

import tornado.web
from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Integer
from voila.app import Voila
from voila.tornado.handler import TornadoVoilaHandler
from voila.utils import ENV_VARIABLE

from samordning.agreement import AGREEMENT_ENV, agreement_files, agreements_dir, load_agreement
from samordning.login import recorded_name
from samordning.serving import port_refused
from samordning.ui import USER_ENV, USER_HEADER
from samordning.vocabulary import SHOWN_ENV, shown_ids

BUSY_TEXT = "Många tittar just nu — försök igen om en stund."
BUSY_PAGE = """<!DOCTYPE html>
<html lang="sv">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body {{ font-family: system-ui, sans-serif; font-size: 20px; margin: 15vh auto; max-width: 36em;
padding: 0 1em; color: #1b1e23; }} a {{ color: #0b4f8a; }}</style></head>
<body><main><h1 style="font-size: 28px">{text}</h1>
<p>Sidan har för många läsare samtidigt. Vänta en minut och <a href="">försök igen</a>.</p></main></body>
</html>
"""
RETRY_AFTER = "60"  # seconds: a closed page frees its place at once, a vanished one within 80 s


class PageKernelManager(AsyncMappingKernelManager):
    """Jupyter's kernel manager with page kernels counted and culled once their page is gone.

    Voilà puts its preheated pool on top of this class (``voila_kernel_manager_factory``), and its own
    ``cull_kernel_if_idle`` never culls a kernel waiting in the pool. The idle clock of a page kernel is its
    ``last_activity``, which this class moves forward when the kernel is handed to a page and when a
    websocket to it closes; jupyter_server's culler then does the rest (``cull_connected`` stays False: a
    kernel with an open websocket — an open page — is never culled)."""

    max_viewers = Integer(16, config=True, help="Most page kernels at once; a page beyond gets status 503.")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._starting: set[str] = set()  # pool kernels still starting (in the kernel list, not yet in the pool)
        self._pages: set[str] = set()  # the page kernels last seen
        self._ending: set[str] = set()  # kernels being shut down: their place is free at once
        self.reserved = 0  # pages admitted whose kernel is not yet counted

    async def start_kernel(self, *, kernel_id: str | None = None, path: str | None = None,
                           **kwargs: Any) -> str:  # type: ignore[override]
        if (kwargs.get("env") or {}).get(ENV_VARIABLE.VOILA_PREHEAT) != "True":
            return await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        kernel_id = kernel_id or str(uuid.uuid4())  # a pool kernel: known as one from its first moment
        self._starting.add(kernel_id)
        try:
            return await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        finally:
            self._starting.discard(kernel_id)

    async def shutdown_kernel(self, kernel_id: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self._ending.add(kernel_id)
        try:
            await super().shutdown_kernel(kernel_id, *args, **kwargs)
        finally:
            self._ending.discard(kernel_id)

    def pooled_ids(self) -> set[str]:
        """Kernels waiting in Voilà's preheated pool, or starting for it."""
        ids = set(self._starting)
        for pool in getattr(self, "_pools", {}).values():
            for task in pool:
                if task.done() and not task.cancelled() and task.exception() is None:
                    ids.add(task.result()["kernel_id"])
        return ids

    def page_ids(self) -> set[str]:
        """The kernels handed to pages. A kernel seen here for the first time has just been handed out:
        its idle clock starts now (it may have waited in the pool for hours)."""
        ids = set(self.list_kernel_ids()) - self.pooled_ids() - self._ending
        for kernel_id in ids - self._pages:
            self._touch(kernel_id)
        self._pages = ids
        return ids

    def full(self) -> bool:
        return len(self.page_ids()) + self.reserved >= self.max_viewers

    def _touch(self, kernel_id: str) -> None:
        kernel = self._kernels.get(kernel_id)
        if kernel is not None:
            kernel.last_activity = utcnow()

    def notify_disconnect(self, kernel_id: str) -> None:
        super().notify_disconnect(kernel_id)
        self._touch(kernel_id)  # a page that lost its websocket has cull_idle_timeout to come back

    async def cull_kernels(self) -> None:
        self.page_ids()  # kernels handed out since the last round start their idle clock now
        await super().cull_kernels()


class PageHandler(TornadoVoilaHandler):
    """Voilà's notebook page, with the cap, the ``_xsrf`` cookie and the agreement in the title."""

    def initialize(self, **kwargs: Any) -> None:
        self.titles: dict[str, str] = kwargs.pop("titles")
        self._reserved = False  # a place under the cap held for this page until its kernel is counted
        super().initialize(**kwargs)

    def page_title(self) -> str:
        agreement = self.titles.get(self.get_query_argument("avtal", "").strip()) or self.titles.get("")
        return f"{agreement} – samordning" if agreement else "samordning"

    def pass_user(self) -> None:
        """Put the logged-in name in the request header :data:`USER_HEADER`, which Voilà (``http_header_envs`` in
        voila.json) passes to the page's kernel as ``$HTTP_X_SAMORDNING_USER`` — in the kernel's environment,
        or for a preheated kernel with the query string after the request. The name comes from the login
        only: whatever a client sent in that header is replaced or removed first."""
        name = recorded_name(self.identity_provider, self.current_user)
        if name:
            self.request.headers[USER_HEADER] = name
        elif USER_HEADER in self.request.headers:
            del self.request.headers[USER_HEADER]

    @tornado.web.authenticated
    async def get(self, path: str | None = None) -> None:
        self.pass_user()
        manager = self.kernel_manager
        if path or not isinstance(manager, PageKernelManager):  # a file beside the notebook: Voilà's own way
            await super().get(path)
            return
        if manager.full():
            self.log.warning("Page refused: %d page kernels, at most %d", len(manager.page_ids()),
                             manager.max_viewers)
            self.set_status(503)
            self.set_header("Retry-After", RETRY_AFTER)
            self.set_header("Content-Type", "text/html; charset=UTF-8")
            self.finish(BUSY_PAGE.format(title=html.escape(self.page_title()), text=html.escape(BUSY_TEXT)))
            return
        self.xsrf_token  # noqa: B018 -- sets the _xsrf cookie that the page's shutdown request sends back
        manager.reserved += 1
        self._reserved = True
        try:
            await self._stream(path, manager)
        finally:
            if self._reserved:
                manager.reserved -= 1

    async def _stream(self, path: str | None, manager: PageKernelManager) -> None:
        """Voilà's page as it renders, with its title replaced once the page's start has arrived (Jinja sends
        the start in pieces, some of a few bytes)."""
        head: str | None = ""  # the page until its </title>, then None
        async for chunk in self.get_generator(path=path):
            if self._reserved:  # the first piece: the kernel has been handed out and is counted now
                manager.page_ids()
                manager.reserved -= 1
                self._reserved = False
            if head is None:
                self.write(chunk)
            elif "</title>" in (head := head + chunk) or len(head) > 65536:
                self.write(retitle(head, self.page_title()))
                head = None
            self.flush()
        if head:
            self.write(retitle(head, self.page_title()))


def retitle(page: str, title: str) -> str:
    """The page with ``title`` in its ``<title>`` (nbconvert puts the notebook's file name there)."""
    return re.sub(r"<title>.*?</title>", lambda _m: f"<title>{html.escape(title)}</title>", page, count=1,
                  flags=re.S)


def agreement_titles() -> dict[str, str]:
    """What ``?avtal=`` may say (an agreement's id or its file's stem) → the agreement's id; ``""`` → the
    agreement the server was started with. Limited to ``serve --agreements`` when given."""
    titles = {}
    for path in agreement_files(agreements_dir()):
        titles[path.stem] = titles[load_agreement(path).id] = load_agreement(path).id
    only = shown_ids(os.environ.get(SHOWN_ENV))
    if only is not None:
        titles = {k: v for k, v in titles.items() if v in only} | {i: i for i in only} | {
            i.replace("/", "-"): i for i in only}
    chosen = os.environ.get(AGREEMENT_ENV)
    if chosen and os.path.isfile(chosen):
        titles[""] = load_agreement(chosen).id
    elif chosen:
        titles[""] = titles[chosen] = chosen
    return titles


class SamordningVoila(Voila):
    """Voilà with :class:`PageKernelManager` and :class:`PageHandler`, failing on a taken port."""

    def init_settings(self) -> dict:
        self.voila_configuration.multi_kernel_manager_class = PageKernelManager
        os.environ.pop(USER_ENV, None)  # a kernel's name comes from its page's request, never from here
        if USER_HEADER not in self.voila_configuration.http_header_envs:
            self.voila_configuration.http_header_envs = [*self.voila_configuration.http_header_envs, USER_HEADER]
        return super().init_settings()

    def init_handlers(self) -> list:
        titles = agreement_titles()
        return [(rule[0], PageHandler, {**rule[2], "titles": titles}) if rule[1] is TornadoVoilaHandler else rule
                for rule in super().init_handlers()]

    def listen(self) -> None:
        listen = self.app.listen

        def listen_or_refuse(port: int, address: str = "", **kwargs: Any) -> Any:
            try:
                return listen(port, address, **kwargs)
            except OSError as exc:
                if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                    raise
                print(port_refused(address, port, exc), file=sys.stderr, flush=True)
                sys.exit(2)

        self.app.listen = listen_or_refuse  # type: ignore[method-assign]
        super().listen()


main = SamordningVoila.launch_instance

if __name__ == "__main__":
    main()
