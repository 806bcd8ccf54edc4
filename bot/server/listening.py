"""The listening sockets of `capdesk serve`, bound before anything else starts.

Binding first means a port that is taken stops start-up with one line naming
`CAPDESK_HTTP_PORT`, before the scheduler, Slack's client or the playground have opened
anything that would then need closing.
"""

from __future__ import annotations

import errno
import socket

from bot.settings import Settings
from bot.startup import StartupError

_BACKLOG = 128  # aiohttp's own default


def listen(host: str, port: int, settings: Settings) -> list[socket.socket]:
    """A listening socket on each address `host` resolves to (the first only for port 0, where
    each would get a different port); StartupError naming the setting when one cannot be had."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(
            f"cannot listen on {host}: {exc.strerror} {settings.mention('CAPDESK_HTTP_HOST')}"
        ) from exc
    addresses = list(dict.fromkeys(found))[: 1 if port == 0 else None]
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in addresses:
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(_BACKLOG)
            sock.setblocking(False)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise StartupError(_cannot_bind(exc, host, port, settings)) from exc
    return sockets


def _cannot_bind(exc: OSError, host: str, port: int, settings: Settings) -> str:
    both = settings.mention("CAPDESK_HTTP_HOST", "CAPDESK_HTTP_PORT")
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is in use by another program: stop it, or choose another "
            f"port {settings.mention('CAPDESK_HTTP_PORT')}"
        )
    if exc.errno == errno.EACCES:
        return (
            f"capdesk may not listen on port {port} (permission denied); use one above 1023 {both}"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine {settings.mention('CAPDESK_HTTP_HOST')}"
    return f"cannot listen on {host} port {port} ({exc.strerror}) {both}"
