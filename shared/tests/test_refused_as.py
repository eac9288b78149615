"""``refused_as``: a domain's refusals become rule violations of the status their entry names."""

from __future__ import annotations

import pytest

from looptrace_shared.errors import RuleViolation, refused_as


class Refused(Exception):
    pass


class RefusedHarder(Refused):
    pass


class Other(Exception):
    pass


STATUSES = {RefusedHarder: 409, (Refused, KeyError): 422}


@pytest.mark.parametrize(
    ("error", "status", "rule"),
    [
        (RefusedHarder("no"), 409, "refused_harder"),
        (Refused("no"), 422, "refused"),
        (KeyError("k"), 422, "key_error"),
    ],
)
def test_the_first_entry_the_error_is_an_instance_of_decides(
    error: Exception, status: int, rule: str
) -> None:
    with pytest.raises(RuleViolation) as caught, refused_as(STATUSES):
        raise error
    assert (caught.value.status, caught.value.rule) == (status, rule)
    assert caught.value.__cause__ is error


def test_other_errors_pass_through_unchanged() -> None:
    with pytest.raises(Other), refused_as(STATUSES):
        raise Other("not a refusal")
