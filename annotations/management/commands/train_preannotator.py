"""Train a project model on its approved articles; switch to it only if it beats the current pre-annotator."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotations.models import Project, TrainedModel
from annotations.services.training import overlap_f1, trained_model_request, trained_model_train


class Command(BaseCommand):
    help = ("Train a spaCy spancat model on the approved articles of a project (by default as a worker job; "
            "--sync trains here and waits), evaluate it on a held-out share and activate it only if better.")

    def add_arguments(self, parser):
        parser.add_argument("--project", help="Project slug.")
        parser.add_argument("--sync", action="store_true", help="Train in this process and print the result.")
        parser.add_argument("--model", type=int, help="Run an already queued TrainedModel (by id) here.")

    def handle(self, *args, **opts):
        if opts["model"]:
            model = TrainedModel.objects.filter(id=opts["model"]).first()
            if model is None:
                raise CommandError(f"No trained model with id {opts['model']}.")
        else:
            project = Project.objects.filter(slug=opts["project"] or "").first()
            if project is None:
                raise CommandError("Give --project SLUG of an existing project (or --model ID).")
            try:
                model = trained_model_request(project=project)
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            if not opts["sync"]:
                self.stdout.write(f"Queued {model} (id {model.id}); a worker trains it.")
                return
        model = trained_model_train(model_id=model.id)
        if model.status != "done":
            raise CommandError(f"{model} failed: {model.error}")
        decision = "ACTIVATED" if model.activated else "kept, not activated (not better)"
        self.stdout.write(
            f"{model}: trained on {model.train_count}, evaluated on {model.eval_count} articles; overlap F1 "
            f"{overlap_f1(model.metrics):.3f} vs current {model.baseline_metrics.get('preannotator')} "
            f"{overlap_f1(model.baseline_metrics):.3f} -> {decision}. Files: {model.path}"
        )
