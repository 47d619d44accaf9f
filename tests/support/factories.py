"""factory_boy factories. State changes in tests go through services; factories only build rows."""

import factory
from django.contrib.auth import get_user_model

from annotations.models import Membership
from annotations.services.articles import article_create
from annotations.services.projects import project_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def make_project(*, name="Test project", slug=None, preannotator="fallback", members=(), **kwargs):
    """A project with the default schema; `members` is a list of (user, role)."""
    project = project_create(name=name, slug=slug or "", preannotator=preannotator, **kwargs)
    for user, role in members:
        Membership.objects.get_or_create(project=project, user=user, role=role)
    return project


def make_article(project, text="The minister said 42 people died.", **kwargs):
    kwargs.setdefault("preannotate", False)
    return article_create(project=project, text=text, **kwargs)
