"""API routes. Each area keeps its routes in annotations/api/routes/<area>.py; this file joins them."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from annotations.api.routes import accounts, articles, exports, preannotation, review, workspace
from annotations.api.views.projects import ProjectViewSet

router = DefaultRouter()
router.register("projects", ProjectViewSet, basename="project")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script under our CSP.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="annotations/api/swagger_ui.html"),
        name="docs",
    ),
    *accounts.urlpatterns,
    *articles.urlpatterns,
    *workspace.urlpatterns,
    *preannotation.urlpatterns,
    *review.urlpatterns,
    *exports.urlpatterns,
    path("", include(router.urls)),
]
