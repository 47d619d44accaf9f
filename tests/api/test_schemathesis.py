"""Schemathesis over the whole generated API schema: no request may end in a 5xx.

Every operation of /api/schema/ gets generated requests, valid and invalid (schemathesis'
positive and negative modes), sent in-process through Django's WSGI application with a
manager's API token. Each generated request is sent twice: with the ids schemathesis made up
(mostly unknown: 404s) and with the ids of real objects of the caller's project, so the
handlers' inner code runs too. Kept bounded: a few examples per operation, no deadline.
"""

import re

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from newsroom.wsgi import application
from tests.support.world import build_world

EXAMPLES = 6
pytestmark = pytest.mark.django_db(transaction=True)

PARAM_OBJECTS = {"project_pk": "project", "span_id": "span", "suggestion_id": "suggestion"}


def real_ids(path: str, params: dict, ids: dict) -> dict:
    """Replace generated path parameters with ids of the caller's own objects."""
    out = dict(params)
    for name in params:
        if name in PARAM_OBJECTS:
            out[name] = ids[PARAM_OBJECTS[name]]
        elif name == "relation_id":
            out[name] = ids["relation_suggestion" if "relation-suggestions" in path else "relation"]
        elif name in ("id", "pk"):
            for marker, key in [("/members/", "member"), ("/webhooks/", "webhook"), ("/auth/tokens/", "token"),
                                ("/import-jobs/", "import_job"), ("/assignments/", "assignment"),
                                ("/exports/", "export_job"), ("/articles/", "article"), ("/projects/", "project")]:
                if marker in path:
                    out[name] = ids[key]
                    break
    return out


def test_no_operation_answers_5xx(manager, editor, annotator, reviewer):
    world = build_world("fuzz", users={"manager": manager, "editor": editor, "annotator": annotator,
                                       "reviewer": reviewer})
    from annotations.services.tokens import token_create

    auth_token, key = token_create(user=manager, name="schemathesis")
    world.ids["token"] = token_create(user=manager, name="to rotate")[0].id
    headers = {"Authorization": f"Bearer {key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)

    failures: list[str] = []
    operations = 0
    statuses: dict[int, int] = {}
    reached: set[str] = set()  # operations that answered 2xx at least once
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        path = operation.path

        def protected(params) -> bool:
            # Do not let the run revoke its own token or strip the caller's own membership.
            if "/auth/tokens/" in path and str(params.get("id", params.get("pk"))) == str(auth_token.id):
                return True
            return "/members/" in path and str(params.get("id", params.get("pk"))) == str(manager.id)

        strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                             operation.as_strategy(GenerationMode.NEGATIVE))

        @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                             suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate])
        @hypothesis.given(case=strategy)
        def run(case):
            variants = [dict(case.path_parameters or {})]
            if case.path_parameters:
                variants.append(real_ids(path, case.path_parameters, world.ids))
            for params in variants:
                if protected(params):
                    continue
                case.path_parameters = params
                response = case.call(headers=headers)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code < 300:
                    reached.add(f"{case.method} {path}")
                try:
                    case.validate_response(response, checks=[not_a_server_error])
                except Exception as exc:  # collect, so one run reports every failing operation
                    body = response.get_data(as_text=True)[:300] if hasattr(response, "get_data") else ""
                    reason = re.sub(r"\s+", " ", str(exc))[:200]
                    failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {reason} {body}")

        run()
    assert operations >= 20, operations
    print(f"{operations} operations, {sum(statuses.values())} requests, statuses {sorted(statuses.items())}, "
          f"{len(reached)} operations answered 2xx")
    # The run got past authentication and scoping into the handlers, not just 401/404s.
    assert len(reached) >= operations // 3, sorted(reached)
    assert 401 not in statuses or statuses[401] < sum(statuses.values()) // 10
    assert failures == [], "\n".join(sorted(set(failures))[:50])
