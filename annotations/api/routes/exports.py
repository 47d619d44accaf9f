"""API routes of the exports area."""

urlpatterns = []
