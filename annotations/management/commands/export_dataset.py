"""`python manage.py export_dataset --project SLUG --format F -o FILE [filters]`: an export, offline.

Same selector, filters and formatters as the API. The file is written to FILE.part and renamed
when complete, so a failed run leaves nothing half-written. Prints counts and the SHA-256.
"""

import os
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotations.exporters.registry import FORMATS
from annotations.models import Project
from annotations.selectors.exports import export_label_config
from annotations.services.exports import export_format_and_filters, export_write


class Command(BaseCommand):
    help = "Export a project's labelled data to a file (jsonl, doccano, label-studio, conll, spacy, csv)."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--format", required=True, choices=list(FORMATS))
        parser.add_argument("-o", "--output", required=True, help="Output file ('-' is not supported).")
        parser.add_argument("--status", default="approved", help="approved (default), submitted or all.")
        parser.add_argument("--date-field", default="published", help="published or status_changed.")
        parser.add_argument("--date-from", default=None)
        parser.add_argument("--date-to", default=None)
        parser.add_argument("--annotator", default="")
        parser.add_argument("--label", action="append", default=[], help="Only these labels (repeatable).")
        parser.add_argument("--ids", default="", help="Only these article ids, comma-separated.")
        parser.add_argument("--include-suggestions", action="store_true")
        parser.add_argument("--layer", default="final", help="final (default) or all.")
        parser.add_argument("--offsets", default="codepoint", help="codepoint (default) or utf16.")
        parser.add_argument("--label-config", default=None,
                            help="Also write the matching Label Studio labelling config XML here.")

    def handle(self, *args, **opts):
        try:
            project = Project.objects.get(slug=opts["project"])
        except Project.DoesNotExist as exc:
            raise CommandError(f"No project with slug {opts['project']!r}.") from exc
        params = {
            "status": opts["status"], "date_field": opts["date_field"], "date_from": opts["date_from"],
            "date_to": opts["date_to"], "annotator": opts["annotator"], "labels": opts["label"],
            "ids": opts["ids"], "include_suggestions": opts["include_suggestions"], "layer": opts["layer"],
            "offsets": opts["offsets"],
        }
        try:
            fmt, filters = export_format_and_filters(format_name=opts["format"], params=params)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        out_path = Path(opts["output"])
        part = out_path.with_name(out_path.name + ".part")
        try:
            with part.open("wb") as out:
                counts, sha, size = export_write(project=project, fmt=fmt, filters=filters, out=out)
            os.replace(part, out_path)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        if opts["label_config"]:
            Path(opts["label_config"]).write_text(export_label_config(project=project), encoding="utf-8")
        self.stdout.write(
            f"{counts.articles} articles, {counts.spans} spans, {counts.relations} relations "
            f"({filters.offsets} offsets) -> {out_path} ({size} bytes, sha256 {sha})"
        )
