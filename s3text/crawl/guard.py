"""SSRF guard: the crawler connects only to global unicast addresses.

The check lives in the connection itself. :class:`GuardedBackend` is the httpcore network backend
of the crawler's HTTP client: for every new TCP connection it resolves the host once, refuses the
connection if *any* resolved address is not global, and then connects to those very addresses.
There is no second lookup between check and connect, so DNS rebinding cannot slip a loopback
address in; redirects, robots.txt and sitemaps all pass through the same backend. Every redirect
hop is also re-validated by the crawler (scheme, scope, robots) before it is requested.

Refused (IPv4 and IPv6, including IPv4-mapped, NAT64 and 6to4 forms of them): loopback, private
(RFC 1918, ULA), link-local (169.254.0.0/16 and the cloud metadata address 169.254.169.254,
fe80::/10), carrier-grade NAT 100.64.0.0/10, unspecified, multicast, reserved, documentation and
benchmarking ranges: whatever Python's ``ipaddress`` does not call ``is_global``, plus explicit
checks that do not depend on the Python patch level. Decimal, octal and hex host forms
(``2130706433``, ``0177.0.0.1``) are resolved by the system resolver to the address they denote,
and that address is what is checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_6TO4 = ipaddress.ip_network("2002::/16")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class BlockedAddressError(Exception):
    """A connection to a non-global address was refused (SSRF guard)."""

    def __init__(self, host: str, address: str, why: str) -> None:
        self.host, self.address, self.why = host, address, why
        super().__init__(f"refused to connect to {host} ({address}): {why}")


def _why_not_global(ip: IPAddress) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return _why_not_global(ip.ipv4_mapped)
        if ip in _NAT64 or ip in _NAT64_LOCAL:
            return _why_not_global(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip in _6TO4:
            return _why_not_global(ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF))
        if ip.teredo is not None:
            return _why_not_global(ip.teredo[1])
    for name in ("is_loopback", "is_unspecified", "is_link_local", "is_multicast", "is_private", "is_reserved"):
        if getattr(ip, name):
            return name[3:].replace("_", "-")
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "carrier-grade NAT"
    if not ip.is_global:
        return "not globally routable"
    return None


class AddressPolicy:
    """Which resolved addresses the crawler may connect to."""

    def __init__(self, *, allow_private: bool = False, allowed_networks: Iterable[str] = ()) -> None:
        self.allow_private = allow_private
        self.allowed_networks = tuple(ipaddress.ip_network(n, strict=False) for n in allowed_networks)

    def why_refused(self, address: str) -> str | None:
        """None when the address may be used, else the reason it may not."""
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return "not an IP address"
        if self.allow_private:
            return None
        if any(ip.version == net.version and ip in net for net in self.allowed_networks):
            return None
        return _why_not_global(ip)

    def check(self, host: str, addresses: Sequence[str]) -> None:
        if not addresses:
            raise BlockedAddressError(host, "-", "no address")
        for address in addresses:
            why = self.why_refused(address)
            if why is not None:
                raise BlockedAddressError(host, address, why)


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (one lookup, run off the event loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore backend that resolves once, checks every address, then connects to a checked one."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver = system_resolver) -> None:
        self.policy = policy
        self.resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.wait_for(self.resolver(host.strip("[]"), port), timeout)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        self.policy.check(host, addresses)
        last: Exception | None = None
        for address in addresses:  # each one checked above: never an unchecked address
            try:
                return await self._inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        raise BlockedAddressError(path, path, "unix sockets are never used")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport over a connection pool whose connections go through :class:`GuardedBackend`.

    httpx (0.28) does not take a network backend, so the pool it builds is replaced by an equal
    one with the guarded backend; ``tests/crawl/test_guard.py`` fails if that stops working.
    """

    def __init__(self, policy: AddressPolicy, *, limits: httpx.Limits, resolver: Resolver = system_resolver) -> None:
        super().__init__(limits=limits, trust_env=False, retries=0)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True, http2=False, retries=0,
            network_backend=GuardedBackend(policy, resolver),
        )
