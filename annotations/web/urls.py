from django.urls import path

from annotations.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("queue/", views.home, name="queue"),
]
