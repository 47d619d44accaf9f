"""The admin side of article intake: an "Upload articles" page, import job progress, text edits.

Mixed into ArticleAdmin (annotations/admin/articles.py). The views only parse the form and call
the services in annotations.services.intake and annotations.services.articles.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.widgets import AdminURLFieldWidget
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from annotations.admin.scoping import EDITORS
from annotations.intake import ParsedArticle, Rejection, apply_wire_header
from annotations.models import Article, ImportJob, JobStatus, Project
from annotations.selectors.projects import project_list_for_user
from annotations.services.articles import META_FIELDS, article_meta_update, article_text_update
from annotations.services.articles import text_hash as compute_hash
from annotations.services.errors import ConflictError
from annotations.services.intake import articles_import, import_job_create, intake_limits, parse_files
from annotations.text.normalize import normalize_text


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class ArticleUploadForm(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.none())
    files = MultipleFileField(
        required=False, label="Files",
        help_text=".txt, .md, .html, .docx, JSONL/JSON (also doccano and Label Studio), CSV with a 'text' column, "
                  "or .zip archives of these. Several at once.")
    title = forms.CharField(required=False, max_length=500)
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 10, "cols": 80}),
                           label="Or paste the text", strip=False)
    outlet = forms.CharField(required=False, max_length=200)
    author = forms.CharField(required=False, max_length=200)
    published_at = forms.DateField(required=False, label="Date", help_text="YYYY-MM-DD")
    url = forms.URLField(required=False, max_length=1000, label="URL", assume_scheme="https")
    partial = forms.BooleanField(required=False, label="Import what is valid",
                                 help_text="Otherwise nothing is imported if anything is rejected.")

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
        if projects.count() == 1:
            self.fields["project"].initial = projects.first()

    def clean(self):
        data = super().clean()
        if not data.get("files") and not (data.get("text") or "").strip():
            raise forms.ValidationError("Choose one or more files, or paste an article's text.")
        return data


class ArticleChangeForm(forms.ModelForm):
    """The change form; `expected_version` makes a text edit on a stale page a form error, not a loss."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    url = forms.URLField(required=False, max_length=1000, label="URL", assume_scheme="https",
                         widget=AdminURLFieldWidget)

    class Meta:
        model = Article
        fields = ["project", "title", "text", "outlet", "author", "published_at", "url", "meta", "source_name",
                  "status"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version
        if "text" in self.fields:
            self.fields["text"].strip = False
            self.fields["text"].help_text = ("Editing the text keeps the annotations: spans are re-anchored by their "
                                             "quote; those that cannot be placed are flagged for review.")

    def clean(self):
        data = super().clean()
        if self.instance.pk and "text" in self.changed_data:
            current = Article.objects.filter(pk=self.instance.pk).values_list("version", flat=True).first()
            if data.get("expected_version") not in (None, current):
                raise forms.ValidationError("Someone changed this article since you opened it; reload the page.")
            stored = normalize_text(data.get("text") or "")
            if not stored.strip():
                self.add_error("text", "The article text is empty.")
            elif (Article.objects.filter(project_id=self.instance.project_id, text_hash=compute_hash(stored))
                  .exclude(pk=self.instance.pk).exists()):
                self.add_error("text", "The same text is already another article of this project.")
        return data


class ArticleIntakeAdminMixin:
    change_list_template = "admin/annotations/article/change_list.html"
    form = ArticleChangeForm

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("upload/", view(self.upload_view), name="annotations_article_upload"),
            path("import-jobs/<int:job_id>/", view(self.import_job_view), name="annotations_article_import_job"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        """New articles always go through intake (normalisation, duplicates, pre-annotation)."""
        return HttpResponseRedirect(reverse("admin:annotations_article_upload"))

    def _upload_projects(self, request):
        return project_list_for_user(user=request.user, roles=list(EDITORS)).order_by("name")

    def upload_view(self, request):
        projects = self._upload_projects(request)
        if not projects.exists():
            raise Http404("You are not an editor of any project.")
        report = None
        if request.method == "POST":
            form = ArticleUploadForm(request.POST, request.FILES, projects=projects)
            if form.is_valid():
                response, report = self._import(request, form)
                if response is not None:
                    return response
        else:
            form = ArticleUploadForm(projects=projects)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Upload articles",
            "form": form,
            "report": report,
            "max_bytes": intake_limits().max_bytes,
        }
        return TemplateResponse(request, "admin/annotations/article/upload.html", context)

    def _import(self, request, form):
        data = form.cleaned_data
        project, partial, uploads = data["project"], data["partial"], data["files"]
        limit = intake_limits().max_bytes
        too_big = [Rejection(u.name, f"the file is {u.size:,} bytes, more than the limit of {limit:,}")
                   for u in uploads if u.size > limit]
        uploads = [u for u in uploads if u.size <= limit]
        async_bytes = int(settings.NEWSROOM.get("IMPORT_ASYNC_BYTES", 5 * 1024 * 1024))
        if uploads and not too_big and not data["text"].strip() and sum(u.size for u in uploads) > async_bytes:
            jobs = [import_job_create(project=project, user=request.user, name=u.name, data=u.read(),
                                      partial=partial) for u in uploads]
            self.message_user(request, f"{len(jobs)} large import(s) started; this page shows the progress.")
            return HttpResponseRedirect(reverse("admin:annotations_article_import_job", args=[jobs[0].id])), None
        articles, rejected, warnings = parse_files((u.name, u.read()) for u in uploads)
        if data["text"].strip():
            pasted = ParsedArticle(
                text=data["text"], source="pasted text", title=data["title"], outlet=data["outlet"],
                author=data["author"], url=data["url"],
                published_at=data["published_at"].isoformat() if data["published_at"] else None,
            )
            apply_wire_header(pasted)  # fills only what the form left empty
            articles.append(pasted)
        report = articles_import(project=project, items=articles, user=request.user, partial=partial,
                                 rejected=[*too_big, *rejected], warnings=warnings)
        if not report.committed:
            return None, report
        level = messages.SUCCESS if not report.rejected else messages.WARNING
        self.message_user(request, f"{project}: {report.summary()}", level)
        for dup in report.duplicates[:20]:
            self.message_user(request, f"Duplicate: {dup['source']} (same text as {dup['duplicate_of']})",
                              messages.INFO)
        for rej in report.rejected[:20]:
            self.message_user(request, f"Rejected: {rej['source']}: {rej['reason']}", messages.WARNING)
        url = reverse("admin:annotations_article_changelist") + f"?project__id__exact={project.id}"
        return HttpResponseRedirect(url), report

    def import_job_view(self, request, job_id):
        projects = self._upload_projects(request)
        job = get_object_or_404(ImportJob.objects.select_related("project"), id=job_id, project__in=projects)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Import of {job.original_name}",
            "job": job,
            "running": job.status in (JobStatus.QUEUED, JobStatus.RUNNING),
            "percent": int(100 * job.processed / job.total) if job.total else 0,
            "api_url": reverse("api:import-job-detail", args=[job.id]),
        }
        return TemplateResponse(request, "admin/annotations/article/import_job.html", context)

    def get_readonly_fields(self, request, obj=None):
        """The status moves only through the workflow (assign, submit, review), and an article stays
        in its project (its spans use that project's labels); provenance is a record."""
        extra = ["status", "source_name"] + (["project"] if obj is not None else [])
        return [*super().get_readonly_fields(request, obj), *extra]

    def save_model(self, request, obj, form, change):
        """A change goes through the services, under the article's row lock and its version check:
        metadata through article_meta_update, the text through article_text_update (re-anchoring).
        Someone else's change since the page was loaded is reported, never overwritten."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        expected = form.cleaned_data.get("expected_version")
        if expected is None:
            expected = obj.version
        try:
            with transaction.atomic():
                current = Article.objects.get(pk=obj.pk)
                meta = {f: form.cleaned_data[f] for f in META_FIELDS
                        if f in form.cleaned_data and form.cleaned_data[f] != getattr(current, f)}
                if meta:
                    current = article_meta_update(article=current, user=request.user, expected_version=expected,
                                                  **meta)
                    expected = current.version
                if "text" in form.changed_data:
                    current = article_text_update(article=current, text=form.cleaned_data["text"],
                                                  user=request.user, expected_version=expected)
        except ConflictError as exc:
            request._article_conflict = str(exc)
            obj.refresh_from_db()
            return
        obj.refresh_from_db()

    def response_change(self, request, obj):
        conflict = getattr(request, "_article_conflict", None)
        if conflict:
            messages.error(request, f"Not saved: {conflict} Reload the page to see their version.")
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def log_change(self, request, obj, message):
        if getattr(request, "_article_conflict", None):
            return None  # nothing was changed
        return super().log_change(request, obj, message)
