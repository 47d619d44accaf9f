from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(("annotations.api.urls", "api"), namespace="api")),
    path("", include(("annotations.web.urls", "web"), namespace="web")),
]
