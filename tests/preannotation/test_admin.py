"""Admin: pre-annotator choice on the project form, train action, re-run action."""

from annotations.models import PreannotationJob, TrainedModel


def test_project_form_offers_the_plugins(project, admin_client):
    page = admin_client.get(f"/admin/annotations/project/{project.id}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    for name in ("builtin", "fallback", "trained", "ml_backend"):
        assert f'value="{name}"' in html


def test_train_action_refuses_without_approved_articles(project, admin_client):
    r = admin_client.post("/admin/annotations/project/", {"action": "train_preannotator_model",
                                                          "_selected_action": [project.id]}, follow=True)
    assert r.status_code == 200 and "at least 5 approved articles" in r.content.decode()
    assert not TrainedModel.objects.exists()


def test_rerun_action_queues_jobs_after_commit(project, admin_client, monkeypatch,
                                               django_capture_on_commit_callbacks):
    from annotations.services import preannotation as svc
    from tests.support.factories import make_article

    sent = []
    monkeypatch.setattr(svc, "preannotation_job_enqueue", lambda job_id, countdown=None: sent.append(job_id))
    a, b = make_article(project, "The minister said so."), make_article(project, "Police said 3 died.")
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client.post("/admin/annotations/article/", {"action": "rerun_preannotation",
                                                              "_selected_action": [a.id, b.id]}, follow=True)
    assert r.status_code == 200 and "Re-run: 2 job(s) queued" in r.content.decode()
    assert sorted(sent) == sorted(PreannotationJob.objects.values_list("id", flat=True))
