"""``looptrace aql``: look up ISO 2859-1 sampling plans from the command line."""

from __future__ import annotations

import json

import click

from looptrace_quality.aql import SamplingError, SamplingPlan, Severity, sampling_plan


@click.group(name="aql")
def aql() -> None:
    """AQL sampling plans (ISO 2859-1 / ANSI Z1.4, single sampling)."""


@aql.command(name="plan")
@click.option("--lot-size", required=True, type=int, help="Number of units in the lot.")
@click.option("--aql", "aql_value", required=True, help="AQL, e.g. 0.65, 1.0, 2.5, 4.0.")
@click.option("--level", default="II", show_default=True, help="S-1..S-4, I, II or III.")
@click.option(
    "--severity",
    type=click.Choice([s.value for s in Severity], case_sensitive=False),
    default=Severity.NORMAL.value,
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as one JSON object.")
def plan(lot_size: int, aql_value: str, level: str, severity: str, as_json: bool) -> None:
    """Show the sampling plan for a lot."""
    try:
        found = sampling_plan(lot_size, aql_value, level, severity)
    except SamplingError as error:
        raise click.UsageError(str(error)) from error
    click.echo(json.dumps(found.to_dict()) if as_json else describe(found))


def describe(found: SamplingPlan) -> str:
    """One readable line, e.g. for an inspector's checklist."""
    letter = found.code_letter
    if found.code_letter != found.original_code_letter:
        letter = f"{found.original_code_letter} -> {found.code_letter} (arrow)"
    sample = (
        f"inspect all {found.sample_size} units (100 %)"
        if found.full_inspection
        else f"sample {found.sample_size} units"
    )
    return (
        f"Lot {found.lot_size}, level {found.level}, {found.severity.value} inspection, "
        f"AQL {found.aql}: code letter {letter}, {sample}; "
        f"accept if defects <= {found.accept}, reject if defects >= {found.reject}"
    )
