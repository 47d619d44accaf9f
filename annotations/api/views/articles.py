"""Articles: list and create per project, import files, read one with its layers, edit its text.

Views parse input and call services (annotations.services.intake / .articles). Large imports
become an ImportJob run by a worker; the answer is 202 with the job's URL.
"""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ParseError, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from annotations.api.base import ProjectScopedMixin
from annotations.api.permissions import has_role
from annotations.api.serializers.articles import (
    ArticleDetailSerializer,
    ArticleListSerializer,
    ArticleUpdateSerializer,
    ImportJobSerializer,
    ImportReportSerializer,
)
from annotations.intake import Rejection, articles_from_json
from annotations.models import Article, ImportJob
from annotations.selectors.articles import (
    EDIT_ROLES,
    ArticleFilterSet,
    article_layers_prefetch,
    article_list,
)
from annotations.selectors.projects import user_roles
from annotations.services.articles import article_meta_update, article_text_update
from annotations.services.intake import articles_import, import_job_create, intake_limits, parse_files

TRUE = ("1", "true", "yes", "on")

try:  # orjson parses a 7 MB batch of articles about three times faster than the standard library
    import orjson as _fastjson
except ImportError:  # pragma: no cover - orjson is in requirements.txt
    _fastjson = None


class ArticleJSONParser(JSONParser):
    """DRF's JSON parser with orjson underneath (same strictness: no NaN/Infinity, UTF-8 only)."""

    def parse(self, stream, media_type=None, parser_context=None):
        if _fastjson is None:
            return super().parse(stream, media_type, parser_context)
        try:
            return _fastjson.loads(stream.read() if stream is not None else b"")
        except _fastjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}")


def _flag(request, name: str) -> bool:
    value = request.query_params.get(name)
    if value is None and hasattr(request.data, "get") and not isinstance(request.data, list):
        value = request.data.get(name) if hasattr(request.data, "getlist") else None
    return str(value).lower() in TRUE


def _async_rows() -> int:
    return int(settings.NEWSROOM.get("IMPORT_ASYNC_ROWS", 2000))


def _async_bytes() -> int:
    return int(settings.NEWSROOM.get("IMPORT_ASYNC_BYTES", 5 * 1024 * 1024))


def _report_response(report) -> Response:
    code = status.HTTP_201_CREATED if report.committed and report.imported else (
        status.HTTP_200_OK if report.committed else status.HTTP_400_BAD_REQUEST)
    return Response(report.as_dict(), status=code)


def _job_response(request, jobs: list[ImportJob]) -> Response:
    data = [ImportJobSerializer(j, context={"request": request}).data for j in jobs]
    return Response({"jobs": data, "url": data[0]["url"] if len(data) == 1 else None},
                    status=status.HTTP_202_ACCEPTED, headers={"Location": data[0]["url"]} if data else {})


