"""Webhooks: signed deliveries to a real local HTTP server, retries, SSRF refusal, API and admin."""

import http.server
import json
import threading
import time

import pytest
from django.test import override_settings

from annotations.models import Webhook, WebhookDelivery
from annotations.services.tokens import token_create
from annotations.services.webhooks import (
    MAX_ATTEMPTS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    webhook_create,
    webhook_event_emit,
    webhook_sign,
    webhook_verify,
)
from annotations.tasks import webhook_deliver

pytestmark = pytest.mark.django_db


class Receiver:
    """An http.server on 127.0.0.1 in a thread; answers with the next status in `statuses`."""

    def __init__(self, statuses=(200,), redirect_to=None):
        self.requests = []
        self.statuses = list(statuses)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                outer.requests.append((dict(self.headers), self.rfile.read(length), self.path))
                if redirect_to:
                    self.send_response(307)
                    self.send_header("Location", redirect_to)
                else:
                    self.send_response(outer.statuses.pop(0) if len(outer.statuses) > 1 else outer.statuses[0])
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


ALLOW_LOCAL = {"OUTBOUND_ALLOWLIST": ["127.0.0.1"]}


def newsroom(settings, **kw):
    return dict(settings.NEWSROOM, **kw)


def emit_and_deliver(project, event, payload, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        deliveries = webhook_event_emit(project=project, event=event, payload=payload)
    assert len(callbacks) == len(deliveries)
    for d in deliveries:  # the broker is the edge of the world: run the task here, retries included
        webhook_deliver.apply(args=(d.id,))
    return [WebhookDelivery.objects.get(id=d.id) for d in deliveries]


def test_signed_delivery_to_a_real_server(project, settings, django_capture_on_commit_callbacks):
    with Receiver() as rx, override_settings(NEWSROOM=newsroom(settings, **ALLOW_LOCAL)):
        hook = webhook_create(project=project, url=rx.url, events=["export.ready"])
        webhook_create(project=project, url=rx.url + "?other", events=["article.approved"])  # not subscribed
        [d] = emit_and_deliver(project, "export.ready", {"id": 3}, django_capture_on_commit_callbacks)
    assert d.status == "delivered" and d.attempts == 1 and d.response_code == 200 and d.delivered_at
    [(headers, raw, path)] = rx.requests
    assert path == "/hook"
    assert headers["X-Newsroom-Event"] == "export.ready" and headers["Content-Type"] == "application/json"
    assert headers[SIGNATURE_HEADER].startswith("sha256=")
    assert webhook_verify(secret=hook.secret, timestamp=headers[TIMESTAMP_HEADER], body=raw,
                          signature=headers[SIGNATURE_HEADER])
    assert not webhook_verify(secret="wrong", timestamp=headers[TIMESTAMP_HEADER], body=raw,
                              signature=headers[SIGNATURE_HEADER])
    assert not webhook_verify(secret=hook.secret, timestamp=headers[TIMESTAMP_HEADER], body=raw + b" ",
                              signature=headers[SIGNATURE_HEADER])
    body = json.loads(raw)
    assert body["event"] == "export.ready" and body["data"] == {"id": 3} and body["project"] == project.id


def test_timestamp_is_signed_so_replays_are_refused():
    sig = webhook_sign(secret="s", timestamp="1000", body=b"{}")
    assert webhook_verify(secret="s", timestamp="1000", body=b"{}", signature=sig, now=1100)
    assert not webhook_verify(secret="s", timestamp="1000", body=b"{}", signature=sig, now=1000 + 3600)
    assert not webhook_verify(secret="s", timestamp="1001", body=b"{}", signature=sig, now=1100)


def test_retries_on_500_then_delivers(project, settings, django_capture_on_commit_callbacks):
    with Receiver(statuses=[500, 502, 200]) as rx, override_settings(NEWSROOM=newsroom(settings, **ALLOW_LOCAL)):
        webhook_create(project=project, url=rx.url, events=["article.approved"])
        [d] = emit_and_deliver(project, "article.approved", {"article": 1}, django_capture_on_commit_callbacks)
    assert len(rx.requests) == 3
    assert d.status == "delivered" and d.attempts == 3 and d.response_code == 200 and d.error == ""
    ids = {h["X-Newsroom-Delivery"] for h, _, _ in rx.requests}
    assert ids == {str(d.id)}  # the same delivery, retried


def test_retries_are_bounded(project, settings, django_capture_on_commit_callbacks):
    with Receiver(statuses=[500]) as rx, override_settings(NEWSROOM=newsroom(settings, **ALLOW_LOCAL)):
        webhook_create(project=project, url=rx.url, events=["article.approved"])
        [d] = emit_and_deliver(project, "article.approved", {"article": 1}, django_capture_on_commit_callbacks)
    assert len(rx.requests) == MAX_ATTEMPTS
    assert d.status == "failed" and d.attempts == MAX_ATTEMPTS and d.response_code == 500 and "HTTP 500" in d.error


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "[::1]", "localhost"])
def test_private_addresses_are_refused_without_an_allowlist(project, settings, host,
                                                            django_capture_on_commit_callbacks):
    with Receiver() as rx, override_settings(NEWSROOM=newsroom(settings, OUTBOUND_ALLOWLIST=[])):
        port = rx.server.server_port
        webhook_create(project=project, url=f"http://{host}:{port}/hook", events=["export.ready"])
        started = time.monotonic()
        [d] = emit_and_deliver(project, "export.ready", {}, django_capture_on_commit_callbacks)
    assert rx.requests == []
    assert d.status == "failed" and d.attempts == 1 and d.error.startswith("refused:")  # final at once
    assert time.monotonic() - started < 5


