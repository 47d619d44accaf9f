"""Annotator pages: My queue, Next article, the annotate page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import path


@login_required
def queue(request):  # replaced by the workspace area
    return redirect("admin:index")


urlpatterns = [
    path("queue/", queue, name="queue"),
]
