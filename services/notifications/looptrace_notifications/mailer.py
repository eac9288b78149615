"""SMTP transport: compose a mail, send a batch over one connection, classify the outcome."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib

from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.domain.delivery import SmtpOutcome, classify_smtp
from looptrace_notifications.rendering import Rendered

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    rendered: Rendered
    message_id: str
    notification_type: str = ""
    source_event_id: str = ""  # the event the mail tells of (one mail per event and recipient)


@dataclass(frozen=True)
class SendResult:
    """``outcome`` is ``None`` when the server accepted the mail."""

    outcome: SmtpOutcome | None
    reply: str
    code: int | None = None

    @property
    def sent(self) -> bool:
        return self.outcome is None


def message_id(delivery_id: int, settings: NotificationsSettings) -> str:
    """Stable per delivery: a resend after a crash carries the same Message-ID."""
    domain = parseaddr(settings.smtp_from)[1].rpartition("@")[2] or "looptrace.local"
    return f"<delivery-{delivery_id}@{domain}>"


def compose(mail: Mail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to
    msg["Subject"] = mail.rendered.subject
    msg["Message-ID"] = mail.message_id
    msg["Date"] = formatdate(localtime=False)
    if mail.notification_type:  # lets mail filters and tests tell the kinds apart
        msg["X-LoopTrace-Notification"] = mail.notification_type
    if mail.source_event_id:
        msg["X-LoopTrace-Event"] = mail.source_event_id
    msg.set_content(mail.rendered.text)
    msg.add_alternative(mail.rendered.html, subtype="html")
    return msg


def failure(err: BaseException) -> SendResult:
    """Turn an aiosmtplib error into a transient or permanent failure with the server's reply."""
    if isinstance(err, aiosmtplib.SMTPRecipientsRefused) and err.recipients:
        err = err.recipients[0]
    if isinstance(err, aiosmtplib.SMTPResponseException):
        reply = f"{err.code} {err.message}"
        return SendResult(classify_smtp(err.code, None), reply, err.code)
    kind = _kind(err)
    return SendResult(classify_smtp(None, kind), f"{kind}: {err}")


def _kind(err: BaseException) -> str:
    if isinstance(err, aiosmtplib.SMTPRecipientsRefused):
        return "recipients_refused"
    if isinstance(err, (TimeoutError, asyncio.TimeoutError, aiosmtplib.SMTPTimeoutError)):
        return "timeout"
    if isinstance(err, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(err, ConnectionResetError):
        return "connection_reset"
    if isinstance(err, aiosmtplib.SMTPServerDisconnected):
        return "server_disconnected"
    if isinstance(err, aiosmtplib.SMTPConnectError):
        return "connection_refused"
    return type(err).__name__


class Mailer:
    """Sends mails over one SMTP connection, reconnecting when the server drops it."""

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings
        self.client: aiosmtplib.SMTP | None = None

    def _new_client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password,
            use_tls=s.smtp_tls,
            start_tls=s.smtp_starttls or None,
            timeout=s.smtp_timeout_s,
        )

    async def _connected(self) -> aiosmtplib.SMTP:
        if self.client is None or not self.client.is_connected:
            self.client = self._new_client()
            await self.client.connect()
        return self.client

    async def send(self, mail: Mail) -> SendResult:
        try:
            client = await self._connected()
            _, reply = await client.send_message(compose(mail, self.settings.smtp_from))
            return SendResult(None, f"250 {reply}", 250)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as err:
            log.warning("mail %s to %s not sent: %s", mail.message_id, mail.to, err)
            await self.close()
            return failure(err)

    async def send_all(self, mails: list[Mail]) -> list[SendResult]:
        try:
            return [await self.send(m) for m in mails]
        finally:
            await self.close()

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()
