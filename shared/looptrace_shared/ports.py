"""The one list of LoopTrace's services (and the web console) and the HTTP port each listens on
by default.

`looptrace up`, `looptrace serve`, the contracts (asyncapi.json) and each service's own
``http_port`` default read it: a new service is one line here (and its package).
"""

from __future__ import annotations

SERVICES: dict[str, int] = {
    "orders": 8101,
    "production": 8102,
    "quality": 8103,
    "notifications": 8104,
    "predictions": 8105,
}
CONSOLE: dict[str, int] = {"web": 8100}  # the web console: no data of its own, no migrations
PROCESSES: dict[str, int] = {**SERVICES, **CONSOLE}  # what `up` starts


def local_url(service: str) -> str:
    """Where ``service`` answers on this machine by default."""
    return f"http://127.0.0.1:{PROCESSES[service]}"
