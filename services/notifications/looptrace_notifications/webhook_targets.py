"""Where webhooks may be sent: http(s) URLs whose host resolves to public addresses only —
no loopback, private, link-local, multicast or reserved ones (unless a setting allows them,
for development and tests). Checked when a subscription is saved, and again when the sender
connects: its HTTP client resolves names through ``PublicOnlyResolver``, so the addresses
checked are the addresses connected to. A check before sending followed by the client's own
lookup would leave a window in which a DNS server answering "public" then "internal" (DNS
rebinding) gets a delivery into the private network."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from aiohttp import DefaultResolver
from aiohttp.abc import AbstractResolver, ResolveResult

from looptrace_shared.errors import RuleViolation


class WebhookTargetRefused(RuleViolation):
    rule = "webhook_target_refused"
    status = 422
    title = "Webhook URL refused"


def _host(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookTargetRefused(
            f"url {url!r} is not an http(s) URL with a host: give e.g. https://erp.example.com/hooks"
        )
    return parts.hostname


REFUSED_HINT = (
    "loopback, private and link-local addresses are refused; use a public address "
    "(WEBHOOK_ALLOW_PRIVATE_TARGETS=true allows them in development)"
)


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


async def check_target(url: str, allow_private: bool) -> None:
    """Refuse ``url`` unless every address its host resolves to is public (or allowed)."""
    host = _host(url)
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise WebhookTargetRefused(f"host {host!r} of {url!r} does not resolve ({err})") from None
    internal = sorted({str(i[4][0]) for i in infos if _internal(str(i[4][0]))})
    if internal:
        raise WebhookTargetRefused(f"url {url!r} points at {', '.join(internal)}: {REFUSED_HINT}")


def refuse_internal_literal(url: str, allow_private: bool) -> None:
    """Refuse a URL whose host is an internal IP literal (the client does not resolve those,
    so ``PublicOnlyResolver`` never sees them)."""
    host = _host(url)
    try:
        literal = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return
    if not allow_private and _internal(str(literal)):
        raise WebhookTargetRefused(f"url {url!r} points at {host}: {REFUSED_HINT}")


class InternalAddress(OSError):
    """What ``PublicOnlyResolver`` raises: the HTTP client reports it as a failed lookup."""

    def __init__(self, host: str, addresses: list[str]) -> None:
        super().__init__(f"host {host!r} resolves to {', '.join(addresses)}: {REFUSED_HINT}")


class PublicOnlyResolver(AbstractResolver):
    """aiohttp's own resolver, refusing a name any of whose addresses is internal unless
    ``allow_private()`` says so (read at each lookup, so a changed setting holds at once)."""

    def __init__(self, allow_private: Callable[[], bool]) -> None:
        self._inner: AbstractResolver = DefaultResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        internal = sorted({r["host"] for r in results if _internal(r["host"])})
        if internal and not self._allow_private():
            raise InternalAddress(host, internal)
        return results

    async def close(self) -> None:
        await self._inner.close()
