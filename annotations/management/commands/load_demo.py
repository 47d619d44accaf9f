"""Load a demo project with articles and one user per role. Safe to run again."""

import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from annotations.demo.articles import DEMO_ARTICLES
from annotations.models import Article, Project, Role
from annotations.services.articles import article_create, text_hash
from annotations.services.projects import membership_add, project_create
from annotations.text.normalize import normalize_text

DEMO_USERS = [
    # username, password, roles, superuser
    ("admin", "admin-demo-pass", [], True),
    ("manager", "manager-demo-pass", [Role.MANAGER, Role.EDITOR], False),
    ("editor", "editor-demo-pass", [Role.EDITOR], False),
    ("annotator", "annotator-demo-pass", [Role.ANNOTATOR], False),
    ("annotator2", "annotator2-demo-pass", [Role.ANNOTATOR], False),
    ("reviewer", "reviewer-demo-pass", [Role.REVIEWER], False),
]


class Command(BaseCommand):
    help = "Create the demo project, its articles and demo users (one per role), and print their logins."

    def add_arguments(self, parser):
        parser.add_argument("--no-preannotate", action="store_true", help="Do not queue pre-annotation.")

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        users = {}
        for username, password, roles, superuser in DEMO_USERS:
            # annotators work in the annotate page; the admin is for the other roles
            staff = superuser or any(role != Role.ANNOTATOR for role in roles)
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.org", "is_staff": staff}
            )
            if created:
                user.set_password(password)
                user.is_superuser = superuser
                user.save()
            users[username] = user
        project = Project.objects.filter(slug="wire-desk-demo").first()
        if project is None:
            project = project_create(name="Wire desk demo", slug="wire-desk-demo", created_by=users["manager"],
                                     guidelines="Mark every check-worthy CLAIM and the SOURCE it is attributed to.")
        for username, _password, roles, _superuser in DEMO_USERS:
            for role in roles:
                membership_add(project=project, user=users[username], role=role)
        added = 0
        for spec in DEMO_ARTICLES:
            if Article.objects.filter(project=project, text_hash=text_hash(normalize_text(spec["text"]))).exists():
                continue
            article_create(
                project=project, text=spec["text"], title=spec["title"], outlet=spec["outlet"],
                author=spec["author"], published_at=datetime.date.fromisoformat(spec["published_at"]),
                created_by=users["editor"], preannotate=not options["no_preannotate"],
            )
            added += 1
        self.stdout.write(self.style.SUCCESS(f"Demo project '{project.name}': {added} new articles."))
        self.stdout.write("Demo logins (http://127.0.0.1:8000/admin/):")
        for username, password, roles, superuser in DEMO_USERS:
            what = "superuser" if superuser else ", ".join(roles)
            self.stdout.write(f"  {username:<11} {password:<22} {what}")
