"""API routes of the articles area."""

urlpatterns = []