class ProjectArticleViewSet(ProjectScopedMixin, viewsets.GenericViewSet):
    """`/api/projects/{id}/articles/`: members read; editors and managers add (one object or a list)."""

    queryset = Article.objects.all()
    serializer_class = ArticleListSerializer
    filterset_class = ArticleFilterSet
    parser_classes = [ArticleJSONParser, MultiPartParser, FormParser]

    def _editor_project(self):
        project = self.get_project()
        if not has_role(self.request.user, project, *EDIT_ROLES):
            raise PermissionDenied("Only editors and managers of this project may add articles.")
        return project

    @extend_schema(parameters=[
        OpenApiParameter("status", str), OpenApiParameter("published_after", str),
        OpenApiParameter("published_before", str), OpenApiParameter("search", str, description="In the title."),
    ])
    def list(self, request, project_pk=None):
        project = self.get_project()
        queryset = self.filter_queryset(article_list(project=project))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request={"application/json": {"type": "array", "items": {"type": "object"}}},
        parameters=[OpenApiParameter("partial", bool, description="Import what is valid; report the rest.")],
        responses={201: ImportReportSerializer, 400: ImportReportSerializer, 202: ImportJobSerializer},
    )
    def create(self, request, project_pk=None):
        project = self._editor_project()
        data = request.data
        if not isinstance(data, dict | list):
            raise ValidationError({"detail": "Send one JSON object or a list of them."})
        if isinstance(data, list) and not data:
            raise ValidationError({"detail": "The list is empty."})
        partial = _flag(request, "partial")
        if isinstance(data, list) and len(data) > _async_rows():
            import json

            body = json.dumps(data, ensure_ascii=False).encode("utf-8")
            job = import_job_create(project=project, user=request.user, name="api-request.json", data=body,
                                    partial=partial)
            return _job_response(request, [job])
        parsed = articles_from_json(data)
        del data
        report = articles_import(project=project, items=parsed.articles, user=request.user, partial=partial,
                                 rejected=parsed.rejected)
        return _report_response(report)

    @extend_schema(
        request={"multipart/form-data": {"type": "object", "properties": {
            "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
            "partial": {"type": "boolean"}, "async": {"type": "boolean"}}}},
        responses={201: ImportReportSerializer, 400: ImportReportSerializer, 202: ImportJobSerializer},
    )
    def import_files(self, request, project_pk=None):
        """`POST .../articles/import/` (multipart `file`, one or many): formats are sniffed from the content."""
        project = self._editor_project()
        uploads = request.FILES.getlist("file") + request.FILES.getlist("files")
        if not uploads:
            raise ValidationError({"file": "Attach one or more files in the 'file' field."})
        partial = _flag(request, "partial")
        limit = intake_limits().max_bytes
        too_big = [Rejection(u.name, f"the file is {u.size:,} bytes, more than the limit of {limit:,}")
                   for u in uploads if u.size > limit]
        uploads = [u for u in uploads if u.size <= limit]
        if not too_big and (_flag(request, "async") or sum(u.size for u in uploads) > _async_bytes()):
            jobs = [import_job_create(project=project, user=request.user, name=u.name, data=u.read(),
                                      partial=partial) for u in uploads]
            return _job_response(request, jobs)
        articles, rejected, warnings = parse_files((u.name, u.read()) for u in uploads)
        report = articles_import(project=project, items=articles, user=request.user, partial=partial,
                                 rejected=[*too_big, *rejected], warnings=warnings)
        return _report_response(report)


class ArticleViewSet(ProjectScopedMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """`/api/articles/{id}/`: the stored text, metadata, status, spans and relations; PATCH edits."""

    queryset = Article.objects.select_related("project")
    serializer_class = ArticleDetailSerializer
    required_roles = {"partial_update": EDIT_ROLES}

    def retrieve(self, request, pk=None):
        article = self.get_object()
        article_layers_prefetch(article=article, user=request.user,
                                roles=user_roles(user=request.user, project=article.project))
        return Response(self.get_serializer(article).data)

    @extend_schema(request=ArticleUpdateSerializer, responses={200: ArticleDetailSerializer})
    def partial_update(self, request, pk=None):
        """Change the text (spans are re-anchored; unplaceable ones get needs_review) and/or metadata.

        `version` must be the article's current version, else 409 with `current_version`.
        """
        article = self.get_object()
        body = ArticleUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        version = fields.pop("version")
        text = fields.pop("text", None)
        if text is not None:
            article = article_text_update(article=article, text=text, user=request.user, expected_version=version)
            version = article.version
        if fields:
            article = article_meta_update(article=article, user=request.user, expected_version=version, **fields)
        article = self.get_queryset().get(pk=article.pk)
        article_layers_prefetch(article=article, user=request.user,
                                roles=user_roles(user=request.user, project=article.project))
        return Response(self.get_serializer(article).data)


class ImportJobViewSet(ProjectScopedMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """`/api/import-jobs/{id}/`: status, progress (processed of total) and the report of a large import."""

    queryset = ImportJob.objects.all()
    serializer_class = ImportJobSerializer
    required_roles = {"retrieve": EDIT_ROLES}
