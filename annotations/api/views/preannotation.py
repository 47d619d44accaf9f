"""Pre-annotation API: re-run on a selection, job state per article, training and models, plug-in choice.

Reads: any member of the project. Writes (re-run, train, choose the pre-annotator): editors and
managers; other members get 403, people outside the project 404.
"""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from annotations.api.base import ProjectScopedMixin
from annotations.api.permissions import has_role
from annotations.api.serializers.preannotation import (
    PreannotateRequestSerializer,
    PreannotationJobSerializer,
    PreannotatorChoiceSerializer,
    TrainedModelSerializer,
)
from annotations.models import Article, PreannotationJob, Project, TrainedModel
from annotations.preannotators.registry import AVAILABLE
from annotations.services.preannotation import preannotation_rerun, project_preannotator_set
from annotations.services.training import trained_model_request

EDITORS = ("editor", "manager")


class ProjectPreannotationViewSet(ProjectScopedMixin, viewsets.GenericViewSet):
    queryset = Project.objects.all()
    project_field = "self"
    serializer_class = PreannotateRequestSerializer

    def _project(self, *, write: bool) -> Project:
        project = self.get_object()
        if write and not has_role(self.request.user, project, *EDITORS):
            raise PermissionDenied("Only editors and managers of the project may do this.")
        return project

    @extend_schema(request=PreannotateRequestSerializer, responses={202: PreannotationJobSerializer(many=True)},
                   summary="Re-run pre-annotation on articles of the project")
    def preannotate(self, request, pk=None):
        project = self._project(write=True)
        data = PreannotateRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = set(data.validated_data["article_ids"])
        found = set(Article.objects.filter(project=project, id__in=ids).values_list("id", flat=True))
        if ids - found:
            raise ValidationError({"article_ids": [f"Not articles of this project: {sorted(ids - found)[:20]}"]})
        jobs = preannotation_rerun(articles=sorted(found), requested_by=request.user)
        return Response({"jobs": PreannotationJobSerializer(jobs, many=True).data}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: TrainedModelSerializer},
                   summary="Train a project model on approved articles (a worker job)")
    def train(self, request, pk=None):
        project = self._project(write=True)
        model = trained_model_request(project=project, requested_by=request.user)
        model.project = project
        return Response(TrainedModelSerializer(model).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: TrainedModelSerializer(many=True)}, summary="The project's trained models")
    def models(self, request, pk=None):
        project = self._project(write=False)
        models = list(TrainedModel.objects.filter(project=project).order_by("-version"))
        for m in models:
            m.project = project
        return Response(TrainedModelSerializer(models, many=True).data)

    @extend_schema(
        request=PreannotatorChoiceSerializer,
        responses={200: inline_serializer("PreannotatorState", {
            "preannotator": serializers.CharField(), "available": serializers.DictField(),
            "config": serializers.DictField(), "active_model_version": serializers.IntegerField(allow_null=True)})},
        summary="The project's pre-annotator (GET) or choose another one (PUT)",
    )
    def preannotator(self, request, pk=None):
        project = self._project(write=request.method != "GET")
        if request.method != "GET":
            data = PreannotatorChoiceSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            v = data.validated_data
            project = project_preannotator_set(project=project, name=v["preannotator"], config=v["config"],
                                               model_version=v["model_version"], check=v["check"])
        config = {k: v for k, v in (project.preannotator_config or {}).items() if k != "token"}
        if (project.preannotator_config or {}).get("token"):
            config["token"] = "***"
        active = project.active_model
        return Response({"preannotator": project.preannotator, "available": AVAILABLE, "config": config,
                         "active_model_version": active.version if active else None})


class ArticlePreannotationViewSet(ProjectScopedMixin, viewsets.GenericViewSet):
    queryset = Article.objects.select_related("project")
    project_field = "project"
    serializer_class = PreannotationJobSerializer

    @extend_schema(responses={200: inline_serializer("ArticlePreannotation", {
        "article": serializers.IntegerField(), "state": serializers.CharField(allow_null=True),
        "reason": serializers.CharField(), "jobs": PreannotationJobSerializer(many=True)})},
        summary="Pre-annotation state of an article: its jobs, newest first")
    def retrieve(self, request, pk=None):
        article = self.get_object()
        jobs = list(PreannotationJob.objects.filter(article=article).order_by("-created_at", "-id")[:50])
        latest = jobs[0] if jobs else None
        return Response({
            "article": article.id,
            "state": latest.status if latest else None,
            "reason": latest.error if latest else "",
            "jobs": PreannotationJobSerializer(jobs, many=True).data,
        })
