"""The workspace API behind the annotate page: one person's layer of one article.

Reads: any member of the article's project. Writes: the assignment's owner (or a superuser) while
it is open; everyone else gets 403, people outside the project 404. Every write carries
`expected_version` and every answer the new `version` (409 on a stale one, 503 when busy).
"""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response

from annotations.api.base import ProjectScopedMixin
from annotations.api.serializers.workspace import (
    AcceptAboveSerializer,
    RelationCreateSerializer,
    SpanCreateSerializer,
    SpanUpdateSerializer,
    VersionedSerializer,
    WriteResultSerializer,
)
from annotations.models import Assignment, AssignmentKind
from annotations.selectors.layers import layer_payload, relation_json, span_obj_json
from annotations.services import spans as span_services
from annotations.services.workflow import assignment_next, assignment_submit


def _result(result, code=status.HTTP_200_OK) -> Response:
    data = {"version": result.version}
    if result.span is not None:
        data["span"] = span_obj_json(result.span)
    if result.relation is not None:
        data["relation"] = relation_json(result.relation)
    if result.spans is not None:
        data["spans"] = [span_obj_json(s) for s in result.spans]
    if result.relations is not None:
        data["relations"] = [relation_json(r) for r in result.relations]
    return Response(data, status=code)


class AssignmentLayerViewSet(ProjectScopedMixin, viewsets.GenericViewSet):
    queryset = Assignment.objects.select_related("article", "article__project", "user")
    project_field = "article__project"
    serializer_class = VersionedSerializer

    def _valid(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(summary="The layer: article text, labels, spans, suggestions, links, version")
    def retrieve(self, request, pk=None):
        assignment = self.get_object()
        return Response(layer_payload(assignment=assignment, user=request.user))

    @extend_schema(request=SpanCreateSerializer, responses={201: WriteResultSerializer})
    def span_create(self, request, pk=None):
        assignment = self.get_object()
        data = self._valid(SpanCreateSerializer)
        result = span_services.span_create(assignment_id=assignment.id, user=request.user, **data)
        return _result(result, status.HTTP_201_CREATED)

    @extend_schema(request=SpanUpdateSerializer, responses=WriteResultSerializer)
    def span_update(self, request, pk=None, span_id=None):
        assignment = self.get_object()
        data = self._valid(SpanUpdateSerializer)
        return _result(span_services.span_update(assignment_id=assignment.id, user=request.user,
                                                 span_id=int(span_id), **data))

    @extend_schema(request=VersionedSerializer, responses=WriteResultSerializer)
    def span_delete(self, request, pk=None, span_id=None):
        assignment = self.get_object()
        data = self._valid(VersionedSerializer)
        return _result(span_services.span_delete(assignment_id=assignment.id, user=request.user,
                                                 span_id=int(span_id), **data))

    @extend_schema(request=VersionedSerializer, responses=WriteResultSerializer)
    def suggestion_accept(self, request, pk=None, suggestion_id=None):
        assignment = self.get_object()
        data = self._valid(VersionedSerializer)
        return _result(span_services.suggestion_accept(assignment_id=assignment.id, user=request.user,
                                                       suggestion_id=int(suggestion_id), **data))

    @extend_schema(request=VersionedSerializer, responses=WriteResultSerializer)
    def suggestion_reject(self, request, pk=None, suggestion_id=None):
        assignment = self.get_object()
        data = self._valid(VersionedSerializer)
        return _result(span_services.suggestion_reject(assignment_id=assignment.id, user=request.user,
                                                       suggestion_id=int(suggestion_id), **data))

    @extend_schema(request=VersionedSerializer, responses=WriteResultSerializer)
    def suggestion_reset(self, request, pk=None, suggestion_id=None):
        assignment = self.get_object()
        data = self._valid(VersionedSerializer)
        return _result(span_services.suggestion_reset(assignment_id=assignment.id, user=request.user,
                                                      suggestion_id=int(suggestion_id), **data))

    @extend_schema(request=AcceptAboveSerializer, responses=WriteResultSerializer)
    def accept_above(self, request, pk=None):
        assignment = self.get_object()
        data = self._valid(AcceptAboveSerializer)
        return _result(span_services.suggestions_accept_above(assignment_id=assignment.id, user=request.user,
                                                              **data))

    @extend_schema(request=VersionedSerializer, responses=WriteResultSerializer)
    def relation_suggestion_accept(self, request, pk=None, relation_id=None):
        assignment = self.get_object()
        data = self._valid(VersionedSerializer)
        return _result(span_services.relation_suggestion_accept(
            assignment_id=assignment.id, user=request.user, relation_id=int(relation_id), **data))

    @extend_schema(request=VersionedSerializer, responses=WriteResultSerializer)
    def relation_suggestion_reject(self, request, pk=None, relation_id=None):
        assignment = self.get_object()
        data = self._valid(VersionedSerializer)
        return _result(span_services.relation_suggestion_reject(
            assignment_id=assignment.id, user=request.user, relation_id=int(relation_id), **data))

    @extend_schema(request=VersionedSerializer, responses=WriteResultSerializer)
    def relation_suggestion_reset(self, request, pk=None, relation_id=None):
        assignment = self.get_object()
        data = self._valid(VersionedSerializer)
        return _result(span_services.relation_suggestion_reset(
            assignment_id=assignment.id, user=request.user, relation_id=int(relation_id), **data))

    @extend_schema(request=RelationCreateSerializer, responses={201: WriteResultSerializer})
    def relation_create(self, request, pk=None):
        assignment = self.get_object()
        data = self._valid(RelationCreateSerializer)
        result = span_services.relation_create(
            assignment_id=assignment.id, user=request.user, from_span_id=data["from_span"],
            to_span_id=data["to_span"], type=data.get("type"), expected_version=data["expected_version"])
        return _result(result, status.HTTP_201_CREATED)

    @extend_schema(request=VersionedSerializer, responses=WriteResultSerializer)
    def relation_delete(self, request, pk=None, relation_id=None):
        assignment = self.get_object()
        data = self._valid(VersionedSerializer)
        return _result(span_services.relation_delete(assignment_id=assignment.id, user=request.user,
                                                     relation_id=int(relation_id), **data))

    @extend_schema(request=None, responses=WriteResultSerializer)
    def submit(self, request, pk=None):
        assignment = self.get_object()
        if assignment.kind != AssignmentKind.ANNOTATION:
            raise ValidationError({"detail": ["A review copy is approved or returned through the review actions."]})
        assignment = assignment_submit(assignment=assignment, user=request.user)
        return Response({"version": assignment.version, "status": assignment.status, "read_only": True})


class NextArticleViewSet(viewsets.ViewSet):
    """Hand the caller their next article (an unfinished assignment first, else a new slot)."""

    @extend_schema(request=None, responses={200: None, 204: None})
    def create(self, request):
        assignment = assignment_next(user=request.user)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        assignment = get_object_or_404(Assignment.objects.select_related("article"), id=assignment.id)
        return Response({
            "assignment": assignment.id, "article": assignment.article_id, "title": assignment.article.title,
            "url": f"/annotate/{assignment.id}/",
        })
