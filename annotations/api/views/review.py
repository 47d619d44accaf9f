"""Review workflow API: members, submit / approve / return / assign, distribution, agreement, progress.

Every view goes through ProjectScopedMixin: objects of projects the caller is not in answer 404;
a member without the needed role gets 403 (the services raise PermissionDenied).
"""

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from annotations.api.base import ProjectScopedMixin
from annotations.api.permissions import has_role
from annotations.api.serializers.review import (
    ApproveSerializer,
    ArticleStateSerializer,
    AssignSerializer,
    DistributeSerializer,
    MemberRolesSerializer,
    MemberSerializer,
    ReturnSerializer,
    ReviewDecisionSerializer,
)
from annotations.models import Article, Membership, Role
from annotations.selectors.review import project_agreement, project_progress
from annotations.services import members as member_services
from annotations.services import workflow
from annotations.services.errors import PermissionDenied

PROGRESS_ROLES = (Role.MANAGER, Role.EDITOR, Role.REVIEWER)


def _members(project):
    roles: dict[int, dict] = {}
    for user_id, username, role in (
        Membership.objects.filter(project=project).order_by("user__username", "role")
        .values_list("user_id", "user__username", "role")
    ):
        roles.setdefault(user_id, {"user": username, "user_id": user_id, "roles": []})["roles"].append(role)
    return list(roles.values())


class MemberViewSet(ProjectScopedMixin, viewsets.ViewSet):
    """`/api/projects/{id}/members/`: the project's members and their roles (managers only)."""

    permission_classes = [IsAuthenticated]

    def _project(self):
        project = self.get_project()
        if not has_role(self.request.user, project, Role.MANAGER):
            raise PermissionDenied("Only the project's managers manage its members.")
        return project

    def _user(self, pk):
        try:
            return get_user_model().objects.get(id=int(pk))
        except (get_user_model().DoesNotExist, ValueError) as exc:
            raise NotFound("No such user.") from exc

    @extend_schema(responses=MemberSerializer(many=True))
    def list(self, request, project_pk=None):
        return Response(_members(self._project()))

    @extend_schema(request=MemberSerializer, responses=MemberSerializer)
    def create(self, request, project_pk=None):
        """Add a member, or add roles to one: {"user": "alice", "roles": ["annotator"]}."""
        project = self._project()
        serializer = MemberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        current = set(Membership.objects.filter(project=project, user=user).values_list("role", flat=True))
        roles = member_services.member_set_roles(
            project=project, user=user, roles=current | set(serializer.validated_data["roles"]), actor=request.user
        )
        return Response({"user": user.username, "user_id": user.id, "roles": roles}, status=status.HTTP_201_CREATED)

    @extend_schema(responses=MemberSerializer)
    def retrieve(self, request, project_pk=None, pk=None):
        project = self._project()
        user = self._user(pk)
        roles = sorted(Membership.objects.filter(project=project, user=user).values_list("role", flat=True))
        if not roles:
            raise NotFound("Not a member.")
        return Response({"user": user.username, "user_id": user.id, "roles": roles})

    @extend_schema(request=MemberRolesSerializer, responses=MemberSerializer)
    def update(self, request, project_pk=None, pk=None):
        """Replace the member's roles."""
        project = self._project()
        user = self._user(pk)
        serializer = MemberRolesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        roles = member_services.member_set_roles(
            project=project, user=user, roles=serializer.validated_data["roles"], actor=request.user
        )
        return Response({"user": user.username, "user_id": user.id, "roles": roles})

    partial_update = update

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, project_pk=None, pk=None):
        project = self._project()
        member_services.member_remove(project=project, user=self._user(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ArticleWorkflowViewSet(ProjectScopedMixin, viewsets.GenericViewSet):
    """State-changing actions on one article."""

    queryset = Article.objects.select_related("project")
    serializer_class = ArticleStateSerializer

    def _state(self, article, extra=None, code=status.HTTP_200_OK):
        article.refresh_from_db()
        data = ArticleStateSerializer(article).data
        data.update(extra or {})
        return Response(data, status=code)

    @extend_schema(request=None, responses=ArticleStateSerializer)
    def submit(self, request, pk=None):
        """Submit the caller's own annotation of the article (also after a return)."""
        article = self.get_object()
        assignment = workflow.assignment_submit_for_article(article=article, user=request.user)
        return self._state(article, {"assignment": assignment.id, "assignment_status": assignment.status})

    @extend_schema(request=ApproveSerializer, responses=ReviewDecisionSerializer)
    def approve(self, request, pk=None):
        """Approve (reviewers, managers). Idempotent: approving twice changes the state once."""
        article = self.get_object()
        serializer = ApproveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = workflow.review_approve(article=article, user=request.user, **serializer.validated_data)
        return self._state(article, {"review": ReviewDecisionSerializer(decision).data})

    @extend_schema(request=ReturnSerializer, responses=ReviewDecisionSerializer)
    def return_(self, request, pk=None):
        """Return to the annotators with a comment (required)."""
        article = self.get_object()
        serializer = ReturnSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = workflow.review_return(article=article, user=request.user, **serializer.validated_data)
        return self._state(article, {"review": ReviewDecisionSerializer(decision).data})

    @extend_schema(request=None, responses=ArticleStateSerializer)
    def start_review(self, request, pk=None):
        """A reviewer takes the article: submitted -> in review."""
        article = self.get_object()
        review = workflow.review_start(article=article, user=request.user)
        return self._state(article, {"review_assignment": review.id})

    @extend_schema(request=AssignSerializer, responses=ArticleStateSerializer)
    def assign(self, request, pk=None):
        """Assign annotators by hand (editors, managers): {"users": ["alice", "bob"]}."""
        article = self.get_object()
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = workflow.assignments_assign(articles=[article], users=serializer.validated_data["users"],
                                              actor=request.user)
        return self._state(article, {"assigned": [a.user.username for a in created]})


class ProjectWorkflowViewSet(ProjectScopedMixin, viewsets.ViewSet):
    """Project-level figures and distribution."""

    permission_classes = [IsAuthenticated]

    def _project(self, *roles):
        project = self.get_project()
        if roles and not has_role(self.request.user, project, *roles):
            raise PermissionDenied("Your role in this project does not allow this.")
        return project

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def agreement(self, request, project_pk=None):
        """Pairwise span F1 (exact, overlap) and token kappa, per label and per annotator pair; link
        (CLAIM -> SOURCE) F1, exact and overlap (null where neither annotator drew a link)."""
        return Response(project_agreement(project=self._project(*PROGRESS_ROLES)))

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def progress(self, request, project_pk=None):
        """Counts by status, per annotator and per label."""
        return Response(project_progress(project=self._project(*PROGRESS_ROLES)))

    @extend_schema(request=DistributeSerializer, responses=OpenApiTypes.OBJECT)
    def distribute(self, request, project_pk=None):
        """Round-robin the open articles (or the given ones) over the project's annotators."""
        project = self._project()
        serializer = DistributeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = workflow.assignments_distribute(
            project=project, articles=serializer.validated_data.get("articles"), actor=request.user
        )
        return Response({"created": len(created),
                         "assignments": [{"article": a.article_id, "user": a.user_id} for a in created]})
