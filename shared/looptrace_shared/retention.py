"""``looptrace retention run``: each service moves its own data to cold storage.

Services contribute their part through the ``looptrace.retention`` entry points: an
``async (dry_run: bool) -> list[str]`` that reads its own settings from the environment and
returns the lines to print. The command runs them one after the other (plumbing only: what is
kept, moved or purged is each service's rule).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points

Part = Callable[[bool], Awaitable[list[str]]]


def parts(only: tuple[str, ...] = ()) -> dict[str, Part]:
    found = {ep.name: ep for ep in entry_points(group="looptrace.retention")}
    return {name: ep.load() for name, ep in sorted(found.items()) if not only or name in only}


async def run_all(dry_run: bool, only: tuple[str, ...] = ()) -> list[str]:
    lines: list[str] = []
    for _name, part in parts(only).items():
        lines += await part(dry_run)
    return lines
