"""Dataset export API: streamed exports, export jobs (named immutable versions) and their files.

Every endpoint answers 404 to anyone who is not a member of the project (scoped querysets).
Offsets are Unicode code points unless `offsets=utf16`; the `X-Offsets` header says which.
"""

import re
import tempfile

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.base import ProjectScopedMixin
from annotations.api.serializers.exports import ExportJobCreateSerializer, ExportJobSerializer
from annotations.exporters.registry import FORMATS
from annotations.models import ExportJob, JobStatus
from annotations.selectors.exports import DATE_FIELDS, LAYERS, STATUSES, export_label_config
from annotations.services.exports import (
    export_filename,
    export_format_and_filters,
    export_job_create,
    export_job_path,
    export_render,
)


class IgnoreFormatParameter(DefaultContentNegotiation):
    """`?format=` names the export format here, not a DRF renderer: answers (and errors) are JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


EXPORT_PARAMETERS = [
    OpenApiParameter("format", str, enum=list(FORMATS), default="jsonl", description="Export format."),
    OpenApiParameter("status", str, enum=list(STATUSES), default="approved",
                     description="approved (default), submitted (submitted or in review), all."),
    OpenApiParameter("date_field", str, enum=list(DATE_FIELDS), default="published",
                     description="Which date date_from/date_to apply to."),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Inclusive, YYYY-MM-DD."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Inclusive, YYYY-MM-DD."),
    OpenApiParameter("annotator", str, description="Only articles this username annotated."),
    OpenApiParameter("label", str, description="Only spans of these labels (comma-separated or repeated)."),
    OpenApiParameter("ids", str, description="Only these article ids (comma-separated)."),
    OpenApiParameter("include_suggestions", bool, default=False,
                     description="Add undecided machine suggestions (origin=machine, state=pending)."),
    OpenApiParameter("layer", str, enum=list(LAYERS), default="final",
                     description="final: the review layer, else one annotator's; all: every layer (jsonl, "
                                 "label-studio, csv)."),
    OpenApiParameter("offsets", str, enum=["codepoint", "utf16"], default="codepoint",
                     description="Offset unit; utf16 counts UTF-16 code units (JavaScript)."),
]


def _attachment(response, filename: str, unit: str):
    # The name comes from the user (the export's name): no control characters (a CR/LF would be a
    # 500, BadHeaderError), no path separators, non-ASCII as filename*= (RFC 6266).
    filename = re.sub(r'[\x00-\x1f\x7f/\\"]+', "_", filename)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Offsets"] = unit
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


class ProjectExportView(ProjectScopedMixin, APIView):
    """`GET /api/projects/{id}/export/?format=...`: the export, streamed as it is read."""

    content_negotiation_class = IgnoreFormatParameter

    @extend_schema(
        parameters=EXPORT_PARAMETERS,
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY,
                   description="The export file (streamed); header X-Offsets names the offset unit.")},
    )
    def get(self, request, project_pk: int):
        project = self.get_project(project_pk)
        fmt, filters = export_format_and_filters(
            format_name=request.query_params.get("format", "jsonl"), params=request.query_params)
        filename = export_filename(project=project, fmt=fmt)
        if not fmt.streams:
            # A .spacy file is one compressed msgpack map: written to a temporary file (bounded
            # memory, see exporters.spacy_docbin), then streamed from disk.
            from annotations.services.exports import export_write

            tmp = tempfile.TemporaryFile()  # noqa: SIM115 - closed by FileResponse
            export_write(project=project, fmt=fmt, filters=filters, out=tmp)
            tmp.seek(0)
            response = FileResponse(tmp, content_type=fmt.content_type)
        else:
            response = StreamingHttpResponse(
                export_render(project=project, fmt=fmt, filters=filters), content_type=fmt.content_type)
        return _attachment(response, filename, filters.offsets)


class LabelConfigView(ProjectScopedMixin, APIView):
    """`GET /api/projects/{id}/export/label-config/`: the Label Studio config matching the export."""

    @extend_schema(responses={(200, "application/xml"): OpenApiResponse(OpenApiTypes.STR)})
    def get(self, request, project_pk: int):
        project = self.get_project(project_pk)
        return HttpResponse(export_label_config(project=project), content_type="application/xml; charset=utf-8")


class ProjectExportJobViewSet(ProjectScopedMixin, mixins.ListModelMixin, mixins.CreateModelMixin,
                              viewsets.GenericViewSet):
    """`/api/projects/{id}/exports/`: list the project's export jobs, or start one (202)."""

    queryset = ExportJob.objects.select_related("requested_by")
    serializer_class = ExportJobSerializer
    content_negotiation_class = IgnoreFormatParameter

    def get_queryset(self):
        return super().get_queryset().filter(project=self.get_project())

    @extend_schema(request=ExportJobCreateSerializer, responses={202: ExportJobSerializer})
    def create(self, request, *args, **kwargs):
        project = self.get_project()
        data = ExportJobCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = export_job_create(
            project=project, requested_by=request.user, format_name=data.validated_data["format"],
            name=data.validated_data.get("name", ""), filters=data.validated_data.get("filters") or {},
        )
        return Response(ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ExportJobViewSet(ProjectScopedMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """`/api/exports/{id}/`: an export job's progress; `.../download/` its file (members only)."""

    queryset = ExportJob.objects.select_related("requested_by", "project")
    serializer_class = ExportJobSerializer
    content_negotiation_class = IgnoreFormatParameter

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
                              409: OpenApiResponse(description="The export is not finished.")})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        job = self.get_object()
        if job.status != JobStatus.DONE:
            return Response({"detail": f"The export is {job.status}, not ready."}, status=status.HTTP_409_CONFLICT)
        fmt = FORMATS[job.format]
        response = FileResponse(export_job_path(job).open("rb"), content_type=fmt.content_type)
        response["X-Checksum-SHA256"] = job.sha256
        return _attachment(response, f"{job.id}-{job.name}.{fmt.extension}".replace('"', ""),
                           job.filters.get("offsets", "codepoint"))
