"""Assignment: "next article" under concurrency (threads against PostgreSQL), round-robin
distribution, and assignment by hand."""

import threading
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from annotations.models import Assignment as A
from annotations.models import AssignmentKind, AssignmentPolicy, Membership, Role
from annotations.services.workflow import (
    assignment_next,
    assignment_submit,
    assignments_assign,
    assignments_distribute,
)
from tests.support.factories import UserFactory, make_article, make_project
from tests.support.services import require_postgres


def _run_threads(n, target):
    barrier = threading.Barrier(n)
    errors = []

    def run(i):
        try:
            barrier.wait()
            target(i)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_next_article_never_hands_a_slot_twice():
    require_postgres()
    users = [UserFactory(username=f"ann{i}") for i in range(8)]
    project = make_project(name="Race", slug="race", annotators_per_article=2,
                           members=[(u, Role.ANNOTATOR) for u in users])
    articles = [make_article(project, text=f"Article number {i} says something.") for i in range(6)]
    handed = []  # (user, article) for every slot handed out
    lock = threading.Lock()

    def work(i):
        user = users[i]
        while True:
            assignment = assignment_next(user=user, project=project)
            if assignment is None:
                return
            with lock:
                handed.append((user.id, assignment.article_id))
            assignment_submit(assignment=assignment, user=user)

    errors = _run_threads(8, work)
    assert errors == []
    assert len(handed) == len(set(handed)) == 12  # 6 articles x 2 slots, none handed twice
    per_article = Counter(a for _, a in handed)
    assert per_article == {a.id: 2 for a in articles}
    assert A.objects.filter(kind=AssignmentKind.ANNOTATION).count() == 12


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_annotator_clicking_twice_at_once_gets_one_slot():
    require_postgres()
    user = UserFactory(username="clicker")
    project = make_project(name="Double", slug="double", members=[(user, Role.ANNOTATOR)])
    for i in range(3):
        make_article(project, text=f"Text {i} for the double click.")
    got = []

    def work(_):
        got.append(assignment_next(user=user, project=project).id)

    assert _run_threads(4, work) == []
    assert len(set(got)) == 1
    assert A.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_round_robin_distribution_and_next_only_returns_preassigned_work(editor):
    anns = [UserFactory(username=f"rr{i}") for i in range(3)]
    project = make_project(name="RR", slug="rr", annotators_per_article=2,
                           assignment_policy=AssignmentPolicy.ROUND_ROBIN,
                           members=[(editor, Role.EDITOR), *[(u, Role.ANNOTATOR) for u in anns]])
    articles = [make_article(project, text=f"Round robin text {i}.") for i in range(3)]
    # round-robin projects hand out nothing that was not distributed
    assert assignment_next(user=anns[0], project=project) is None
    created = assignments_distribute(project=project, actor=editor)
    assert len(created) == 6
    per_user = Counter(a.user_id for a in created)
    assert sorted(per_user.values()) == [2, 2, 2]
    per_article = Counter(a.article_id for a in created)
    assert per_article == {a.id: 2 for a in articles}
    # a second run has nothing to do
    assert assignments_distribute(project=project, actor=editor) == []
    mine = assignment_next(user=anns[0], project=project)
    assert mine is not None and mine.user_id == anns[0].id


@pytest.mark.django_db
def test_distribution_needs_an_editor(project, annotator, reviewer):
    make_article(project)
    from django.core.exceptions import PermissionDenied

    for user in (annotator, reviewer):
        with pytest.raises(PermissionDenied):
            assignments_distribute(project=project, actor=user)


@pytest.mark.django_db
def test_manual_assignment_respects_roles_and_the_cap(project, editor, annotator, annotator2, reviewer):
    article = make_article(project)
    with pytest.raises(ValidationError):  # one annotator per article by default
        assignments_assign(articles=[article], users=[annotator, annotator2], actor=editor)
    assert not A.objects.filter(article=article).exists()  # all or nothing
    with pytest.raises(ValidationError):  # a reviewer is not an annotator
        assignments_assign(articles=[article], users=[reviewer], actor=editor)
    created = assignments_assign(articles=[article], users=[annotator2], actor=editor)
    assert [a.user_id for a in created] == [annotator2.id]
    article.refresh_from_db()
    assert article.status == "in_annotation"
    assert assignment_next(user=annotator2, project=project).article_id == article.id
    assert Membership.objects.filter(project=project, user=annotator2, role=Role.ANNOTATOR).exists()
