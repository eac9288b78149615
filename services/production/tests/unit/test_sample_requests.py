"""Validation of the sample loop's request bodies, over generated inputs: a body is accepted
exactly when the documented rules say so, and a refusal names what to fix."""

from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from looptrace_production.api_samples import DecisionIn, SampleRequestIn, SubmissionIn
from looptrace_production.events import SampleKind

DECISIONS = ["approved", "approved_with_comments", "rejected"]
printable = st.characters(exclude_categories=("Cc", "Cs"))  # control characters: bounds' tests
texts = st.none() | st.text(printable, max_size=30)
days = st.none() | st.dates(date(2000, 1, 1), date(2100, 12, 31)).map(date.isoformat)


@given(st.sampled_from([*DECISIONS, "maybe", ""]), texts, days)
def test_a_decision_is_accepted_exactly_when_complete(
    decision: str, comments: str | None, next_due: str | None
) -> None:
    body: dict[str, Any] = {"decision": decision, "comments": comments, "next_due_date": next_due}
    has_text = bool((comments or "").strip())
    valid = decision in DECISIONS and (
        (decision == "approved" and next_due is None)
        or (decision == "approved_with_comments" and has_text and next_due is None)
        or (decision == "rejected" and has_text and next_due is not None)
    )
    try:
        DecisionIn.model_validate(body)
    except ValidationError as err:
        assert not valid, err
        assert any(word in str(err) for word in ("decision", "comments", "next_due_date"))
    else:
        assert valid


@given(st.text(max_size=20), st.integers(-400, 400))
def test_a_request_needs_a_known_kind(kind: str, offset: int) -> None:
    body = {"kind": kind, "due_date": (date.today() + timedelta(days=offset)).isoformat()}
    try:
        parsed = SampleRequestIn.model_validate(body)
    except ValidationError as err:
        assert kind not in {k.value for k in SampleKind}
        assert "kind" in str(err)
    else:
        assert parsed.kind.value == kind


@given(st.integers(-5, 20_000_000), st.lists(st.just("https://x.example/a.jpg"), max_size=60))
def test_a_submission_needs_a_positive_quantity_and_bounded_refs(qty: int, refs: list[str]) -> None:
    valid = 0 < qty <= 10_000_000 and len(refs) <= 50
    try:
        SubmissionIn.model_validate({"quantity": qty, "photo_refs": refs})
    except ValidationError:
        assert not valid
    else:
        assert valid
