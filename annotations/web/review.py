"""Pages of the review area."""

urlpatterns = []
