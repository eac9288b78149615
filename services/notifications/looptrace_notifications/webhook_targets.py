"""Where webhooks may be sent: http(s) URLs whose host resolves to public addresses only —
no loopback, private, link-local, multicast or reserved ones (unless a setting allows them,
for development and tests). Checked when a subscription is saved and again before sending,
so a name that later resolves to an internal address is refused too."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

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
    internal = sorted({i[4][0] for i in infos if _internal(i[4][0])})
    if internal:
        raise WebhookTargetRefused(
            f"url {url!r} points at {', '.join(internal)}: loopback, private and link-local "
            "addresses are refused; use a public address (WEBHOOK_ALLOW_PRIVATE_TARGETS=true "
            "allows them in development)"
        )
