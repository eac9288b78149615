"""Events in → notifications → e-mails through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select, text

from looptrace_notifications import email_jobs
from looptrace_notifications.digests import send_digests
from looptrace_notifications.email_jobs import deliver_due
from looptrace_notifications.models import EmailDeliveryRow, NotificationRow, PreferenceRow

pytestmark = pytest.mark.integration


async def rows(runtime, model):  # type: ignore[no-untyped-def]
    async with runtime.sessions() as s:
        return list(await s.scalars(select(model).order_by(model.id)))


async def outbox_types(runtime) -> list[str]:  # type: ignore[no-untyped-def]
    async with runtime.sessions() as s:
        q = text("select headers->>'type' from notifications.outbox order by id")
        return list(await s.scalars(q))


async def test_buyer_gets_one_mail_per_step_of_the_order_life(
    runtime, processor, smtp, story, mailer_drain
):  # type: ignore[no-untyped-def]
    server, _ = smtp
    o = story()
    life = [o.created(), o.supplier_assigned(), o.first_stage_started(), o.qc_passed(), o.shipped()]
    await processor.process(o.records(*life))
    await mailer_drain(runtime)

    subjects = [m["Subject"] for m in server.to("buyer@nordic.example")]
    assert len(subjects) == 5, subjects
    assert all(o.number in s for s in subjects)
    assert "production has started" in subjects[2] and "shipped" in subjects[4]
    (assigned,) = server.to("mill@dhaka.example")
    assert o.number in assigned["Subject"]
    mail = server.to("buyer@nordic.example")[4]
    body = mail.get_body(("plain",)).get_content()
    assert f"https://looptrace.example/v1/orders/{o.order_id}/timeline" in body
    assert "Hello Nordic Knit AB," in body
    assert mail["Message-ID"].startswith("<delivery-")
    assert all(d.state == "sent" and d.attempts == 1 for d in await rows(runtime, EmailDeliveryRow))
    assert (await outbox_types(runtime)).count("notifications.notification_sent") == 6


async def test_waits_for_the_order_then_catches_up(runtime, processor, smtp, story, mailer_drain):  # type: ignore[no-untyped-def]
    server, _ = smtp
    o = story()
    await processor.process(o.records(o.qc_passed()))
    assert await rows(runtime, NotificationRow) == []
    await processor.process(o.records(o.created()))
    await processor.retry_parked()
    await mailer_drain(runtime)
    assert len(server.to("buyer@nordic.example")) == 2


async def test_two_421s_then_accepted_is_one_mail(runtime, processor, smtp, story, mailer_drain):  # type: ignore[no-untyped-def]
    server, _ = smtp
    server.busy_for = 2
    o = story()
    await processor.process(o.records(o.created()))
    await mailer_drain(runtime)
    assert len(server.received) == 1 and server.attempts == 3
    (d,) = await rows(runtime, EmailDeliveryRow)
    assert (d.state, d.attempts) == ("sent", 3)
    assert (await outbox_types(runtime)).count("notifications.notification_sent") == 1


async def test_550_is_a_permanent_failure_with_the_reply(
    runtime, processor, smtp, story, mailer_drain
):  # type: ignore[no-untyped-def]
    server, _ = smtp
    server.unknown_users = {"ghost@nordic.example"}
    o = story(buyer_email="ghost@nordic.example")
    await processor.process(o.records(o.created()))
    await mailer_drain(runtime)
    await deliver_due(runtime)  # nothing left to retry
    (d,) = await rows(runtime, EmailDeliveryRow)
    assert (d.state, d.attempts) == ("failed", 1)
    assert d.smtp_reply and d.smtp_reply.startswith("550") and "no such user" in d.smtp_reply
    assert server.attempts == 1 and server.received == []
    async with runtime.sessions() as s:
        payload = await s.scalar(
            text("select convert_from(value, 'UTF8')::jsonb->'data' from notifications.outbox")
        )
    assert payload["error"].startswith("550") and payload["attempts"] == 1


async def test_redelivered_event_sends_nothing_new(runtime, processor, smtp, story, mailer_drain):  # type: ignore[no-untyped-def]
    server, _ = smtp
    o = story()
    created = o.created()
    await processor.process(o.records(created))
    await mailer_drain(runtime)
    await processor.process(o.records(created, created))  # the broker redelivers it, twice
    async with runtime.sessions() as s:  # even past the inbox, the unique key holds
        await s.execute(text("delete from notifications.inbox"))
        await s.commit()
    await processor.process(o.records(created))
    await mailer_drain(runtime)
    assert len(server.received) == 1
    assert len(await rows(runtime, NotificationRow)) == 1


async def test_digest_user_gets_one_mail_with_several_items(runtime, processor, smtp, story):  # type: ignore[no-untyped-def]
    server, _ = smtp
    o = story()
    async with runtime.sessions() as s:
        s.add(
            PreferenceRow(
                user_id=o.buyer.id, mode="daily_digest", time_zone="Asia/Dhaka", email_off=[]
            )
        )
        await s.commit()
    await processor.process(o.records(o.created(), o.supplier_assigned(), o.first_stage_started()))
    await deliver_due(runtime)
    assert server.to("buyer@nordic.example") == []  # held back for the digest

    before = datetime(2025, 3, 10, 1, 0, tzinfo=UTC)  # 07:00 in Dhaka: not yet
    assert await send_digests(runtime, before) == 0
    at_eight = datetime(2025, 3, 10, 2, 5, tzinfo=UTC)  # 08:05 in Dhaka
    assert await send_digests(runtime, at_eight) == 1
    assert await send_digests(runtime, at_eight) == 0  # once a day

    (mail,) = server.to("buyer@nordic.example")
    assert mail["Subject"] == "LoopTrace digest: 3 updates on 1 order"
    body = mail.get_body(("plain",)).get_content()
    assert body.count(o.number) >= 3
    buyer_deliveries = [
        d
        for d in await rows(runtime, EmailDeliveryRow)
        if d.recipient_email == "buyer@nordic.example"
    ]
    assert {d.state for d in buyer_deliveries} == {"sent"} and len(buyer_deliveries) == 3


def test_quiet_hours_row_maps_to_domain_preferences() -> None:
    from looptrace_notifications.services import preferences

    row = PreferenceRow(
        user_id="u",
        mode="immediate",
        time_zone="Asia/Dhaka",
        email_off=["risk"],
        quiet_start=time(22),
        quiet_end=time(7),
    )
    prefs = preferences(row)
    assert prefs.quiet_hours is not None and prefs.quiet_hours.time_zone == "Asia/Dhaka"


class Crash(BaseException):
    """The process dying at that point (not an error the job could handle)."""


def settle_failing(calls: list[int], fail_on: int, err: BaseException):  # type: ignore[no-untyped-def]
    real = email_jobs.settle

    async def settle(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == fail_on:
            raise err
        await real(*args, **kwargs)

    return settle


async def three_mails_due(runtime, processor, story) -> None:  # type: ignore[no-untyped-def]
    o = story()
    await processor.process(o.records(o.created(), o.supplier_assigned()))
    assert len(await rows(runtime, EmailDeliveryRow)) == 3


async def test_a_crash_after_a_mail_was_accepted_resends_that_mail_only(
    runtime, processor, smtp, story, monkeypatch
):  # type: ignore[no-untyped-def]
    server, _ = smtp
    await three_mails_due(runtime, processor, story)
    monkeypatch.setattr(email_jobs, "settle", settle_failing([], 2, Crash()))
    with pytest.raises(Crash):  # the 2nd mail was accepted, its outcome never recorded
        await deliver_due(runtime)
    monkeypatch.undo()
    after_lease = datetime.now(UTC) + timedelta(seconds=runtime.settings.mailer_lease_s + 1)
    await deliver_due(runtime, after_lease)
    ids = [m["Message-ID"] for m in server.received]
    assert len(ids) == 4 and len(set(ids)) == 3, ids  # the one in the window, same Message-ID
    assert {d.state for d in await rows(runtime, EmailDeliveryRow)} == {"sent"}


async def test_a_database_blip_while_recording_an_outcome_sends_nothing_twice(
    runtime, processor, smtp, story, monkeypatch
):  # type: ignore[no-untyped-def]
    server, _ = smtp
    await three_mails_due(runtime, processor, story)
    monkeypatch.setattr(email_jobs, "settle", settle_failing([], 1, ConnectionResetError()))
    await deliver_due(runtime)
    monkeypatch.undo()
    after_lease = datetime.now(UTC) + timedelta(seconds=runtime.settings.mailer_lease_s + 1)
    await deliver_due(runtime, after_lease)
    assert len(server.received) == 3
    assert {d.state for d in await rows(runtime, EmailDeliveryRow)} == {"sent"}
