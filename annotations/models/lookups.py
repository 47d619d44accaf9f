"""`any_of`: a lookup like `__in` for long lists of ids.

`Span.objects.filter(assignment_id__any_of=ids)` is `assignment_id = ANY(%s)` with ONE array
parameter on PostgreSQL. An `__in` list of 500 ids has Django prepare each value and psycopg split
and convert a 500-placeholder query, about 5 ms a query: most of an export's query-building time.
Other databases (SQLite under `make run`) get the usual `IN (...)`.
"""

from django.db.models import ForeignKey, IntegerField, Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [int(v) for v in self.rhs]
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, values]
        if not values:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


IntegerField.register_lookup(AnyOf)
ForeignKey.register_lookup(AnyOf)
