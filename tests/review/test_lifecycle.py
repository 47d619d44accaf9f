"""The article life cycle: annotate, submit, review, return with a comment, re-submit, approve."""

import pytest
from django.core.exceptions import ValidationError

from annotations.models import ArticleEvent, ArticleStatus, AssignmentKind, AssignmentStatus, Review, Span
from annotations.selectors.review import return_comment_for_assignment
from annotations.services.review import review_take_all
from annotations.services.workflow import (
    assignment_next,
    assignment_submit,
    review_approve,
    review_return,
    review_start,
)
from tests.review.helpers import annotate_and_submit, mark

pytestmark = pytest.mark.django_db


def test_full_life_cycle_with_return_and_resubmit(project, annotator, reviewer):
    article, slots = annotate_and_submit(project, {annotator: [("CLAIM", 0, 32)]})
    assert article.status == ArticleStatus.SUBMITTED

    review = review_start(article=article, user=reviewer)
    article.refresh_from_db()
    assert article.status == ArticleStatus.IN_REVIEW
    assert review.kind == AssignmentKind.REVIEW
    # one annotator: the review layer starts as their version
    assert list(Span.objects.filter(assignment=review).values_list("start", "end")) == [(0, 32)]

    with pytest.raises(ValidationError):
        review_return(article=article, user=reviewer, comment="   ")
    review_return(article=article, user=reviewer, comment="Mark the police claim too.")
    article.refresh_from_db()
    slot = slots[annotator]
    slot.refresh_from_db()
    assert article.status == ArticleStatus.RETURNED
    assert slot.status == AssignmentStatus.RETURNED
    assert return_comment_for_assignment(assignment=slot).comment == "Mark the police claim too."

    # the annotator gets the returned article back from "next article", fixes and re-submits
    again = assignment_next(user=annotator, project=project)
    assert again.id == slot.id
    mark(again, "CLAIM", 34, 66)
    assignment_submit(assignment=again, user=annotator)
    article.refresh_from_db()
    assert article.status == ArticleStatus.SUBMITTED

    review_start(article=article, user=reviewer)
    review_take_all(article=article, source=again, user=reviewer)
    decision = review_approve(article=article, user=reviewer)
    article.refresh_from_db()
    assert article.status == ArticleStatus.APPROVED
    assert decision.decision == "approved"
    assert sorted(Span.objects.filter(assignment=review).values_list("start", "end")) == [(0, 32), (34, 66)]
    again.refresh_from_db()
    assert again.status == AssignmentStatus.DONE

    statuses = [e.after["status"] for e in ArticleEvent.objects.filter(article=article, kind="status")]
    assert statuses == ["in_annotation", "submitted", "in_review", "returned", "submitted", "in_review", "approved"]


def test_approve_is_idempotent(project, annotator, reviewer):
    article, _ = annotate_and_submit(project, {annotator: [("CLAIM", 0, 32)]})
    first = review_approve(article=article, user=reviewer)
    second = review_approve(article=article, user=reviewer)
    assert first.id == second.id
    assert Review.objects.filter(article=article).count() == 1
    assert ArticleEvent.objects.filter(article=article, kind="status", after__status="approved").count() == 1


def test_cannot_review_before_submission_or_after_approval(project, annotator, reviewer):
    from tests.support.factories import make_article

    done, _ = annotate_and_submit(project, {annotator: []}, text="A second text.")
    review_approve(article=done, user=reviewer)
    with pytest.raises(ValidationError):
        review_return(article=done, user=reviewer, comment="too late")
    article = make_article(project, text="Nothing submitted here yet.")
    with pytest.raises(ValidationError):
        review_start(article=article, user=reviewer)
    with pytest.raises(ValidationError):
        review_approve(article=article, user=reviewer)


def test_two_annotators_article_is_submitted_only_when_both_are_in(project, annotator, annotator2, reviewer):
    project.annotators_per_article = 2
    project.save()
    from tests.support.factories import make_article

    article = make_article(project, text="The minister said 42 people died.")
    a = assignment_next(user=annotator, project=project)
    b = assignment_next(user=annotator2, project=project)
    assert a.article_id == b.article_id == article.id
    assignment_submit(assignment=a, user=annotator)
    article.refresh_from_db()
    assert article.status == ArticleStatus.IN_ANNOTATION
    assignment_submit(assignment=b, user=annotator2)
    article.refresh_from_db()
    assert article.status == ArticleStatus.SUBMITTED


def test_status_changes_follow_the_life_cycle(project, annotator, reviewer):
    """article_status_set refuses a jump the life cycle does not have (approved -> in annotation,
    new -> approved), changes nothing, and records nothing."""
    from annotations.services.workflow import ARTICLE_TRANSITIONS, article_status_set
    from tests.support.factories import make_article

    approved, _ = annotate_and_submit(project, {annotator: [("CLAIM", 0, 12)]})
    review_approve(article=approved, user=reviewer)
    approved.refresh_from_db()
    with pytest.raises(ValidationError, match="cannot become in annotation"):
        article_status_set(article=approved, status=ArticleStatus.IN_ANNOTATION, actor=reviewer)
    approved.refresh_from_db()
    assert approved.status == ArticleStatus.APPROVED

    article = make_article(project, text="The minister said prices rose by 4 percent.")
    events = ArticleEvent.objects.filter(article=article).count()
    with pytest.raises(ValidationError, match="cannot become approved"):
        article_status_set(article=article, status=ArticleStatus.APPROVED, actor=reviewer)
    article.refresh_from_db()
    assert article.status == ArticleStatus.NEW
    assert ArticleEvent.objects.filter(article=article).count() == events
    # every status has a row, and approved is final
    assert set(ARTICLE_TRANSITIONS) == set(ArticleStatus.values)
    assert ARTICLE_TRANSITIONS[ArticleStatus.APPROVED] == frozenset()
