#!/usr/bin/env python3
"""Bootstrap and run LoopTrace with nothing but Python 3.11+ and the package registries.

python3 dev.py up [--demo]   install (first time) and start the whole system
python3 dev.py test [args]   install (first time) and run the whole test suite
python3 dev.py <anything>    run `looptrace <anything>` in the project environment
"""

from __future__ import annotations

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
        print("· installing uv into .looptrace/bootstrap", flush=True)
        venv.create(BOOT, with_pip=True)
        subprocess.run([bin_(BOOT, "python"), "-m", "pip", "install", "-q", "uv>=0.5"], check=True)
    return uv


def sync() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older python3
        sys.exit("LoopTrace needs Python 3.11 or newer")
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(VENV), "UV_PYTHON": sys.executable}
    subprocess.run([ensure_uv(), "sync", "--frozen", "--quiet"], cwd=ROOT, env=env, check=True)


def main(argv: list[str]) -> int:
    sync()
    if argv[:1] == ["test"]:
        cmd = [bin_(VENV, "python"), "-m", "pytest", *argv[1:]]
    else:
        cmd = [bin_(VENV, "looptrace"), *argv]
    return run(cmd)


def run(cmd: list[str]) -> int:
    """Run ``cmd`` and wait for it. SIGTERM is passed on (so ``kill <this pid>`` stops what
    the command started); Ctrl-C reaches the command from the terminal itself, so this waits
    for it to finish cleaning up rather than killing it."""
    child = subprocess.Popen(cmd, cwd=ROOT)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
