"""Pages of the account area."""

urlpatterns = []
