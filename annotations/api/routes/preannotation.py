"""API routes of the preannotation area."""

urlpatterns = []
