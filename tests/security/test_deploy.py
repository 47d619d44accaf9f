"""Production settings: `check --deploy` is clean, and every page carries the security headers."""

import json
import os
import subprocess
import sys

import pytest

from tests.support.worker import ROOT

PROD_ENV = {
    "DEBUG": "False",
    "SECRET_KEY": "k3y-" + "x7Qp9" * 12,
    "ALLOWED_HOSTS": "news.example.org",
}


def run_prod(args, extra=None):
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; production never would.
    env = {k: v for k, v in os.environ.items()
           if k not in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(PROD_ENV)
    env.update(extra or {})
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_in_production_settings():
    result = run_prod(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


PROBE = r"""
import json, django
django.setup()
from django.test import Client
c = Client(HTTP_HOST="news.example.org")
out = {}
for path in ["/accounts/login/", "/admin/login/", "/api/schema/", "/no-such-page/"]:
    r = c.get(path, secure=True)
    out[path] = {"status": r.status_code, "headers": dict(r.headers)}
r = c.get("/accounts/login/", secure=False)
out["plain_http"] = {"status": r.status_code, "location": r.headers.get("Location")}
r = c.post("/accounts/login/", {"username": "x", "password": "y"}, secure=True)
out["cookies"] = {k: {"secure": v["secure"], "httponly": v["httponly"], "samesite": v["samesite"]}
                  for k, v in c.cookies.items()}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def prod_responses(tmp_path_factory):
    db = tmp_path_factory.mktemp("prod") / "prod.sqlite3"
    extra = {"DATABASE_URL": f"sqlite:///{db}"}
    migrate = run_prod(["manage.py", "migrate", "--noinput"], extra)
    assert migrate.returncode == 0, migrate.stderr
    result = run_prod(["-c", PROBE], {**extra, "DJANGO_SETTINGS_MODULE": "newsroom.settings"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/api/schema/", "/no-such-page/"])
def test_production_headers_on_every_kind_of_page(prod_responses, path):
    headers = {k.lower(): v for k, v in prod_responses[path]["headers"].items()}
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert "includeSubDomains" in headers["strict-transport-security"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp


def test_production_redirects_plain_http_and_secures_cookies(prod_responses):
    assert prod_responses["plain_http"]["status"] == 301
    assert prod_responses["plain_http"]["location"].startswith("https://")
    cookies = prod_responses["cookies"]
    assert cookies["csrftoken"]["secure"] is True
    assert cookies["csrftoken"]["httponly"] is True
    for cookie in cookies.values():
        assert cookie["samesite"] == "Lax"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/api/schema/", "/account/"])
def test_csp_is_enforced_in_development_too(client, annotator, path):
    client.force_login(annotator)
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert directives["report-uri"] == "/security/csp-report/"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_only_the_browsable_api_html_relaxes_style_and_never_script(client, annotator):
    client.force_login(annotator)
    as_json = client.get("/api/projects/", HTTP_ACCEPT="application/json").headers["Content-Security-Policy"]
    assert "unsafe-inline" not in as_json
    as_html = client.get("/api/projects/", HTTP_ACCEPT="text/html").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in as_html.split(";") if d.strip())
    assert directives["style-src"] == "'self' 'unsafe-inline'"
    assert directives["script-src"] == "'self'"
