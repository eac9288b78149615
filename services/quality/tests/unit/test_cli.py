import json

import click
from click.testing import CliRunner

from looptrace_quality.cli import aql


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(aql, ["plan", *args])
    return result.exit_code, result.output


def test_aql_is_a_click_group_with_plan() -> None:
    assert isinstance(aql, click.Group) and "plan" in aql.commands


def test_json_output_is_exactly_the_plan() -> None:
    code, output = _invoke("--lot-size", "1000", "--aql", "2.5", "--json")
    assert code == 0
    assert json.loads(output) == {
        "original_code_letter": "J",
        "code_letter": "J",
        "sample_size": 80,
        "accept": 5,
        "reject": 6,
        "full_inspection": False,
    }
    assert output.count("\n") == 1


def test_json_output_with_arrow_and_full_inspection() -> None:
    code, output = _invoke("--lot-size", "10", "--aql", "0.65", "--json")
    assert code == 0
    assert json.loads(output) == {
        "original_code_letter": "B",
        "code_letter": "F",
        "sample_size": 10,
        "accept": 0,
        "reject": 1,
        "full_inspection": True,
    }


def test_level_and_severity_options() -> None:
    code, output = _invoke(
        "--lot-size", "1000", "--aql", "4.0", "--level", "I", "--severity", "reduced", "--json"
    )
    assert code == 0
    assert json.loads(output)["code_letter"] == "G"  # level I, 1000 -> G; reduced G n=13
    assert json.loads(output)["sample_size"] == 13


def test_readable_line() -> None:
    code, output = _invoke("--lot-size", "1000", "--aql", "0.25")
    assert code == 0
    assert "code letter J -> H (arrow)" in output
    assert "sample 50 units" in output and "reject if defects >= 1" in output


def test_bad_input_fails_with_the_helpful_message() -> None:
    code, output = _invoke("--lot-size", "1000", "--aql", "3")
    assert code != 0 and "AQL '3' is not in the ISO 2859-1 series" in output and "2.5" in output
    code, output = _invoke("--lot-size", "1", "--aql", "2.5")
    assert code != 0 and "at least 2" in output
    code, output = _invoke("--lot-size", "100", "--aql", "2.5", "--level", "IV")
    assert code != 0 and "S-1, S-2, S-3, S-4, I, II, III" in output
    code, output = _invoke("--lot-size", "100", "--aql", "2.5", "--severity", "strict")
    assert code != 0 and "tightened" in output
