"""The outbound HTTP guard, against a real local HTTP server (edge of the world: no internet here)."""

import http.server
import json
import socket
import threading
import time

import pytest
import requests

from annotations.outbound import OutboundBlocked, check_url, is_blocked_address, safe_request


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict = {}

    def log_message(self, *args):
        pass

    def _answer(self):
        route = self.routes.get(self.path.split("?")[0])
        if route is None:
            body = json.dumps({
                "path": self.path, "method": self.command, "host": self.headers.get("Host"),
                "authorization": self.headers.get("Authorization"),
            }).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        kind, arg = route
        if kind == "redirect":
            self.send_response(302)
            self.send_header("Location", arg)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif kind == "sleep":
            time.sleep(arg)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    do_GET = do_POST = _answer


@pytest.fixture
def server():
    routes: dict = {}
    handler = type("H", (_Handler,), {"routes": routes})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.routes = routes
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def allow(settings):
    def _allow(*entries):
        settings.NEWSROOM = {**settings.NEWSROOM, "OUTBOUND_ALLOWLIST": list(entries)}

    _allow()
    return _allow


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.5.4", "192.168.0.1", "169.254.169.254", "169.254.1.1", "0.0.0.0",
     "100.64.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255", "[::1]", "[fd00:ec2::254]", "[fe80::1]",
     "[::ffff:127.0.0.1]", "[::ffff:169.254.169.254]", "[2002:7f00:1::]", "[ff02::1]", "[::]"],
)
def test_non_public_addresses_are_refused(allow, address):
    with pytest.raises(OutboundBlocked, match="non-public"):
        check_url(f"http://{address}/hook")


def test_public_address_is_accepted(allow):
    assert check_url("https://93.184.216.34/x") == ("93.184.216.34", 443, check_url("https://93.184.216.34")[2])
    assert not is_blocked_address(check_url("http://8.8.8.8:8080/")[2])


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1/", "ftp://example.org/", "http:///x",
                                 "javascript:alert(1)", "http://[::1"])
def test_bad_urls_are_refused(allow, url):
    with pytest.raises(OutboundBlocked):
        check_url(url)


def test_host_name_resolving_to_loopback_is_refused(allow):
    with pytest.raises(OutboundBlocked, match="127.0.0.1|::1"):
        check_url("http://localhost:9/")


def test_host_name_resolving_to_any_private_address_is_refused(allow, monkeypatch):
    real = socket.getaddrinfo

    def fake(host, *a, **kw):  # DNS is the edge of the world
        if host == "mixed.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80)),
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 80))]
        return real(host, *a, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(OutboundBlocked, match="10.0.0.7"):
        check_url("http://mixed.example/")


def test_unknown_host_is_a_clear_error(allow):
    with pytest.raises(OutboundBlocked, match="cannot resolve"):
        check_url("http://no-such-host.invalid/")


def test_request_to_loopback_refused_without_allowlist(allow, server):
    port = server.server_address[1]
    with pytest.raises(OutboundBlocked):
        safe_request("GET", f"http://127.0.0.1:{port}/")


@pytest.mark.parametrize("entry", ["127.0.0.1", "127.0.0.0/8", "localhost"])
def test_allowlist_by_ip_cidr_or_host(allow, server, entry):
    allow(entry)
    port = server.server_address[1]
    host = "localhost" if entry == "localhost" else "127.0.0.1"
    r = safe_request("GET", f"http://{host}:{port}/ping")
    assert r.status_code == 200
    assert r.json()["host"] == f"{host}:{port}"


def test_metadata_address_needs_an_exact_entry(allow):
    allow("169.254.0.0/16")
    check_url("http://169.254.1.1/")  # inside the allowlisted network
    with pytest.raises(OutboundBlocked):
        check_url("http://169.254.169.254/latest/meta-data/")
    allow("169.254.169.254")
    check_url("http://169.254.169.254/latest/meta-data/")


def test_redirect_to_metadata_is_refused(allow, server):
    allow("127.0.0.1")
    server.routes["/go"] = ("redirect", "http://169.254.169.254/latest/meta-data/")
    with pytest.raises(OutboundBlocked, match="169.254.169.254"):
        safe_request("GET", f"http://127.0.0.1:{server.server_address[1]}/go")


def test_redirect_to_a_host_not_allowlisted_is_refused(allow, server):
    allow("localhost")
    port = server.server_address[1]
    server.routes["/go"] = ("redirect", f"http://127.0.0.1:{port}/inside")
    with pytest.raises(OutboundBlocked, match="127.0.0.1"):
        safe_request("GET", f"http://localhost:{port}/go")


def test_redirects_followed_and_rechecked_and_credentials_dropped_cross_origin(allow, server):
    allow("localhost", "127.0.0.1")
    port = server.server_address[1]
    server.routes["/a"] = ("redirect", "/b")
    server.routes["/b"] = ("redirect", f"http://127.0.0.1:{port}/final")
    r = safe_request("POST", f"http://localhost:{port}/a", json={"x": 1}, headers={"Authorization": "Bearer s"})
    body = r.json()
    assert body["path"] == "/final" and body["method"] == "GET"  # 302 after POST becomes GET
    assert body["authorization"] is None  # different origin: the secret is not forwarded


def test_same_origin_redirect_keeps_authorization(allow, server):
    allow("127.0.0.1")
    server.routes["/a"] = ("redirect", "/final")
    r = safe_request("GET", f"http://127.0.0.1:{server.server_address[1]}/a", headers={"Authorization": "Bearer s"})
    assert r.json()["authorization"] == "Bearer s"


def test_redirect_loop_is_bounded(allow, server):
    allow("127.0.0.1")
    server.routes["/loop"] = ("redirect", "/loop")
    with pytest.raises(OutboundBlocked, match="too many redirects"):
        safe_request("GET", f"http://127.0.0.1:{server.server_address[1]}/loop")


def test_connects_to_the_checked_address_not_a_second_lookup(allow, server, monkeypatch):
    """DNS rebinding: the name is resolved once; the connection goes to that address."""
    allow("rebind.example")
    calls = []
    real = socket.getaddrinfo

    def fake(host, *a, **kw):
        if host == "rebind.example":
            calls.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]
        return real(host, *a, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    port = server.server_address[1]
    r = safe_request("GET", f"http://rebind.example:{port}/x")
    assert r.json()["host"] == f"rebind.example:{port}"
    assert calls == ["rebind.example"]


def test_timeout_is_enforced(allow, server):
    allow("127.0.0.1")
    server.routes["/slow"] = ("sleep", 3)
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        safe_request("GET", f"http://127.0.0.1:{server.server_address[1]}/slow", timeout=(1, 0.5))
    assert time.monotonic() - started < 2.5
