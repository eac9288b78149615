"""The ``looptrace`` command. Services contribute subcommands via the
``looptrace.commands`` entry-point group (e.g. ``looptrace aql``, ``looptrace predictions``)."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import click

from looptrace_shared.auth import ROLES, mint_token
from looptrace_shared.ports import PROCESSES, SERVICES
from looptrace_shared.settings import ServiceSettings


class LoopTraceCommands(click.Group):
    """Built-in commands plus those services contribute through the ``looptrace.commands``
    entry points, loaded only when asked for (``serve`` must not import scikit-learn)."""

    def _plugins(self) -> dict[str, EntryPoint]:
        return {ep.name: ep for ep in entry_points(group="looptrace.commands")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugins()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        builtin = super().get_command(ctx, name)
        if builtin is not None or name not in self._plugins():
            return builtin
        try:
            command: click.Command = self._plugins()[name].load()
        except Exception as err:  # noqa: BLE001 - one broken plugin must not break the CLI
            raise click.ClickException(f"command {name!r} is unavailable: {err}") from err
        return command


@click.group(cls=LoopTraceCommands)
def main() -> None:
    """LoopTrace: production tracking for apparel manufacturing."""


@main.command()
@click.argument(
    "service",
    type=click.Choice(list(PROCESSES)),
)
def serve(service: str) -> None:
    """Run one service (HTTP + Kafka consumers) in this process.

    SIGTERM, SIGINT or SIGHUP stop it gracefully (exit 0); a second one, or SHUTDOWN_TIMEOUT_S
    passing, exits at once (1). SIGUSR1 stops HTTP intake only."""
    from looptrace_shared.serving import run_service

    module = importlib.import_module(f"looptrace_{service}.app")
    settings = module.load_settings()
    app = module.create_app(settings)
    sys.exit(run_service(app, settings.http_host, settings.http_port, settings.shutdown_timeout_s))


@main.command()
@click.option("--demo", is_flag=True, help="also drive a small simulated season through the system")
@click.option("--orders", default=6, show_default=True, help="orders in the demo season")
@click.option(
    "--home",
    default=".looptrace",
    show_default=True,
    envvar="LOOPTRACE_HOME",
    type=click.Path(path_type=Path),
    help="run record, logs, mails, data (LOOPTRACE_HOME)",
)
@click.option(
    "--services",
    default="",
    envvar="LOOPTRACE_SERVICES",
    help="comma-separated subset to start (default: all five and the web console; "
    "LOOPTRACE_SERVICES)",
)
@click.option(
    "--ports",
    default="",
    envvar="LOOPTRACE_PORTS",
    help="service ports, e.g. orders=9101,quality=9103 (LOOPTRACE_PORTS)",
)
@click.option("--broker-port", default=9092, show_default=True, envvar="LOOPTRACE_BROKER_PORT")
@click.option("--smtp-port", default=2525, show_default=True, envvar="LOOPTRACE_SMTP_PORT")
@click.option(
    "--drain-timeout",
    default=30.0,
    show_default=True,
    envvar="LOOPTRACE_DRAIN_TIMEOUT_S",
    help="seconds to wait for the drain on stop",
)
@click.option(
    "--max-restarts",
    default=5,
    show_default=True,
    envvar="LOOPTRACE_MAX_RESTARTS",
    help="restarts in a row of one service before up stops everything",
)
def up(
    demo: bool,
    orders: int,
    home: Path,
    services: str,
    ports: str,
    broker_port: int,
    smtp_port: int,
    drain_timeout: float,
    max_restarts: int,
) -> None:
    """Start everything on this machine: broker, PostgreSQL, SMTP sink, five services.

    Ctrl-C, SIGTERM or SIGHUP drain and stop it all; nothing it started outlives it."""
    from looptrace_shared.run import UpOptions, port_map, run_up, service_list

    try:
        options = UpOptions(
            home.resolve(),
            port_map(ports),
            broker_port,
            smtp_port,
            service_list(services),
            drain_timeout,
            max_restarts,
        )
    except ValueError as err:
        raise click.BadParameter(str(err)) from err
    sys.exit(run_up(options, orders if demo else None))


@main.command()
@click.option(
    "--home",
    default=".looptrace",
    show_default=True,
    envvar="LOOPTRACE_HOME",
    type=click.Path(path_type=Path),
)
@click.option(
    "--timeout",
    default=60.0,
    show_default=True,
    help="seconds up may take to drain and stop before what is left is killed",
)
def down(home: Path, timeout: float) -> None:
    """Stop a run of `up` (this home's run record): gracefully, then forcefully."""
    from looptrace_shared.runrecord import RunRecord, stop_run

    record = RunRecord.load(home.resolve())
    alive = record.alive() if record else []
    if record is None or not alive:
        click.echo(f"nothing running from {home.resolve()}")
        if record is not None:
            record.remove()
        return
    click.echo(f"run started {record.started_at}: {record.describe(alive)}")
    if not stop_run(record, timeout, click.echo):
        raise click.ClickException("some processes could not be stopped; see above")
    record.remove()
    click.echo("stopped")


@main.command()
@click.option("--service", "services", multiple=True, help="default: all five")
def migrate(services: tuple[str, ...]) -> None:
    """Run the Alembic migrations of each service against DATABASE_URL."""
    from looptrace_shared.migrations import migrate as run
    from looptrace_shared.system import migrations_dir

    url = ServiceSettings().database_url
    for name in services or tuple(SERVICES):
        run(url, migrations_dir(name))
        click.echo(f"{name}: migrated")


@main.command()
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="write here instead of stdout"
)
def asyncapi(out: Path | None) -> None:
    """Print (or write) the AsyncAPI document of all five services."""
    from looptrace_shared.asyncapi import render

    text = render()
    if out:
        out.write_text(text)
    else:
        click.echo(text, nl=False)


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("schemas"), show_default=True)
def schemas(out: Path) -> None:
    """Write the JSON Schema of every event type (schemas/<type>.v<N>.json); refuse a change
    that would break a committed version (ship it as the next version instead)."""
    from looptrace_shared.contracts.schemas import BreakingChange, write

    try:
        changed = write(out)
    except BreakingChange as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"{len(changed)} schema file(s) written to {out}")