def test_a_redirect_to_a_private_address_is_refused(project, settings, django_capture_on_commit_callbacks):
    with Receiver(redirect_to="http://10.0.0.7/steal") as rx, \
            override_settings(NEWSROOM=newsroom(settings, **ALLOW_LOCAL)):
        webhook_create(project=project, url=rx.url, events=["export.ready"])
        [d] = emit_and_deliver(project, "export.ready", {}, django_capture_on_commit_callbacks)
    assert len(rx.requests) == 1
    assert d.status == "failed" and "10.0.0.7" in d.error


def test_nothing_is_sent_for_work_that_rolls_back(project, django_capture_on_commit_callbacks):
    from django.db import transaction

    webhook_create(project=project, url="https://example.org/h", events=["article.submitted"])
    with (django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(RuntimeError),
          transaction.atomic()):
        webhook_event_emit(project=project, event="article.submitted", payload={})
        raise RuntimeError
    assert callbacks == [] and not WebhookDelivery.objects.exists()


def test_inactive_hooks_and_unknown_events(project, django_capture_on_commit_callbacks):
    hook = webhook_create(project=project, url="https://example.org/h", events=["article.submitted"])
    hook.active = False
    hook.save()
    assert webhook_event_emit(project=project, event="article.submitted", payload={}) == []
    with pytest.raises(ValueError):
        webhook_event_emit(project=project, event="article.deleted", payload={})


