"""Validation done once per value on the hot path: the memoised e-mail check
(``bounds.Email``) decides every address as ``EmailStr`` does, with the same normalised value
and the same refusal, and checks each address once; the control-character scan of text fields
decides as the per-character category check it replaces."""

from __future__ import annotations

import unicodedata
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, EmailStr, ValidationError

from looptrace_shared.events.bounds import (
    EMAIL_MEMO,
    Email,
    _no_controls_in_line,
    _no_controls_in_text,
    _valid_email,
)
from looptrace_shared.events.orders import Party


class Plain(BaseModel):
    email: EmailStr


class Memo(BaseModel):
    email: Email


def outcome(model: type[BaseModel], value: str) -> tuple[str, Any]:
    try:
        return "ok", model(email=value).email  # type: ignore[call-arg]
    except ValidationError as err:
        return "refused", [(e["type"], e["msg"]) for e in err.errors()]


addresses = st.one_of(
    st.emails().map(lambda a: a.upper() if len(a) % 2 else a),
    st.text(alphabet="ab@.-_+ ÄZ1", max_size=30),
    st.builds(lambda a, b: f"{a}@{b}", st.text(max_size=12), st.text(max_size=12)),
)


@settings(max_examples=300, deadline=None)
@given(value=addresses)
def test_an_address_is_decided_as_emailstr_decides_it_the_first_time_and_every_time(
    value: str,
) -> None:
    expected = outcome(Plain, value)
    assert outcome(Memo, value) == expected
    assert outcome(Memo, value) == expected  # from the memo now (or refused again)


def test_each_address_is_checked_once_and_a_refusal_is_not_remembered() -> None:
    _valid_email.cache_clear()
    for _ in range(5):
        Party(id="b-1", name="Ada", email="ada@buyer.example")
    assert _valid_email.cache_info().misses == 1
    assert _valid_email.cache_info().hits == 4
    for _ in range(2):
        try:
            Party(id="b-1", name="Ada", email="not-an-address")
        except ValidationError as err:
            assert "email" in str(err)
        else:
            raise AssertionError("a malformed address was accepted")
    assert _valid_email.cache_info().currsize == 1


def test_the_memo_is_bounded() -> None:
    _valid_email.cache_clear()
    for n in range(EMAIL_MEMO + 10):
        Party(id="b-1", name="Ada", email=f"a{n}@buyer.example")
    assert _valid_email.cache_info().currsize == EMAIL_MEMO
    assert _valid_email.cache_info().maxsize == EMAIL_MEMO


def reference(value: str, allowed: set[str]) -> bool:
    """The rule as it reads: no character of category Cc or Cs except those allowed."""
    return all(ch in allowed or unicodedata.category(ch) not in ("Cc", "Cs") for ch in value)


@settings(max_examples=400, deadline=None)
@given(
    value=st.text(
        alphabet=st.characters(min_codepoint=0, max_codepoint=0xE000, exclude_categories=()),
        max_size=40,
    )
)
def test_the_control_character_scan_decides_as_the_character_categories(value: str) -> None:
    for check, allowed in (
        (_no_controls_in_line, {"\t"}),
        (_no_controls_in_text, {"\t", "\n", "\r"}),
    ):
        try:
            check(value)
            accepted = True
        except ValueError as err:
            accepted = False
            assert "control character U+" in str(err)
        assert accepted == reference(value, allowed), repr(value)
