"""Refuse webhook requests to private, loopback and link-local addresses (SSRF).

The host is checked twice: every address it resolves to before the request (a clear error),
and the address the socket actually connected to (so DNS rebinding between the two cannot
slip through). ``WEBHOOK_ALLOW_PRIVATE=true`` lifts the rule for development and tests.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError


class BlockedAddressError(Exception):
    """The URL leads to an address webhooks may not reach."""


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_url(url: str) -> None:
    """Resolve the URL's host and refuse it if any of its addresses is not allowed.

    :raises BlockedAddressError: a private, loopback, link-local... address, or no address.
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise BlockedAddressError("no host in URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise BlockedAddressError(f"cannot resolve {host}: {exc}") from exc
    for info in infos:
        address = str(info[4][0])
        if not address_allowed(address):
            raise BlockedAddressError(f"{host} resolves to {address}, which is not allowed")


class _GuardedMixin:
    def _new_conn(self):  # type: ignore[no-untyped-def]
        sock = super()._new_conn()  # type: ignore[misc]
        peer = sock.getpeername()[0]
        if not address_allowed(peer):
            sock.close()
            raise NewConnectionError(self, f"connected to {peer}, which is not allowed")  # type: ignore[arg-type]
        return sock


class _GuardedHTTPConnection(_GuardedMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


def http_session(*, allow_private: bool) -> requests.Session:
    """A requests session for webhook calls; guarded unless ``allow_private``."""
    session = requests.Session()
    # Environment proxies would connect on our behalf, out of the guard's sight.
    session.trust_env = False
    if not allow_private:
        adapter = _GuardedAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session
