"""A child process never outlives the run that started it.

The parent holds the write end of a pipe; the child inherits the read end and watches it:
end-of-file means the parent is gone, however it ended (Ctrl-C, an exception, ``kill -9``),
because the kernel closes a dead process's descriptors. The child then stops the way it stops
on SIGTERM. Programs we don't write (the broker, PostgreSQL) get Linux's parent-death signal
instead.

A process started by hand or by an orchestrator has no ``LOOPTRACE_LIFELINE_FD`` and watches
nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable

ENV = "LOOPTRACE_LIFELINE_FD"
_PR_SET_PDEATHSIG = 1


class Lifeline:
    """The parent's end: every child started with :meth:`child_env` / :attr:`pass_fds`
    learns of this process's end through the pipe."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()  # both non-inheritable: only pass_fds hands it on

    def child_env(self) -> dict[str, str]:
        return {ENV: str(self._read)}

    @property
    def pass_fds(self) -> tuple[int, ...]:
        return (self._read,)

    def cut(self) -> None:
        """Close our end: every child watching it is told to stop."""
        for fd in (self._write, self._read):
            try:
                os.close(fd)
            except OSError:
                pass
        self._read = self._write = -1


def watch(on_lost: Callable[[], None] | None = None) -> bool:
    """In the child: if a parent handed us a lifeline, call ``on_lost`` (default: SIGTERM to
    ourselves) when it breaks. Returns whether there was one. The variable is removed, so our
    own children don't mistake a reused descriptor number for a lifeline."""
    value = os.environ.pop(ENV, "")
    if not value.isdigit():
        return False
    fd = int(value)
    try:
        os.set_inheritable(fd, False)
    except OSError:
        return False  # no such descriptor: not really started by a watching parent
    lost = on_lost or (lambda: os.kill(os.getpid(), signal.SIGTERM))

    def wait() -> None:
        while True:
            try:
                if not os.read(fd, 64):
                    break
            except InterruptedError:
                continue
            except OSError:
                break
        lost()

    threading.Thread(target=wait, name="lifeline", daemon=True).start()
    return True


def parent_death_signal(sig: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the kernel send ``sig`` to the child when its parent dies
    (Linux only; elsewhere None). Set after the user switch, so it survives it."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()

    def preexec() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), sig)

    return preexec
