"""Deleting a project takes its articles and spans with it; a label in use cannot be deleted alone."""

import pytest
from django.db.models import RestrictedError

from annotations.models import LabelType, Project, Span
from annotations.services.workflow import assignment_next
from tests.support.factories import make_article


def _span(project, annotator):
    article = make_article(project, text="Officials said 42 people died.")
    assignment = assignment_next(user=annotator, project=project)
    label = LabelType.objects.get(project=project, name="SOURCE")
    return Span.objects.create(article=article, assignment=assignment, label=label, start=0, end=9, text="Officials")


def test_project_with_spans_can_be_deleted(project, annotator):
    _span(project, annotator)
    project.delete()
    assert not Project.objects.filter(id=project.id).exists()
    assert not Span.objects.exists()


def test_label_in_use_cannot_be_deleted_on_its_own(project, annotator):
    span = _span(project, annotator)
    with pytest.raises(RestrictedError):
        span.label.delete()
    assert Span.objects.filter(id=span.id).exists()