@main.command()
def contracts() -> None:
    """Regenerate asyncapi.json, schemas/ and the stage templates artifact (after changing
    events or production's templates.yaml)."""
    from looptrace_shared.asyncapi import render
    from looptrace_shared.contracts import stage_templates

    Path("asyncapi.json").write_text(render())
    click.echo("asyncapi.json written")
    click.echo(f"{stage_templates.write().name} written")
    click.get_current_context().invoke(schemas, out=Path("schemas"))


@main.command("make-migration")
@click.argument("service")
@click.option("-m", "--message", required=True)
def make_migration(service: str, message: str) -> None:
    """(developers) Autogenerate a migration of SERVICE against DATABASE_URL."""
    from looptrace_shared.migrations import make_revision
    from looptrace_shared.system import migrations_dir

    make_revision(ServiceSettings().database_url, migrations_dir(service), message)


@main.command()
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--subject", required=True, help="the user id (buyer id, supplier id, …)")
@click.option("--hours", default=24.0, show_default=True)
def token(role: str, subject: str, hours: float) -> None:
    """Mint a development JWT signed with JWT_SECRET."""
    settings = ServiceSettings()
    click.echo(mint_token(settings.jwt_secret, role, subject, hours, settings.jwt_issuer))


@main.group()
def retention() -> None:
    """Retention: completed orders past RETENTION_YEARS to cold storage, in every service."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="print what would move, change nothing")
@click.option("--service", "services", multiple=True, help="only this service (repeatable)")
def retention_run(dry_run: bool, services: tuple[str, ...]) -> None:
    """Move (or with --dry-run count) what each service's retention policy says is due; each
    service's lines are printed as soon as its part is done."""
    from looptrace_shared.retention import parts

    for part in parts(services).values():
        for line in asyncio.run(part(dry_run)):
            click.echo(line)


@main.group()
def dlq() -> None:
    """Inspect and replay dead letters (``<topic>.dlq``)."""


@dlq.command("list")
@click.argument("topic")
@click.option("--limit", default=100, show_default=True)
def dlq_list(topic: str, limit: int) -> None:
    """Print the dead letters of TOPIC (one JSON line each: reason, origin, message)."""
    from looptrace_shared.messaging.dlq import read_dead_letters

    for letter in asyncio.run(read_dead_letters(ServiceSettings(), topic, limit)):
        click.echo(json.dumps(letter, default=str))


@dlq.command("replay")
@click.argument("topic")
@click.option("--limit", default=1000, show_default=True)
def dlq_replay(topic: str, limit: int) -> None:
    """Publish the dead letters of TOPIC back to their original topic."""
    from looptrace_shared.messaging.dlq import replay

    n = asyncio.run(replay(ServiceSettings(), topic, limit))
    click.echo(f"replayed {n} message(s) to {topic.removesuffix('.dlq')}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
