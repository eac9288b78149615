"""Webhook signatures as the Standard Webhooks library computes them; backoff bounds; targets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.webhook_sender import backoff_s
from looptrace_notifications.webhook_signing import headers, new_secret, sign
from looptrace_notifications.webhook_targets import WebhookTargetRefused, check_target


def test_the_signature_is_the_standard_one() -> None:
    secret, ts = new_secret(), int(datetime.now(UTC).timestamp())
    body = '{"type": "order.created"}'
    theirs = Webhook(secret).sign("msg_1", datetime.fromtimestamp(ts, UTC), body)
    assert sign(secret, "msg_1", ts, body.encode()) == theirs


def test_two_secrets_sign_twice_and_either_verifies() -> None:
    old, new, ts = new_secret(), new_secret(), int(datetime.now(UTC).timestamp())
    sent = headers([new, old], "msg_2", ts, b"{}")
    assert len(sent["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(b"{}", sent)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(b"{}", sent)


def test_backoff_grows_exponentially_with_full_jitter_under_the_cap() -> None:
    s = NotificationsSettings(webhook_backoff_base_s=2, webhook_backoff_cap_s=60)
    for attempt, ceiling in ((1, 2), (2, 4), (3, 8), (10, 60)):
        delays = [backoff_s(s, attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays) and max(delays) > ceiling / 2


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
        "ftp://erp.example.com/hook",
        "not a url",
    ],
)
async def test_internal_or_odd_targets_are_refused(url: str) -> None:
    with pytest.raises(WebhookTargetRefused):
        await check_target(url, allow_private=False)


async def test_a_setting_allows_local_targets_for_development() -> None:
    await check_target("http://127.0.0.1:8080/hook", allow_private=True)
    with pytest.raises(WebhookTargetRefused):
        await check_target("ftp://127.0.0.1/hook", allow_private=True)


def test_failures_in_a_row_restart_at_a_success() -> None:
    from types import SimpleNamespace

    from looptrace_notifications.webhook_sender import Result, failure_counts

    def result(sub: str, second: int, code: int) -> Result:
        claimed = SimpleNamespace(delivery=SimpleNamespace(subscription_id=sub))
        at = datetime(2026, 1, 1, 0, 0, second, tzinfo=UTC)
        return Result(claimed, at, code, 1.0, None)  # type: ignore[arg-type]

    results = [result("a", 1, 500), result("a", 2, 200), result("a", 3, 503), result("b", 1, 500)]
    results += [result("b", 2, 500), result("c", 1, 204)]
    assert failure_counts(results) == {"a": (True, 1), "b": (False, 2), "c": (True, 0)}


async def test_the_senders_resolver_checks_the_addresses_it_hands_to_the_connection() -> None:
    """DNS rebinding: the name answers a public address, then a private one. Each lookup is
    checked as it is made, so the second answer is refused, not connected to."""
    import socket

    from aiohttp.abc import AbstractResolver

    from looptrace_notifications.webhook_targets import InternalAddress, PublicOnlyResolver

    class Rebinding(AbstractResolver):
        answers = ["93.184.216.34", "10.0.0.7"]

        async def resolve(self, host, port=0, family=socket.AF_INET):  # type: ignore[no-untyped-def]
            ip = self.answers.pop(0)
            return [
                {"hostname": host, "host": ip, "port": port, "family": family}
                | {"proto": 0, "flags": 0}
            ]

        async def close(self) -> None:
            pass

    allowed = False
    resolver = PublicOnlyResolver(lambda: allowed)
    resolver._inner = Rebinding()
    first = await resolver.resolve("hooks.example", 443)
    assert [r["host"] for r in first] == ["93.184.216.34"]
    with pytest.raises(InternalAddress, match="10.0.0.7"):
        await resolver.resolve("hooks.example", 443)
    allowed, Rebinding.answers = True, ["10.0.0.7"]
    assert [r["host"] for r in await resolver.resolve("hooks.example", 443)] == ["10.0.0.7"]
