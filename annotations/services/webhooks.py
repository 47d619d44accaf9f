"""Webhooks: signed JSON deliveries of project events, sent by a worker with bounded retries.

Events: "article.submitted", "article.approved", "export.ready".

`webhook_event_emit(project=..., event=..., payload=...)` creates one WebhookDelivery per active hook
of the project subscribed to the event and enqueues each delivery after the transaction commits
(nothing is sent for work that rolls back). Call it inside the transaction that made the change.

Each delivery POSTs the JSON body with:
  X-Newsroom-Event: <event>
  X-Newsroom-Delivery: <delivery id>
  X-Newsroom-Timestamp: <unix seconds>
  X-Newsroom-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>
The receiver recomputes the HMAC over the timestamp and the raw body, compares in constant time,
and rejects timestamps older than a few minutes (replay). Outbound requests go through
annotations.outbound.safe_request (no loopback/private/link-local/metadata addresses unless
allowlisted in settings.NEWSROOM["OUTBOUND_ALLOWLIST"], checked on every redirect hop).
A 2xx answer is delivered; anything else (or a network error) is retried with exponential
backoff up to MAX_ATTEMPTS; a refused address is final at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from annotations.models import Project, Webhook, WebhookDelivery

log = logging.getLogger(__name__)

EVENTS = ("article.submitted", "article.approved", "export.ready")
MAX_ATTEMPTS = 5
BACKOFF_BASE = 2  # seconds: 2, 4, 8, 16 between the 5 attempts
TIMEOUT = (5, 10)
SIGNATURE_HEADER = "X-Newsroom-Signature"
TIMESTAMP_HEADER = "X-Newsroom-Timestamp"


def webhook_sign(*, secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_verify(*, secret: str, timestamp: str, body: bytes, signature: str, tolerance: int = 300,
                   now: float | None = None) -> bool:
    """What a receiver does (used in our tests and documented for integrators)."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - ts) > tolerance:
        return False
    return hmac.compare_digest(webhook_sign(secret=secret, timestamp=timestamp, body=body), signature or "")


def webhook_events_clean(events) -> list[str]:
    if not isinstance(events, (list, tuple)) or not events:
        raise ValidationError({"events": f"events must be a non-empty list of: {', '.join(EVENTS)}"})
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise ValidationError({"events": f"unknown events {unknown}; choose from {', '.join(EVENTS)}"})
    return [e for e in EVENTS if e in events]  # one order, so the same events are the same list


def _clean_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": "url must be an http or https URL"})
    return url


def webhook_create(*, project: Project, url: str, events, secret: str = "", active: bool = True) -> Webhook:
    """Register a hook. The secret is generated if not given; it is returned once, on creation.

    The address is checked when sending (DNS can change), not here, so a hook is never trusted
    because it resolved to a public address once. A second hook with the same URL and events in the
    project is refused (it would deliver everything twice)."""
    url, events = _clean_url(url), webhook_events_clean(events)
    if Webhook.objects.filter(project=project, url=url, events=events).exists():
        raise ValidationError({"url": "This project already has a webhook for this URL and these events."})
    return Webhook.objects.create(project=project, url=url, events=events,
                                  secret=secret or secrets.token_urlsafe(32), active=active)


def webhook_secret_rotate(*, webhook: Webhook) -> str:
    """Give the hook a new secret and return it (shown once; deliveries from now on use it)."""
    webhook.secret = secrets.token_urlsafe(32)
    webhook.save(update_fields=["secret"])
    return webhook.secret


def webhook_update(*, webhook: Webhook, **fields) -> Webhook:
    if "url" in fields:
        webhook.url = _clean_url(fields["url"])
    if "events" in fields:
        webhook.events = webhook_events_clean(fields["events"])
    if "active" in fields:
        webhook.active = bool(fields["active"])
    webhook.save()
    return webhook


def article_event_payload(article) -> dict:
    """The `data` of article.submitted / article.approved: ids and state, never the text."""
    return {"article": article.id, "title": article.title, "status": article.status, "version": article.version}


