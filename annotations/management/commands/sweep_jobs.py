"""Re-send lost jobs (pre-annotation, import, export) and revive or fail abandoned ones now
(Celery beat does it periodically)."""

from django.core.management.base import BaseCommand

from annotations.services.jobs import jobs_sweep


class Command(BaseCommand):
    help = ("Re-send queued pre-annotation, import and export jobs whose message may be lost; "
            "re-queue or fail abandoned running jobs.")

    def handle(self, *args, **opts):
        self.stdout.write(str(jobs_sweep()))
