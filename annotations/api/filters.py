"""Filter backends shared by every API view: ordering and filtering are allowlisted.

DRF's `OrderingFilter` silently drops unknown fields and, without `ordering_fields`, allows
ordering by any serializer field (or by every model field with "__all__"). Ordering by a field
of a related model is an oracle: `?ordering=created_by__password` sorts rows by a column the
caller must never read, and the order leaks it one comparison at a time. So here:

- a view can be ordered only by the names in its own `ordering_fields` (a list written out on
  the view; "__all__" and the serializer fallback are refused);
- any other name in `?ordering=` is a 400 that lists the allowed ones, never a silent fallback;
- a view without `ordering_fields` takes no `?ordering=` at all (400 if given).

Filtering goes through django-filter's `DjangoFilterBackend`: only the fields a FilterSet declares
(or the view's `filterset_fields`) filter anything. Query parameters that are not declared are
ignored (they never reach the queryset), and an invalid value for a declared filter is a 400.
`filterset_fields = "__all__"` is refused, like "__all__" orderings.
"""

from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter


def allowed_ordering_fields(view) -> list[str]:
    fields = getattr(view, "ordering_fields", None)
    if fields is None:
        return []
    if isinstance(fields, str):
        raise ImproperlyConfigured(
            f"{view.__class__.__name__}.ordering_fields must list its fields explicitly, not {fields!r}."
        )
    return [item if isinstance(item, str) else item[0] for item in fields]


class StrictOrderingFilter(OrderingFilter):
    """`?ordering=` accepts only the view's explicit `ordering_fields`; anything else is a 400."""

    def get_valid_fields(self, queryset, view, context=None):
        return [(name, name) for name in allowed_ordering_fields(view)]

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params is None:
            return self.get_default_ordering(view)
        allowed = allowed_ordering_fields(view)
        terms = [term.strip() for term in params.split(",")]
        invalid = [term for term in terms if not term or term.lstrip("-") not in allowed]
        if invalid:
            hint = ", ".join(allowed) if allowed else "none: this list cannot be reordered"
            raise ValidationError({self.ordering_param: [f"Unknown ordering field {invalid[0]!r}. Allowed: {hint}."]})
        return terms

    def get_schema_operation_parameters(self, view):
        allowed = allowed_ordering_fields(view)
        if not allowed:
            return []
        values = [v for name in allowed for v in (name, f"-{name}")]
        return [{
            "name": self.ordering_param,
            "required": False,
            "in": "query",
            "description": "Comma-separated fields to order by; prefix with '-' for descending.",
            "schema": {"type": "string", "enum": values},
        }]


def check_filterset_fields(view) -> None:
    """Raise if a view opts into filtering on every model field."""
    if getattr(view, "filterset_fields", None) == "__all__":
        raise ImproperlyConfigured(f"{view.__class__.__name__}.filterset_fields must be explicit, not '__all__'.")


def validate_ordering_param(request, view) -> None:
    """400 if `?ordering=` names anything outside the view's `ordering_fields`.

    Called by the scoped base classes for every request, so a view that never runs the filter
    backends (a plain ViewSet or APIView) still refuses an ordering it would silently ignore."""
    StrictOrderingFilter().get_ordering(request, None, view)
