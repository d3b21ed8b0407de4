"""Which URLs a webhook may be sent to: not the platform's own network unless settings allow it.

A webhook URL is typed by a team admin, so without this check the platform would POST on their
behalf to loopback services, the cloud metadata address or the internal network (SSRF). The host is
resolved and every address it resolves to must be public; the check runs when an endpoint is saved
and again before each delivery, since a name can be re-pointed after it was saved, and the delivery
connects to an address this check returned.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeTarget(Exception):
    """A webhook URL that must not be requested."""


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_target(url: str) -> list[str]:
    """The addresses ``url``'s host resolves to, every one allowed; raises UnsafeTarget for a refused URL.

    The delivery connects to one of these (webhooks.transport), never to what the name resolves to later.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget(f"only http and https URLs are allowed, not {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise UnsafeTarget("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeTarget("credentials in the URL are not allowed (the signature authenticates deliveries)")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(f"{parts.hostname} does not resolve ({exc})") from exc
    # In the resolver's order of preference (RFC 6724): the delivery connects to the first.
    addresses = list(dict.fromkeys(info[4][0].split("%")[0] for info in infos))
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        private = [a for a in addresses if not _is_public(ipaddress.ip_address(a))]
        if private:
            raise UnsafeTarget(
                f"{parts.hostname} resolves to a private, loopback or reserved address ({', '.join(private)})"
            )
    return addresses
