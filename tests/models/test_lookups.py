"""The any_of lookup: the same rows as __in, as one array parameter on PostgreSQL and IN (...) elsewhere."""

from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper

from annotations.models import Article
from tests.support.factories import make_article


def test_any_of_selects_what_in_selects(project):
    ids = [make_article(project, text=f"Text {i}.").id for i in range(5)]
    wanted = [ids[0], ids[3], 10**12]  # an id that does not exist, beyond int4
    assert sorted(Article.objects.filter(id__any_of=wanted).values_list("id", flat=True)) == [ids[0], ids[3]]
    assert sorted(Article.objects.filter(project_id__any_of=[project.id]).values_list("id", flat=True)) == ids
    assert not Article.objects.filter(id__any_of=[]).exists()
    sql, params = Article.objects.filter(id__any_of=wanted).query.sql_with_params()
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and wanted in params  # one parameter, whatever the number of ids


def test_any_of_is_in_on_sqlite():
    sqlite = SQLiteWrapper({"NAME": ":memory:", "ENGINE": "django.db.backends.sqlite3", "OPTIONS": {},
                            "TIME_ZONE": None, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False,
                            "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False, "TEST": {}})
    query = Article.objects.filter(id__any_of=[3, 5]).query
    sql, params = query.get_compiler(connection=sqlite).as_sql()
    assert " IN (%s, %s)" in sql and params[-2:] == (3, 5)
    sql, _ = Article.objects.filter(id__any_of=[]).query.get_compiler(connection=sqlite).as_sql()
    assert "1 = 0" in sql
