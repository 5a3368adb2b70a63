"""Runs the API and the object endpoint side by side: two uvicorn servers in one
process and one event loop, sharing the services the API starts."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn

from trainjobs.app import create_app, create_object_app
from trainjobs.settings import Settings


class _Quiet(uvicorn.Server):
    """The object endpoint's server: the API's server alone handles signals, and
    stops this one when it stops."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self) -> None:  # uvicorn before 0.29
        return


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (0: a free port), ready before the
    servers start, so its port can be advertised."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, and TCP_NODELAY set (accepted sockets inherit it): the event
    # loop turns Nagle's algorithm off only on sockets that say they are TCP, and
    # with it on, a response's body waits for the client's delayed ACK (40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings, object_socket: socket.socket) -> None:
    app = create_app(settings)
    api = uvicorn.Server(
        # The service's own access log (trainjobs.access) replaces uvicorn's.
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            log_level="warning",
            access_log=False,
        )
    )
    objects = _Quiet(
        uvicorn.Config(
            create_object_app(app),
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            # Bodies stream through in chunks; no idle client holds a worker.
            timeout_keep_alive=30,
        )
    )

    async def both() -> None:
        endpoint = asyncio.create_task(objects.serve(sockets=[object_socket]))
        try:
            await api.serve()
        finally:
            objects.should_exit = True
            await endpoint

    # uvloop where it is installed (uvicorn[standard] brings it): its transports
    # write large bodies without the copies the standard loop makes, which is most
    # of what a large GET costs.
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(both())


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
