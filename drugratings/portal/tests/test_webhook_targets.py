"""Webhooks cannot reach internal addresses (SSRF): checked when saved and at each delivery,
connected to the checked address, no redirects, and no connection details echoed back."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from ipaddress import ip_address, ip_network

import pytest

from drugratings.errors import InvalidInput
from drugratings.portal import actions, outbound
from drugratings.portal.models import Release, Webhook

INTERNAL = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "2002:7f00:1::",  # 6to4 around 127.0.0.1
    "2002:a00:1::",  # 6to4 around 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 around 127.0.0.1
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"]


@pytest.mark.parametrize("raw", INTERNAL)
def test_internal_addresses_are_not_public(raw):
    assert not outbound.is_public(ip_address(raw))


@pytest.mark.parametrize("raw", PUBLIC)
def test_internet_addresses_are_public(raw):
    assert outbound.is_public(ip_address(raw))


def _literal(raw: str) -> str:
    return f"[{raw}]" if ":" in raw else raw


@pytest.mark.parametrize("raw", INTERNAL)
def test_creating_a_webhook_on_an_internal_address_is_refused(world, raw):
    with pytest.raises(InvalidInput) as refused:
        actions.create_webhook(world.analyst, f"http://{_literal(raw)}:1/hook")
    assert refused.value.field == "url" and "not allowed" in refused.value.message
    assert not Webhook.objects.exists()


def test_a_name_is_checked_after_resolving_it_every_answer_counts(world, monkeypatch):
    answers = {
        "internal.example": ["10.1.2.3"],
        "mixed.example": ["93.184.216.34", "127.0.0.1"],
        "mapped.example": ["::ffff:192.168.0.1"],
        "hooks.example": ["93.184.216.34", "2606:4700:4700::1111"],
    }

    def resolve(host, port):
        if host not in answers:
            raise socket.gaierror("Name or service not known")
        return answers[host]

    monkeypatch.setattr(outbound, "resolve", resolve)
    for host in ("internal.example", "mixed.example", "mapped.example", "nowhere.example"):
        with pytest.raises(InvalidInput):
            actions.create_webhook(world.analyst, f"https://{host}/hook")
    assert not Webhook.objects.exists()
    hook, _ = actions.create_webhook(world.analyst, "https://hooks.example/hook")
    assert hook.url == "https://hooks.example/hook"


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/h", "https:///nohost", "https://user:pw@example.com/h", "https://x:99999/"],
)
def test_malformed_webhook_urls_are_refused_with_the_field_named(world, url):
    with pytest.raises(InvalidInput) as refused:
        actions.create_webhook(world.analyst, url)
    assert refused.value.field == "url"


def test_the_web_form_refuses_an_internal_address_with_a_400_and_no_port_details(world, web_as):
    client = web_as(world.analyst)
    page = client.post("/portal/webhooks/", {"url": "http://127.0.0.1:1/"})
    assert page.status_code == 400 and b"not allowed" in page.content
    assert b"refused" not in page.content.lower() and b"errno" not in page.content.lower()
    assert not Webhook.objects.exists()


class _Receiver:
    """A local HTTP server that records requests and answers with a fixed status."""

    def __init__(self, status: int = 204, location: str = "") -> None:
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                self.rfile.read(length)
                receiver.requests.append({"host": self.headers["Host"], "path": self.path})
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.PORTAL_WEBHOOK_ALLOWED_NETWORKS = (ip_network("127.0.0.1/32"),)
    servers: list[_Receiver] = []

    def start(**kwargs) -> _Receiver:
        servers.append(_Receiver(**kwargs))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _release() -> Release:
    return Release.objects.create(methodology_version="test")


def test_delivery_checks_the_address_again_and_refuses_a_changed_answer(
    world, receiver, monkeypatch, settings
):
    server = receiver()
    answer = ["93.184.216.34"]
    monkeypatch.setattr(outbound, "resolve", lambda host, port: answer)
    hook, _ = actions.create_webhook(world.analyst, f"http://hooks.example:{server.port}/h")
    answer[:] = ["10.0.0.7"]  # the name now points inside
    connects = []
    monkeypatch.setattr(outbound.socket, "create_connection", lambda *a, **k: connects.append(a))
    assert actions.deliver_webhooks(_release()) == 0
    hook.refresh_from_db()
    assert connects == [] and hook.last_release_sent is None
    assert hook.last_status.startswith("delivery failed")
    assert "10.0.0.7" not in hook.last_status


def test_delivery_connects_to_the_checked_address_not_a_second_lookup(world, receiver, monkeypatch):
    server = receiver()
    calls = []

    def resolve(host, port):
        calls.append(host)
        # A rebinding resolver: the first answer of each check is allowed, any later one
        # would point somewhere else. Connecting by name would resolve again and miss.
        return ["127.0.0.1"] if len(calls) % 2 else ["10.9.9.9"]

    monkeypatch.setattr(outbound, "resolve", resolve)
    hook, _ = actions.create_webhook(world.analyst, f"http://rebind.example:{server.port}/h?x=1")
    calls.clear()
    release = _release()
    assert actions.deliver_webhooks(release) == 1
    assert calls == ["rebind.example"]  # one lookup per delivery: the one that was checked
    assert server.requests == [{"host": f"rebind.example:{server.port}", "path": "/h?x=1"}]
    hook.refresh_from_db()
    assert hook.last_release_sent == release and hook.last_status == "HTTP 204"


def test_redirects_are_not_followed(world, receiver):
    inner = receiver()
    outer = receiver(status=302, location=f"http://127.0.0.1:{inner.port}/internal")
    hook, _ = actions.create_webhook(world.analyst, f"http://127.0.0.1:{outer.port}/h")
    assert actions.deliver_webhooks(_release()) == 0
    hook.refresh_from_db()
    assert len(outer.requests) == 1 and inner.requests == []
    assert hook.last_status == "delivery failed: HTTP 302 (redirects are not followed)"
    assert hook.last_release_sent is None


def test_connection_errors_are_not_echoed_to_the_customer(world, receiver):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    hook, _ = actions.create_webhook(world.analyst, f"http://127.0.0.1:{closed_port}/h")
    assert actions.deliver_webhooks(_release()) == 0
    hook.refresh_from_db()
    assert hook.last_status == "delivery failed"


def test_a_receiver_error_is_recorded_and_retried_next_release(world, receiver):
    server = receiver(status=500)
    hook, _ = actions.create_webhook(world.analyst, f"http://127.0.0.1:{server.port}/h")
    assert actions.deliver_webhooks(_release()) == 0
    hook.refresh_from_db()
    assert hook.last_status == "delivery failed: HTTP 500" and hook.last_release_sent is None
