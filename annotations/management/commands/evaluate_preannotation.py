"""Precision, recall and F1 per label (exact and overlap match) of a pre-annotator against approved work."""

import json

from django.core.management.base import BaseCommand, CommandError

from annotations.models import LabelType, Project
from annotations.preannotators.base import PreannotatorError
from annotations.preannotators.registry import AVAILABLE, preannotator_for_project
from annotations.selectors.approved import approved_spans_for_project
from annotations.services.training import preannotator_metrics


class Command(BaseCommand):
    help = ("Score a pre-annotator (default: the project's own) against the approved annotations of a project: "
            "precision, recall and F1 per label, exact and overlap match (annotations.preannotators.evaluation).")

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--preannotator", choices=sorted(AVAILABLE), help="Plug-in to score instead.")
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")

    def handle(self, *args, **opts):
        project = Project.objects.filter(slug=opts["project"]).first()
        if project is None:
            raise CommandError(f"No project with slug {opts['project']!r}.")
        items = approved_spans_for_project(project=project)
        if not items:
            raise CommandError(f"Project {project.slug!r} has no approved articles to compare with.")
        labels = list(LabelType.objects.filter(project=project).values_list("name", flat=True))
        name = opts["preannotator"] or project.preannotator
        try:
            plugin = preannotator_for_project(project, name)
            metrics = preannotator_metrics(plugin=plugin, items=items, labels=labels)
        except (PreannotatorError, ValueError) as exc:
            raise CommandError(f"Pre-annotator {name!r} cannot run: {exc}") from exc
        metrics["preannotator"] = name
        if opts["json"]:
            self.stdout.write(json.dumps(metrics, indent=2, sort_keys=True))
            return
        self.stdout.write(f"Pre-annotator {name} ({metrics['model_version']}) against {metrics['articles']} "
                          f"approved articles of {project.slug}")
        self.stdout.write(f"{'label':<10}{'match':<9}{'precision':>10}{'recall':>8}{'F1':>8}{'TP':>6}{'FP':>6}"
                          f"{'FN':>6}")
        for match in ("exact", "overlap"):
            rows = metrics[match]
            for label in [*sorted(k for k in rows if k != "ALL"), "ALL"]:
                r = rows[label]
                self.stdout.write(f"{label:<10}{match:<9}{r['precision']:>10.3f}{r['recall']:>8.3f}{r['f1']:>8.3f}"
                                  f"{r['tp']:>6}{r['fp']:>6}{r['fn']:>6}")
