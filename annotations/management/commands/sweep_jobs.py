"""Re-send lost pre-annotation jobs and revive abandoned ones now (Celery beat does it periodically)."""

from django.core.management.base import BaseCommand

from annotations.services.preannotation import preannotation_jobs_sweep


class Command(BaseCommand):
    help = "Re-send queued pre-annotation jobs whose message may be lost; re-queue or fail abandoned running jobs."

    def handle(self, *args, **opts):
        self.stdout.write(str(preannotation_jobs_sweep()))
