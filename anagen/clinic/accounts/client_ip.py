"""The client's IP address, as the login lockout (django-axes) and the rate limits see it.

Behind a reverse proxy every request arrives from the proxy's address, so one person's failed
logins would lock everyone out. ``ANAGEN_TRUSTED_PROXIES`` (addresses or networks, comma
separated) names the proxies whose ``X-Forwarded-For`` is believed: the client is the right-most
address of that header that is not itself a trusted proxy. A request that does not come from a
trusted proxy is taken at its ``REMOTE_ADDR``, whatever headers it sends (a client cannot choose
its own address by sending ``X-Forwarded-For``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(value: str | Iterable[str]) -> tuple[Network, ...]:
    """Parse ``"127.0.0.1, 10.0.0.0/8"`` (or a list of such strings) into networks.

    Raises ``ValueError`` naming the entry that is neither an address nor a network.
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    networks: list[Network] = []
    for item in items:
        text = item.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as error:
            raise ValueError(
                f"ANAGEN_TRUSTED_PROXIES: {text!r} is not an IP address or network"
            ) from error
    return tuple(networks)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    parsed = _parse(address)
    return parsed is not None and any(parsed in network for network in networks)


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client that sent ``request`` (see the module's docstring).

    ``None`` for a request without an address (a service called outside a web request): axes
    then counts the failure against the user alone, as it does without this helper.
    """
    remote = str(request.META.get("REMOTE_ADDR") or "")
    if not remote:
        return None
    networks = trusted_networks(getattr(settings, "ANAGEN_TRUSTED_PROXIES", ()))
    if not networks or not _trusted(remote, networks):
        return remote
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
    for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        if _parse(hop) is None:
            break  # a malformed hop: believe nothing further left of it
        if not _trusted(hop, networks):
            return hop
    return remote


def rate_limit_ip(request: HttpRequest) -> str:
    """``client_ip`` for django-ratelimit, which needs an address (``0.0.0.0`` if none)."""
    return client_ip(request) or "0.0.0.0"  # noqa: S104 (a key, not a bind address)
