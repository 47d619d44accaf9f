"""API routes of the preannotation area. See annotations/api/views/preannotation.py."""

from django.urls import path

from annotations.api.views.preannotation import ArticlePreannotationViewSet, ProjectPreannotationViewSet

P = ProjectPreannotationViewSet

urlpatterns = [
    path("projects/<int:pk>/preannotate/", P.as_view({"post": "preannotate"}), name="project-preannotate"),
    path("projects/<int:pk>/train/", P.as_view({"post": "train"}), name="project-train"),
    path("projects/<int:pk>/models/", P.as_view({"get": "models"}), name="project-models"),
    path("projects/<int:pk>/preannotator/", P.as_view({"get": "preannotator", "put": "preannotator"}),
         name="project-preannotator"),
    path("articles/<int:pk>/preannotation/", ArticlePreannotationViewSet.as_view({"get": "retrieve"}),
         name="article-preannotation"),
]
