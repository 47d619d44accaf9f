"""The Celery app. Reliability settings live in settings.py under CELERY_*."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
# One thread per process for the numeric libraries under spaCy (read when numpy loads, so here, first):
# parallelism comes from worker processes (--concurrency / more workers), and a pool of one thread per
# core in each of several processes on the same cores made every article slower (bench/
# preannotation_throughput.py --threads). An explicit value in the environment wins.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

app = Celery("newsroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
