"""One service process under uvicorn, stopped the way operators expect.

- SIGTERM, SIGINT and SIGHUP all stop it gracefully: no new HTTP connections, the batch in flight
  is finished and committed, the periodic jobs finish their round, the outbox relay publishes
  what is left, the pools close; then the process exits 0.
- A second signal, or ``SHUTDOWN_TIMEOUT_S`` passing, exits at once (code 1): nothing committed
  is lost, what was not committed is redelivered (inbox) or republished (outbox) after restart.
- SIGUSR1 only stops HTTP intake (``up`` sends it before it drains the system).
- Started by ``up`` the process watches its lifeline (:mod:`looptrace_shared.lifeline`): when
  ``up`` is gone, it stops as on SIGTERM, within ``LIFELINE_TIMEOUT_S``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any

import uvicorn

from looptrace_shared import lifeline

log = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
LIFELINE_TIMEOUT_S = 5.0  # nobody waits for a drain once the parent is gone
HTTP_GRACE_S = 3  # open HTTP connections (a live stream) get this long to end


class ServiceServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: Any, shutdown_timeout_s: float) -> None:
        super().__init__(config)
        self.service_app = app
        self.shutdown_timeout_s = shutdown_timeout_s
        self.forced = False

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # ours are installed on the event loop (uvicorn's re-raise them: exit 143)

    def stop(self, why: str, timeout: float | None = None) -> None:
        if self.should_exit:
            self.force(f"second stop request ({why})")
            return
        timeout = self.shutdown_timeout_s if timeout is None else timeout
        log.info("stop requested (%s): finishing work in flight, at most %.0fs", why, timeout)
        self.stop_intake()
        self.should_exit = True
        asyncio.get_running_loop().call_later(
            timeout, self.force, f"shutdown took longer than {timeout:.0f}s"
        )

    def stop_intake(self) -> None:
        health = getattr(self.service_app.state, "health", None)
        if health is not None:
            health.draining = True

    def force(self, why: str) -> None:
        log.warning("exiting now: %s; uncommitted work is redone after the restart", why)
        logging.shutdown()
        os._exit(1)


async def _serve(server: ServiceServer) -> None:
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, server.stop, signal.Signals(sig).name)
    loop.add_signal_handler(signal.SIGUSR1, server.stop_intake)

    def parent_gone() -> None:
        loop.call_soon_threadsafe(server.stop, "the run that started it ended", LIFELINE_TIMEOUT_S)

    lifeline.watch(parent_gone)
    await server.serve()


def run_service(app: Any, host: str, port: int, shutdown_timeout_s: float) -> int:
    """Serve ``app`` until stopped; the exit code (0 after a graceful stop)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=max(1, min(HTTP_GRACE_S, int(shutdown_timeout_s))),
    )
    server = ServiceServer(config, app, shutdown_timeout_s)
    asyncio.run(_serve(server))
    if not server.started:
        print("the service did not start; see the log above", file=sys.stderr)
        return 3
    return 0
