"""Import article files into a project from the shell, with a progress bar and a summary.

    python manage.py import_articles --project wire-desk articles/*.jsonl dump.zip folder/
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotations.models import Project
from annotations.services.intake import articles_import, parse_files


class Command(BaseCommand):
    help = ("Import articles (.txt, .md, .html, .docx, JSONL/JSON incl. doccano and Label Studio, CSV, .zip) "
            "into a project. All or nothing unless --partial.")

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="Files or folders (folders are read recursively).")
        parser.add_argument("--project", required=True, help="The project's slug.")
        parser.add_argument("--user", help="Username recorded as the importer (needed for files with spans).")
        parser.add_argument("--partial", action="store_true",
                            help="Import what is valid and list what was rejected (default: all or nothing).")
        parser.add_argument("--no-preannotate", action="store_true", help="Do not queue pre-annotation jobs.")

    def handle(self, *args, **opts):
        try:
            project = Project.objects.get(slug=opts["project"])
        except Project.DoesNotExist:
            raise CommandError(f"No project with slug {opts['project']!r}.")
        user = None
        if opts["user"]:
            user = get_user_model().objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"No user {opts['user']!r}.")
        files = self._files(opts["paths"])
        bar_file = getattr(self.stderr, "_out", None)
        with tqdm(files, desc="Reading", unit="file", file=bar_file, disable=bar_file is None) as bar:
            articles, rejected, warnings = parse_files((p.name, p.read_bytes()) for p in bar)
        with tqdm(total=len(articles), desc="Checking", unit="article", file=bar_file,
                  disable=bar_file is None) as bar:
            seen = [0]

            def progress(n: int) -> None:
                bar.update(n - seen[0])
                seen[0] = n

            report = articles_import(project=project, items=articles, user=user, partial=opts["partial"],
                                     rejected=rejected, warnings=warnings, preannotate=not opts["no_preannotate"],
                                     progress=progress)
            bar.update(len(articles) - seen[0])
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(f"warning: {warning}"))
        for dup in report.duplicates:
            self.stdout.write(f"duplicate: {dup['source']} (same text as {dup['duplicate_of']})")
        for rej in report.rejected:
            self.stdout.write(self.style.ERROR(f"rejected: {rej['source']}: {rej['reason']}"))
        summary = (f"{len(report.imported)} imported, {len(report.duplicates)} skipped as duplicate, "
                   f"{len(report.rejected)} rejected ({report.span_count} spans, {report.relation_count} relations)")
        if not report.committed:
            raise CommandError(f"Nothing imported: {summary}. Fix the files or use --partial.")
        self.stdout.write(self.style.SUCCESS(f"Done: {summary}."))

    def _files(self, paths: list[str]) -> list[Path]:
        out = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                out.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")))
            elif path.is_file():
                out.append(path)
            else:
                raise CommandError(f"{raw}: no such file or folder.")
        return out
