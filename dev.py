#!/usr/bin/env python3
"""Bootstrap and run LoopTrace with nothing but Python 3.11+ and the package registries.

python3 dev.py up [--demo]   install (first time) and start the whole system
python3 dev.py test [args]   install (first time) and run the whole test suite
python3 dev.py <anything>    run `looptrace <anything>` in the project environment
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BOOT = ROOT / ".looptrace" / "bootstrap"


def bin_(env: Path, name: str) -> str:
    return str(env / ("Scripts" if os.name == "nt" else "bin") / name)


def ensure_uv() -> str:
    uv = bin_(BOOT, "uv")
    if not Path(uv).exists():
        print("· first run: installing uv into .looptrace/bootstrap …", flush=True)
        venv.create(BOOT, with_pip=True)
        pip = [bin_(BOOT, "python"), "-m", "pip", "install", "--progress-bar", "off"]
        subprocess.run([*pip, "-q", "uv>=0.5"], check=True)
    return uv


def lock_digest() -> str:
    """What the environment is installed from: the lock file and every pyproject.toml."""
    members = sorted(ROOT.glob("services/*/pyproject.toml"))
    digest = hashlib.sha256()
    for f in [ROOT / "uv.lock", ROOT / "pyproject.toml", ROOT / "shared/pyproject.toml", *members]:
        if f.exists():
            digest.update(f.read_bytes())
    return digest.hexdigest()


def sync() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older python3
        sys.exit("LoopTrace needs Python 3.11 or newer")
    stamp, digest = VENV / ".looptrace-synced", lock_digest()
    if stamp.exists() and stamp.read_text() == digest:
        return  # installed from these very files: skip uv (a second or two at every start)
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(VENV), "UV_PYTHON": sys.executable}
    first = not Path(bin_(VENV, "looptrace")).exists()
    if first:  # uv prints what it resolves, downloads and installs (a bar on a terminal)
        print("· first run: installing the locked environment into .venv …", flush=True)
    # first run: uv also compiles the environment's bytecode once, so no process compiles the
    # libraries again at every start (PYTHONDONTWRITEBYTECODE environments never cache it)
    flags = ["--compile-bytecode"] if first else ["--quiet"]
    subprocess.run([ensure_uv(), "sync", "--frozen", *flags], cwd=ROOT, env=env, check=True)
    stamp.write_text(digest)
    if first:
        print("· environment ready", flush=True)


def main(argv: list[str]) -> int:
    sync()
    if argv[:1] == ["test"]:
        return run_tests([bin_(VENV, "python"), "-m", "pytest", *argv[1:]])
    return run([bin_(VENV, "looptrace"), *argv])


def run_tests(cmd: list[str]) -> int:
    """Pytest shares our terminal (a Ctrl-C reaches it directly); SIGTERM is passed on."""
    child = subprocess.Popen(cmd, cwd=ROOT)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    return wait(child)


def run(cmd: list[str]) -> int:
    """Run ``cmd`` in its own process group and wait for it. SIGINT, SIGTERM and SIGHUP sent
    to this process (a Ctrl-C, ``kill``, a closed terminal) are passed on exactly once, and the
    command watches a lifeline: a pipe whose end-of-file means this process is gone, even
    after ``kill -9`` (``looptrace_shared.lifeline``)."""
    read, write = os.pipe()
    env = {**os.environ, "LOOPTRACE_LIFELINE_FD": str(read)}
    child = subprocess.Popen(cmd, cwd=ROOT, env=env, pass_fds=(read,), process_group=0)
    os.close(read)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _: forward(child, signum))
    try:
        return wait(child)
    finally:
        os.close(write)


def forward(child: subprocess.Popen[bytes], signum: int) -> None:
    if child.poll() is None:
        child.send_signal(signum)


def wait(child: subprocess.Popen[bytes]) -> int:
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
