"""Serving the dashboard, the parts that need no Voilà: the port check of ``samordning serve``.

The server itself (Voilà with kernels that end with their page and a cap on them) is
``samordning.ui.server``; this module stays free of UI imports so that the CLI can use it.
"""

from __future__ import annotations

import errno
import socket

from samordning.errors import SamordningError


def port_refused(ip: str, port: int, exc: OSError) -> str:
    """The Swedish message for a port the server cannot listen on (said by `serve`, or by the server itself if
    the port was taken in between)."""
    where = f"port {port} på {ip or 'alla adresser'}"
    if exc.errno == errno.EACCES:
        return f"Servern får inte lyssna på {where} (behörighet saknas). Välj en annan port med --port."
    return f"{where[0].upper()}{where[1:]} används redan av ett annat program. Välj en annan port med --port."


def check_port(ip: str, port: int) -> None:
    """Refuse a taken port before anything starts (Voilà would log in English, move on or exit with 1)."""
    try:
        addresses = socket.getaddrinfo(ip or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise SamordningError(f"Adressen {ip!r} går inte att lyssna på: {exc.strerror}.") from exc
    for family, kind, proto, _name, address in addresses:
        with socket.socket(family, kind, proto) as probe:  # bound the way Tornado binds
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise SamordningError(port_refused(ip, port, exc)) from exc
