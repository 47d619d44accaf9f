"""The REST API: thin DRF views over services and selectors. Every queryset is scoped per user."""
