"""API routes of the articles area."""

from django.urls import path

from annotations.api.views.articles import ArticleViewSet, ImportJobViewSet, ProjectArticleViewSet

urlpatterns = [
    path("projects/<int:project_pk>/articles/",
         ProjectArticleViewSet.as_view({"get": "list", "post": "create"}), name="project-articles"),
    path("projects/<int:project_pk>/articles/import/",
         ProjectArticleViewSet.as_view({"post": "import_files"}), name="project-articles-import"),
    path("articles/<int:pk>/", ArticleViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
         name="article-detail"),
    path("import-jobs/<int:pk>/", ImportJobViewSet.as_view({"get": "retrieve"}), name="import-job-detail"),
]
