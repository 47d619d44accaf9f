"""A client for Label Studio ML backends, so existing backends plug in as pre-annotators.

Protocol (label-studio-ml-backend): ``GET /health`` -> ``{"status": "UP"}``; ``POST /setup`` with the
project and its label config -> ``{"model_version": ...}``; ``POST /predict`` with
``{"tasks": [{"id": i, "data": {"text": ...}}], "label_config": ..., "project": ...}`` ->
``{"results": [{"result": [<region>...], "score": s, "model_version": v}, ...]}`` (older backends answer
the bare list). A region is ``{"id", "type": "labels", "value": {"start", "end", "text", "labels": [..]},
"score"}``; a link is ``{"type": "relation", "from_id", "to_id", "labels": ["attributed_to"]}``.

Offsets: Label Studio's browser counts UTF-16 units, Python backends usually count code points. With
``offsets="auto"`` (default) each region's ``value.text`` decides; without it code points are assumed.
A region whose offsets do not match its text either way is dropped.

Every call goes through annotations.outbound.safe_request (no private addresses unless allowlisted),
with a timeout; connection errors, timeouts, 429 and 5xx are retried ``retries`` times with a short
back-off; whatever still fails raises PreannotatorError with a reason the job records.
"""

from __future__ import annotations

import threading
import time
from xml.sax.saxutils import quoteattr

import requests

from annotations.outbound import OutboundBlocked, safe_request
from annotations.preannotators.base import PreannotatorError, Prediction, SuggestedRelation, SuggestedSpan
from annotations.text.offsets import Utf16Index

RETRY_STATUS = {429, 500, 502, 503, 504}


class BackendUnavailable(PreannotatorError):
    """Timeouts, refused connections, 429/5xx after the client's own retries: worth another attempt later."""

    transient = True


def label_config(labels: list[str], relations: tuple[str, ...] = ("attributed_to",)) -> str:
    """A Label Studio labeling config for named-entity style spans with links."""
    lab = "".join(f"<Label value={quoteattr(x)}/>" for x in labels)
    rel = "".join(f"<Relation value={quoteattr(x)}/>" for x in relations)
    return (f'<View><Relations>{rel}</Relations><Labels name="label" toName="text">{lab}</Labels>'
            f'<Text name="text" value="$text"/></View>')


class MLBackendPreannotator:
    name = "ml_backend"

    def __init__(self, url: str, *, token: str = "", timeout: float = 30, retries: int = 2, project_ref: str = "",
                 offsets: str = "auto", backoff: float = 0.5):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.project_ref = project_ref or "newsroom"
        self.offsets = offsets
        self.backoff = backoff
        self._model_version = ""
        self._setup_for: str | None = None
        self._lock = threading.Lock()

    # -- HTTP ------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, payload: dict | None = None) -> object:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                r = safe_request(method, f"{self.url}{path}", json=payload, headers=headers,
                                 timeout=(min(5.0, self.timeout), self.timeout))
            except OutboundBlocked as exc:
                raise PreannotatorError(f"ML backend {self.url}: {exc}") from exc
            except requests.Timeout:
                last = f"timed out after {self.timeout:g}s"
                continue
            except requests.RequestException as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if r.status_code in RETRY_STATUS:
                last = f"HTTP {r.status_code}: {r.text[:200]}"
                continue
            if r.status_code >= 400:
                raise PreannotatorError(f"ML backend {self.url}{path} answered HTTP {r.status_code}: {r.text[:300]}")
            try:
                return r.json()
            except ValueError as exc:
                raise PreannotatorError(f"ML backend {self.url}{path} answered something that is not JSON") from exc
        raise BackendUnavailable(f"ML backend {self.url}{path} failed after {self.retries + 1} tries: {last}")

    def health(self) -> dict:
        body = self._call("GET", "/health")
        if not isinstance(body, dict) or str(body.get("status", "")).upper() != "UP":
            raise PreannotatorError(f"ML backend {self.url} is not healthy: {str(body)[:200]}")
        return body

    def _setup(self, config: str) -> None:
        with self._lock:
            if self._setup_for == config:
                return
            body = self._call("POST", "/setup", {"project": self.project_ref, "schema": config, "params": {}})
            if isinstance(body, dict) and body.get("model_version"):
                self._model_version = str(body["model_version"])
            self._setup_for = config

    @property
    def version(self) -> str:
        return f"ml-backend:{self._model_version or 'unknown'}"

    # -- predictions -----------------------------------------------------------------------------
    def predict(self, texts: list[str], labels: list[str]) -> list[Prediction]:
        config = label_config(labels)
        self._setup(config)
        tasks = [{"id": i, "data": {"text": t}} for i, t in enumerate(texts)]
        body = self._call("POST", "/predict", {"tasks": tasks, "label_config": config, "project": self.project_ref,
                                               "params": {"context": None}})
        results = body.get("results") if isinstance(body, dict) else body
        if not isinstance(results, list) or len(results) != len(texts):
            got = len(results) if isinstance(results, list) else type(results).__name__
            raise PreannotatorError(f"ML backend {self.url}/predict returned {got} results for {len(texts)} tasks")
        return [self._parse(text, item, set(labels)) for text, item in zip(texts, results, strict=True)]

    def _offsets(self, text: str, value: dict, index: list) -> tuple[int, int] | None:
        try:
            start, end = int(value["start"]), int(value["end"])
        except (KeyError, TypeError, ValueError):
            return None
        quote = value.get("text")
        if self.offsets == "utf16" or (self.offsets == "auto" and quote is not None and text[start:end] != quote):
            if not index:
                index.append(Utf16Index(text))
            try:
                start, end = index[0].to_codepoint(start), index[0].to_codepoint(end)
            except (ValueError, IndexError):
                return None
        if not 0 <= start < end <= len(text):
            return None
        if quote is not None and text[start:end] != quote:
            return None
        return start, end

    def _parse(self, text: str, item, labels: set[str]) -> Prediction:
        if isinstance(item, dict):
            regions = item.get("result") or []
            version = str(item.get("model_version") or self._model_version or "unknown")
            overall = item.get("score")
        else:
            regions, version, overall = [], self._model_version or "unknown", None
        if not isinstance(regions, list):
            raise PreannotatorError(f"ML backend {self.url}/predict: 'result' is not a list")
        spans: list[SuggestedSpan] = []
        by_id: dict[str, int] = {}
        index: list = []
        for region in regions:
            if not isinstance(region, dict) or region.get("type") == "relation":
                continue
            value = region.get("value") or {}
            names = value.get("labels") or value.get("hypertextlabels") or []
            if not names or names[0] not in labels:
                continue
            where = self._offsets(text, value, index)
            if where is None:
                continue
            score = region.get("score", overall)
            try:
                score = max(0.0, min(1.0, float(score))) if score is not None else 0.5
            except (TypeError, ValueError):
                score = 0.5
            if region.get("id") is not None:
                by_id[str(region["id"])] = len(spans)
            spans.append(SuggestedSpan(where[0], where[1], names[0], score))
        relations = []
        for region in regions:
            if not isinstance(region, dict) or region.get("type") != "relation":
                continue
            a, b = by_id.get(str(region.get("from_id"))), by_id.get(str(region.get("to_id")))
            if a is None or b is None or a == b:
                continue
            kinds = region.get("labels") or ["attributed_to"]
            if region.get("direction") == "left":
                a, b = b, a
            relations.append(SuggestedRelation(a, b, kinds[0], 1.0))
        return Prediction(spans, relations, self.name, f"ml-backend:{version}"[:100])
