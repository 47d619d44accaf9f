"""API routes of the review area."""

from django.urls import path

from annotations.api.views.review import ArticleWorkflowViewSet, MemberViewSet, ProjectWorkflowViewSet

members = MemberViewSet.as_view({"get": "list", "post": "create"})
member = MemberViewSet.as_view({"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"})


def _article(action):
    return ArticleWorkflowViewSet.as_view({"post": action})


urlpatterns = [
    path("projects/<int:project_pk>/members/", members, name="project-members"),
    path("projects/<int:project_pk>/members/<int:pk>/", member, name="project-member"),
    path("projects/<int:project_pk>/agreement/", ProjectWorkflowViewSet.as_view({"get": "agreement"}),
         name="project-agreement"),
    path("projects/<int:project_pk>/progress/", ProjectWorkflowViewSet.as_view({"get": "progress"}),
         name="project-progress"),
    path("projects/<int:project_pk>/distribute/", ProjectWorkflowViewSet.as_view({"post": "distribute"}),
         name="project-distribute"),
    path("articles/<int:pk>/submit/", _article("submit"), name="article-submit"),
    path("articles/<int:pk>/approve/", _article("approve"), name="article-approve"),
    path("articles/<int:pk>/return/", _article("return_"), name="article-return"),
    path("articles/<int:pk>/start-review/", _article("start_review"), name="article-start-review"),
    path("articles/<int:pk>/assign/", _article("assign"), name="article-assign"),
]
