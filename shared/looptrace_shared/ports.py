"""The one list of LoopTrace's services and the HTTP port each listens on by default.

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


def local_url(service: str) -> str:
    """Where ``service`` answers on this machine by default."""
    return f"http://127.0.0.1:{SERVICES[service]}"
