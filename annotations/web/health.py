"""`GET /healthz` for load balancers and monitoring: no login, no data, only whether this process
reaches its database and its broker.

503 when the database does not answer (the process is of no use). A broker that is down is
"degraded" with a 200: uploads, annotation and review go on, jobs wait in the database and the
sweeper sends them when the broker is back.
"""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

BROKER_TIMEOUT = 2.0


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return "down"
    return "ok"


def _broker() -> str:
    from newsroom.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT)
    except Exception:
        return "down"
    return "ok"


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _database(), "broker": _broker()}
    if checks["database"] != "ok":
        return JsonResponse({"status": "down", **checks}, status=503)
    return JsonResponse({"status": "ok" if checks["broker"] == "ok" else "degraded", **checks})
