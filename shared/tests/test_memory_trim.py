"""Freed memory goes back to the system: the periodic ``malloc_trim`` every service runs."""

import sys
from pathlib import Path

import pytest

from looptrace_shared.memory import release_free_memory


def rss_mib() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_memory_is_handed_back() -> None:
    release_free_memory()
    held = [bytes(1000 + n % 7) for n in range(60_000)]  # ~60 MB from malloc (not pymalloc)
    keep = held[::50]  # a few survivors scattered through the heap, as after a batch
    del held
    before = rss_mib()
    assert release_free_memory()
    assert before - rss_mib() > 20  # without the trim the freed chunks stay in the process
    assert len(keep) == 1200