def webhook_event_emit(*, project: Project | int, event: str, payload: dict) -> list[WebhookDelivery]:
    """Queue `event` for every active hook of `project` subscribed to it (sent after commit)."""

    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    project_id = project if isinstance(project, int) else project.id
    hooks = [h for h in Webhook.objects.filter(project_id=project_id, active=True) if event in (h.events or [])]
    body = {"event": event, "project": project_id, "created_at": timezone.now().isoformat(), "data": payload}
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(webhook=h, event=event, payload=body) for h in hooks]
    )
    for d in deliveries:
        transaction.on_commit(lambda d_id=d.id: webhook_delivery_send(delivery_id=d_id))
    return deliveries


def webhook_delivery_send(*, delivery_id: int) -> bool:
    """Publish a delivery attempt and record when it is due. A broker that is down leaves it
    queued for the sweeper."""
    from annotations.tasks import webhook_deliver

    try:
        webhook_deliver.delay(delivery_id)
    except Exception:
        log.warning("could not send webhook delivery %s; the sweeper will", delivery_id, exc_info=True)
        return False
    WebhookDelivery.objects.filter(id=delivery_id, status="queued").update(next_attempt_at=timezone.now())
    return True


def webhook_delivery_retry_at(*, delivery_id: int) -> int:
    """Seconds until the next attempt of a delivery that failed for now; recorded on the row."""
    attempts = WebhookDelivery.objects.filter(id=delivery_id).values_list("attempts", flat=True).first() or 1
    countdown = webhook_retry_delay(attempts)
    WebhookDelivery.objects.filter(id=delivery_id, status="queued").update(
        next_attempt_at=timezone.now() + timedelta(seconds=countdown))
    return countdown


def webhook_deliveries_sweep(*, limit: int = 1000) -> dict:
    """Send again the queued deliveries whose attempt was due longer than REQUEUE_AFTER ago (or
    never sent): their message was lost. At least once: a receiver dedupes on X-Newsroom-Delivery."""
    from annotations.services.jobs import requeue_after

    cutoff = timezone.now() - requeue_after()
    lost = list(
        WebhookDelivery.objects.filter(status="queued")
        .filter(Q(next_attempt_at__lt=cutoff) | Q(next_attempt_at__isnull=True, created_at__lt=cutoff))
        .order_by("id").values_list("id", flat=True)[:limit]
    )
    sent = sum(webhook_delivery_send(delivery_id=d) for d in lost)
    return {"resent": sent, "unsent": len(lost) - sent}


def webhook_delivery_attempt(*, delivery_id: int) -> str:
    """Send one attempt. Returns "delivered", "failed" (final) or "retry".

    The row records attempts, the last response code and error; the task decides when to retry.
    """
    import requests

    from annotations.outbound import OutboundBlocked, safe_request

    delivery = WebhookDelivery.objects.select_related("webhook").get(id=delivery_id)
    if delivery.status in ("delivered", "failed"):
        return delivery.status
    hook = delivery.webhook
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "newsroom-webhooks/1",
        "X-Newsroom-Event": delivery.event,
        "X-Newsroom-Delivery": str(delivery.id),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: webhook_sign(secret=hook.secret, timestamp=timestamp, body=body),
    }
    attempts = delivery.attempts + 1
    code = None
    try:
        response = safe_request("POST", hook.url, data=body, headers=headers, timeout=TIMEOUT)
        code = response.status_code
        response.close()
        ok, error, final = 200 <= code < 300, ("" if 200 <= code < 300 else f"HTTP {code}"), False
    except OutboundBlocked as exc:
        ok, error, final = False, f"refused: {exc}", True
    except requests.RequestException as exc:
        ok, error, final = False, f"{type(exc).__name__}: {exc}", False
    if ok:
        status = "delivered"
    elif final or attempts >= MAX_ATTEMPTS:
        status = "failed"
    else:
        status = "retry"
    WebhookDelivery.objects.filter(id=delivery.id).update(
        attempts=attempts, response_code=code, error=error[:2000],
        status="queued" if status == "retry" else status,
        delivered_at=timezone.now() if ok else None,
    )
    return status


def webhook_retry_delay(attempts: int) -> int:
    return BACKOFF_BASE ** max(1, attempts)