def test_export_ready_is_emitted_when_a_job_finishes(project, manager, settings, tmp_path,
                                                     django_capture_on_commit_callbacks):
    from annotations.services.exports import export_job_create, export_job_run

    settings.NEWSROOM = newsroom(settings, EXPORT_DIR=tmp_path)
    webhook_create(project=project, url="https://example.org/h", events=["export.ready"])
    with django_capture_on_commit_callbacks(execute=False):
        job = export_job_create(project=project, requested_by=manager, format_name="jsonl", name="v1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        export_job_run(job_id=job.id)
    [d] = WebhookDelivery.objects.all()
    assert len(callbacks) == 1
    assert d.event == "export.ready" and d.payload["data"]["name"] == "v1" and len(d.payload["data"]["sha256"]) == 64


# --- API ------------------------------------------------------------------------------------------

def bearer(client, user):
    _, key = token_create(user=user, name="t")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_managers_register_hooks_and_see_the_secret_once(api_client, project, manager):
    c = bearer(api_client, manager)
    url = f"/api/projects/{project.id}/webhooks/"
    r = c.post(url, {"url": "https://hooks.example.org/x", "events": ["article.approved", "export.ready"]},
               format="json")
    assert r.status_code == 201, r.content
    created = r.json()
    assert len(created["secret"]) >= 32
    listed = c.get(url).json()["results"]
    assert [h["id"] for h in listed] == [created["id"]] and "secret" not in listed[0]
    r = c.patch(f"{url}{created['id']}/", {"active": False}, format="json")
    assert r.status_code == 200 and r.json()["active"] is False
    assert c.get(f"{url}{created['id']}/deliveries/").status_code == 200
    assert c.post(url, {"url": "ftp://x", "events": ["export.ready"]}, format="json").status_code == 400
    assert c.post(url, {"url": "https://x.org", "events": ["nope"]}, format="json").status_code == 400
    assert c.delete(f"{url}{created['id']}/").status_code == 204
    assert not Webhook.objects.exists()


def test_non_managers_403_and_non_members_404(api_client, project, annotator, outsider):
    hook = webhook_create(project=project, url="https://example.org/h", events=["export.ready"])
    url = f"/api/projects/{project.id}/webhooks/"
    a = bearer(api_client, annotator)
    assert a.get(url).status_code == 403
    assert a.post(url, {"url": "https://e.org", "events": ["export.ready"]}, format="json").status_code == 403
    o = bearer(api_client.__class__(), outsider)
    assert o.get(url).status_code == 404
    assert o.get(f"{url}{hook.id}/").status_code == 404


def test_delivery_log_in_the_admin(client, project, django_user_model):
    admin = django_user_model.objects.create_superuser("boss", "boss@example.org", "pass-word-123")
    hook = webhook_create(project=project, url="https://example.org/h", events=["export.ready"])
    WebhookDelivery.objects.create(webhook=hook, event="export.ready", payload={}, status="failed", attempts=5,
                                   response_code=500, error="HTTP 500")
    client.force_login(admin)
    r = client.get("/admin/annotations/webhookdelivery/")
    assert r.status_code == 200 and b"export.ready" in r.content
    r = client.get(f"/admin/annotations/webhook/{hook.id}/change/")
    assert r.status_code == 200 and b"HTTP 500" in r.content


def test_delivery_log_and_dataset_versions_are_read_only_in_the_admin(client, project, django_user_model):
    admin = django_user_model.objects.create_superuser("boss2", "boss2@example.org", "pass-word-123")
    hook = webhook_create(project=project, url="https://example.org/h", events=["export.ready"])
    d = WebhookDelivery.objects.create(webhook=hook, event="export.ready", payload={}, status="delivered")
    client.force_login(admin)
    assert client.get("/admin/annotations/webhookdelivery/add/").status_code == 403
    assert client.get("/admin/annotations/exportjob/add/").status_code == 403
    page = client.get(f"/admin/annotations/webhookdelivery/{d.id}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(f"/admin/annotations/webhookdelivery/{d.id}/change/", {"status": "failed"}).status_code == 403
    d.refresh_from_db()
    assert d.status == "delivered"


INLINE = {"deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"}  # the delivery log's formset


def test_admin_shows_the_secret_once_on_the_post_and_never_in_a_form(client, project, django_user_model):
    admin = django_user_model.objects.create_superuser("boss3", "boss3@example.org", "pass-word-123")
    client.force_login(admin)
    add = client.get("/admin/annotations/webhook/add/")
    assert add.status_code == 200 and b'name="secret"' not in add.content
    bad = client.post("/admin/annotations/webhook/add/", {
        "project": project.id, "url": "https://example.org/hook",
        "events": ["article.nope"], "active": "on", **INLINE})
    assert bad.status_code == 200 and b"Select a valid choice" in bad.content
    assert not Webhook.objects.exists()

    created = client.post("/admin/annotations/webhook/add/", {
        "project": project.id, "url": "https://example.org/hook",
        "events": ["article.approved"], "active": "on", **INLINE})
    hook = Webhook.objects.get()
    assert created.status_code == 200 and "no-store" in created["Cache-Control"]
    assert len(hook.secret) >= 32 and hook.secret.encode() in created.content
    change = client.get(f"/admin/annotations/webhook/{hook.id}/change/")
    assert change.status_code == 200 and hook.secret.encode() not in change.content
    assert hook.secret.encode() not in client.get("/admin/annotations/webhook/").content

    # the page with the secret reloaded (the POST sent again): no second, identical hook
    again = client.post("/admin/annotations/webhook/add/", {"project": project.id, "url": "https://example.org/hook",
                                                             "events": ["article.approved"], "active": "on", **INLINE})
    assert again.status_code == 200 and b"already has a webhook" in again.content
    assert Webhook.objects.count() == 1
    assert client.get(f"/admin/annotations/webhook/{hook.id}/change/").content.count(b"deliveries-0-payload") == 0

    old = hook.secret
    rotated = client.post("/admin/annotations/webhook/", {"action": "rotate_secret", "_selected_action": [hook.id]})
    hook.refresh_from_db()
    assert rotated.status_code == 200 and hook.secret != old and hook.secret.encode() in rotated.content


def test_only_managers_rotate_webhook_secrets_in_the_admin(client, project, editor):
    from annotations.services.webhooks import webhook_create as create

    hook = create(project=project, url="https://example.org/h", events=["export.ready"])
    editor.is_staff = True
    editor.save()
    client.force_login(editor)
    client.post("/admin/annotations/webhook/", {"action": "rotate_secret", "_selected_action": [hook.id]})
    old = hook.secret
    hook.refresh_from_db()
    assert hook.secret == old


def test_the_same_events_in_another_order_are_a_duplicate(project):
    from django.core.exceptions import ValidationError

    hook = webhook_create(project=project, url="https://example.org/hook",
                          events=["export.ready", "article.submitted", "export.ready"])
    assert hook.events == ["article.submitted", "export.ready"]
    with pytest.raises(ValidationError, match="already has a webhook"):
        webhook_create(project=project, url="https://example.org/hook", events=["article.submitted", "export.ready"])
    assert Webhook.objects.count() == 1
