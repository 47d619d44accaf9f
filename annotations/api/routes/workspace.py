"""API routes of the workspace area."""

urlpatterns = []
