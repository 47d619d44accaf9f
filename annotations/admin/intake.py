"""The admin side of article intake: an "Upload articles" page, import job progress, text edits.

Mixed into ArticleAdmin (annotations/admin/articles.py). The views only parse the form and call
the services in annotations.services.intake and annotations.services.articles.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.widgets import AdminURLFieldWidget
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from annotations.admin.scoping import EDITORS
from annotations.intake import ParsedArticle, Rejection, apply_wire_header
from annotations.models import Article, ImportJob, JobStatus, Project
from annotations.selectors.projects import project_list_for_user
from annotations.services.articles import article_text_update
from annotations.services.articles import text_hash as compute_hash
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

    def save_model(self, request, obj, form, change):
        if change and "text" in form.changed_data:
            new_text = obj.text
            obj.text = Article.objects.filter(pk=obj.pk).values_list("text", flat=True).get()
            super().save_model(request, obj, form, change)
            expected = form.cleaned_data.get("expected_version") or obj.version
            updated = article_text_update(article=obj, text=new_text, user=request.user, expected_version=expected)
            obj.text, obj.version, obj.text_hash = updated.text, updated.version, updated.text_hash
            return
        super().save_model(request, obj, form, change)
