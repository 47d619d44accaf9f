"""Tokenise now every submitted or approved article whose token cache is missing or stale (after a
spaCy upgrade), so conll and spacy exports need no tokenizer. Celery beat does it in the background,
a batch a minute."""

from django.core.management.base import BaseCommand, CommandError

from annotations.models import Project
from annotations.services.exports import article_tokens_refresh


class Command(BaseCommand):
    help = "Fill the conll/spacy token cache of submitted and approved articles (all projects, or --project)."

    def add_arguments(self, parser):
        parser.add_argument("--project", help="the project's slug (default: every project)")
        parser.add_argument("--batch", type=int, default=1000, help="articles per round (default 1000)")

    def handle(self, *args, project=None, batch=1000, **opts):
        target = None
        if project:
            target = Project.objects.filter(slug=project).first()
            if target is None:
                raise CommandError(f"no project with the slug {project!r}")
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        total = 0
        while done := article_tokens_refresh(limit=batch, project=target):
            total += done
            self.stdout.write(f"{total} articles tokenised")
        self.stdout.write(self.style.SUCCESS(f"token cache filled: {total} articles tokenised"))
