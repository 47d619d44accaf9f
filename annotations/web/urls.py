"""Pages. Each area keeps its pages in annotations/web/<area>.py; this file joins their routes."""

from django.urls import path

from annotations.web import account, review, security, views, workspace

urlpatterns = [
    path("", views.home, name="home"),
    *workspace.urlpatterns,
    *review.urlpatterns,
    *account.urlpatterns,
    *security.urlpatterns,
]
