"""The CSP report endpoint records violations and never fails on junk."""

import json
import logging

import pytest

pytestmark = pytest.mark.django_db


def test_a_report_is_logged(client, caplog):
    report = {"csp-report": {"document-uri": "http://x/annotate/1/", "violated-directive": "script-src-elem",
                             "blocked-uri": "inline"}}
    with caplog.at_level(logging.WARNING, logger="newsroom.csp"):
        r = client.post("/security/csp-report/", json.dumps(report), content_type="application/csp-report")
    assert r.status_code == 204
    assert any("script-src-elem" in rec.getMessage() and "inline" in rec.getMessage() for rec in caplog.records)


@pytest.mark.parametrize("body", [b"", b"not json", b"\xff\xfe", b"[1, 2, 3]", b"{\"csp-report\": 5}",
                                  b"x" * 20000])
def test_junk_reports_never_500(client, body):
    r = client.post("/security/csp-report/", body, content_type="application/csp-report")
    assert r.status_code in (204, 400)


def test_get_is_refused(client):
    assert client.get("/security/csp-report/").status_code == 405
