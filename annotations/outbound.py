"""Outbound HTTP that cannot be aimed at the inside of our network (SSRF guard).

Used by everything that calls a URL a user typed: webhooks, remote ML backends.

``safe_request(method, url, **kw)``:

* accepts only ``http``/``https`` URLs;
* resolves the host and refuses it if ANY of its addresses is loopback, private, link-local,
  reserved, multicast, unspecified, shared (CGNAT) or otherwise not globally routable, including
  IPv4-mapped IPv6 forms of those; cloud-metadata addresses (169.254.169.254, fd00:ec2::254) are
  refused even when a broad allowlisted network contains them, unless the exact address or host is
  listed;
* ``settings.NEWSROOM["OUTBOUND_ALLOWLIST"]`` entries (host names, IPs or CIDRs) lift the check;
* connects to the address it checked (no second DNS lookup, so no DNS-rebinding window): the TCP
  connection goes to the pinned IP while the Host header and TLS SNI/certificate check use the name;
* follows redirects itself (at most ``max_redirects``, default 5), re-checking every hop, and drops
  ``Authorization``/``Cookie`` headers when a redirect leaves the original origin;
* always has a timeout (default: 5 s connect, 30 s read) and ignores proxy environment variables.

Raises ``OutboundBlocked`` (a ``ValueError``) for a refused address or URL and
``requests.RequestException`` subclasses for network errors.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})
DEFAULT_TIMEOUT = (5, 30)
MAX_REDIRECTS = 5
REDIRECT_CODES = (301, 302, 303, 307, 308)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundBlocked(ValueError):
    """The URL or the address it resolves to may not be reached from this server."""


def _allowlist() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network], set[IPAddress]]:
    hosts: set[str] = set()
    nets = []
    exact: set[IPAddress] = set()
    for raw in settings.NEWSROOM.get("OUTBOUND_ALLOWLIST", []) or []:
        entry = str(raw).strip().lower()
        if not entry:
            continue
        try:
            if "/" in entry:
                nets.append(ipaddress.ip_network(entry, strict=False))
            else:
                exact.add(ipaddress.ip_address(entry.strip("[]")))
        except ValueError:
            hosts.add(entry.rstrip("."))
    return hosts, nets, exact


def _unmapped(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
    return ip


def is_blocked_address(ip: IPAddress) -> bool:
    """True for anything that is not a plain public unicast address."""
    ip = _unmapped(ip)
    return (
        ip in METADATA_ADDRESSES
        or ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


def _address_allowed(host: str, ip: IPAddress) -> bool:
    hosts, nets, exact = _allowlist()
    plain = _unmapped(ip)
    if host in hosts or ip in exact or plain in exact:
        return True
    if plain in METADATA_ADDRESSES or host in METADATA_HOSTS:
        return False  # only an exact entry lets these through
    if any(plain in n or ip in n for n in nets):
        return True
    return not is_blocked_address(ip)


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundBlocked(f"cannot resolve host {host!r}: {exc}") from exc
    out: list[IPAddress] = []
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if addr not in out:
            out.append(addr)
    if not out:
        raise OutboundBlocked(f"host {host!r} has no address")
    return out


def check_url(url: str) -> tuple[str, int, IPAddress]:
    """Validate `url`; return (host, port, the address to connect to). Raises OutboundBlocked."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundBlocked(f"invalid URL {url!r}: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise OutboundBlocked(f"only http and https URLs are allowed, not {parts.scheme or 'none'!r}")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise OutboundBlocked(f"URL {url!r} has no host")
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(host, port)
    refused = [str(a) for a in addresses if not _address_allowed(host, a)]
    if refused:
        raise OutboundBlocked(
            f"refusing to connect to {host!r}: it resolves to a non-public address ({', '.join(refused)}); "
            'add it to NEWSROOM["OUTBOUND_ALLOWLIST"] if this is intended'
        )
    return host, port, addresses[0]


class _PinnedAdapter(HTTPAdapter):
    """Connects to one checked IP while speaking to (and verifying TLS for) the host name."""

    def __init__(self, host: str, ip: IPAddress, **kw):
        self._host, self._ip = host, ip
        super().__init__(max_retries=0, **kw)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params = dict(host_params, host=str(self._ip))
        if host_params.get("scheme") == "https":
            pool_kwargs = dict(pool_kwargs, server_hostname=self._host, assert_hostname=self._host)
        return host_params, pool_kwargs


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def safe_request(
    method: str,
    url: str,
    *,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    max_redirects: int = MAX_REDIRECTS,
    headers: dict | None = None,
    **kw,
) -> requests.Response:
    """Send one request (following up to `max_redirects` redirects, each re-checked)."""
    kw.pop("allow_redirects", None)
    kw.pop("proxies", None)
    headers = dict(headers or {})
    method = method.upper()
    original = url
    for _hop in range(max_redirects + 1):
        host, port, ip = check_url(url)
        parts = urlsplit(url)
        default_port = 443 if parts.scheme == "https" else 80
        hop_headers = dict(headers)
        hop_headers["Host"] = host if port == default_port else f"{host}:{port}"
        with requests.Session() as session:
            session.trust_env = False  # no proxies or .netrc from the environment
            adapter = _PinnedAdapter(host, ip)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            response = session.request(
                method, url, headers=hop_headers, timeout=timeout, allow_redirects=False, **kw
            )
        if response.status_code not in REDIRECT_CODES or "location" not in response.headers:
            return response
        response.close()
        url = urljoin(url, response.headers["location"])
        if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
            method = "GET" if method != "HEAD" else method
            for key in ("data", "json", "files"):
                kw.pop(key, None)
            headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
        if not _same_origin(original, url):
            headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
    raise OutboundBlocked(f"too many redirects (more than {max_redirects}) starting at {original}")
