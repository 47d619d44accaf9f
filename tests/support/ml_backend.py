"""A small Label Studio ML backend on 127.0.0.1 (a real HTTP server in a thread) for tests.

It speaks the protocol (/health, /setup, /predict) and labels, per task, the first sentence as a
CLAIM and its first word as a SOURCE, linked CLAIM -> SOURCE. `mode` switches its behaviour:
"ok", "error" (HTTP 500), "block" (hold /predict until `release` is set), "garbage" (not JSON),
"utf16" (offsets in UTF-16 units, as Label Studio's browser counts).
"""

import contextlib
import http.server
import json
import threading


def _regions(text: str, utf16: bool = False):
    end = text.find(".") + 1 or len(text)
    first_word_end = text.find(" ") if " " in text[:end] else end

    def unit(cp):
        return len(text[:cp].encode("utf-16-le")) // 2 if utf16 else cp

    return [
        {"id": "c1", "from_name": "label", "to_name": "text", "type": "labels", "score": 0.8,
         "value": {"start": unit(0), "end": unit(end), "text": text[:end], "labels": ["CLAIM"]}},
        {"id": "s1", "from_name": "label", "to_name": "text", "type": "labels", "score": 0.6,
         "value": {"start": unit(0), "end": unit(first_word_end), "text": text[:first_word_end],
                   "labels": ["SOURCE"]}},
        {"type": "relation", "from_id": "c1", "to_id": "s1", "direction": "right", "labels": ["attributed_to"]},
    ]


class FakeMLBackend:
    def __init__(self):
        self.mode = "ok"
        self.requests: list[tuple[str, dict | None]] = []
        self.predict_started = threading.Event()
        self.release = threading.Event()
        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, code, body: bytes, ctype="application/json"):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(body)

            def do_GET(self):
                backend.requests.append((self.path, None))
                if self.path == "/health":
                    self._send(200, json.dumps({"status": "UP", "model_class": "Fake"}).encode())
                else:
                    self._send(404, b"{}")

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"null")
                backend.requests.append((self.path, payload))
                if self.path == "/setup":
                    self._send(200, json.dumps({"model_version": "fake-1"}).encode())
                    return
                if self.path != "/predict":
                    self._send(404, b"{}")
                    return
                mode = backend.mode
                if mode == "block":
                    backend.predict_started.set()
                    backend.release.wait(60)
                    mode = backend.mode
                if mode == "error":
                    self._send(500, b'{"error": "model exploded"}')
                    return
                if mode == "garbage":
                    self._send(200, b"<html>oops</html>", "text/html")
                    return
                results = [{"result": _regions(t["data"]["text"], utf16=mode == "utf16"), "score": 0.7,
                            "model_version": "fake-1"} for t in payload["tasks"]]
                self._send(200, json.dumps({"results": results}).encode())

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def predict_calls(self) -> list[dict]:
        return [p for path, p in self.requests if path == "/predict"]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
