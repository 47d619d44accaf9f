from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from annotations.web.health import healthz

admin.site.site_header = "Newsroom annotations"
admin.site.site_title = "Newsroom annotations"
admin.site.index_title = "Projects, articles and annotations"

# Everyone logs in through Django's own login view in the admin look; staff status is not needed.
login_view = auth_views.LoginView.as_view(
    template_name="admin/login.html",
    redirect_authenticated_user=True,
    extra_context={"site_header": admin.site.site_header, "site_title": admin.site.site_title, "title": "Log in"},
)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=static("annotations/favicon.svg"), permanent=True)),
    path("accounts/login/", login_view, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include(("annotations.api.urls", "api"), namespace="api")),
    path("", include(("annotations.web.urls", "web"), namespace="web")),
]
