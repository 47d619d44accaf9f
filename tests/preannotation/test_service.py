"""Pre-annotation jobs run in-process (the worker's entry point, minus the broker): the storage rules."""

import pytest
from django.db import transaction

from annotations.models import (
    Article,
    Assignment,
    JobStatus,
    Origin,
    PreannotationJob,
    Relation,
    Span,
    SuggestionState,
)
from annotations.preannotators.base import PreannotatorError, Prediction
from annotations.services import preannotation as svc
from annotations.services.spans import span_create, suggestion_accept, suggestion_reject
from annotations.services.workflow import assignments_assign
from tests.support.factories import make_article

TEXT = ('Officials said 42 people died in the floods. "We will rebuild," the mayor told reporters. '
        'According to the police, 300 homes were destroyed.')


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(svc, "preannotation_job_enqueue",
                        lambda job_id, countdown=None: calls.append((job_id, countdown)) or True)
    monkeypatch.setattr(svc, "preannotation_jobs_enqueue",
                        lambda job_ids, countdown=None: calls.extend((j, countdown) for j in job_ids) or job_ids)
    return calls


def _job(article):
    return PreannotationJob.objects.create(article=article, preannotator=article.project.preannotator,
                                           text_hash=article.text_hash)


def machine(article):
    return Span.objects.filter(article=article, assignment__isnull=True, origin=Origin.MACHINE)


def test_run_stores_suggestions_with_confidence_name_and_version(project):
    article = make_article(project, TEXT)
    job = _job(article)
    [done] = svc.preannotation_run(job_id=job.id, delivery="d1")
    assert done.status == JobStatus.DONE and done.attempts == 1 and done.claim == ""
    spans = list(machine(article))
    assert len(spans) == done.span_count > 0
    assert {s.label.name for s in spans} == {"CLAIM", "SOURCE"}
    for s in spans:
        assert s.state == SuggestionState.PENDING and 0 <= s.confidence <= 1
        assert s.preannotator == "fallback" and s.model_version == done.model_version != ""
        assert s.text == article.text[s.start:s.end] and s.job_id == job.id
    rels = Relation.objects.filter(article=article, assignment__isnull=True)
    assert rels.exists() and all(r.from_span.label.name == "CLAIM" and r.to_span.label.name == "SOURCE" for r in rels)
    article.refresh_from_db()
    assert article.status == "preannotated"
    # the worker also filled the export token cache for this text
    from annotations.exporters.tokenize import text_digest, tokenizer_id
    from annotations.models import ArticleTokens

    cache = ArticleTokens.objects.get(article=article)
    assert cache.text_hash == text_digest(article.text) and cache.tokenizer == tokenizer_id()


def test_running_twice_leaves_one_set(project):
    article = make_article(project, TEXT)
    first = svc.preannotation_run(job_id=_job(article).id)[0]
    before = sorted(machine(article).values_list("start", "end", "label__name"))
    second = svc.preannotation_run(job_id=_job(article).id)[0]
    after = sorted(machine(article).values_list("start", "end", "label__name"))
    assert before == after and len(after) == second.span_count == first.span_count
    assert set(machine(article).values_list("job_id", flat=True)) == {second.id}
    assert Relation.objects.filter(article=article, assignment__isnull=True).count() == \
        Relation.objects.filter(job=second).count() > 0


def test_same_delivery_twice_after_done_is_a_no_op(project):
    article = make_article(project, TEXT)
    job = _job(article)
    svc.preannotation_run(job_id=job.id, delivery="d1")
    ids = set(machine(article).values_list("id", flat=True))
    assert svc.preannotation_run(job_id=job.id, delivery="d1") == []
    assert set(machine(article).values_list("id", flat=True)) == ids
    assert PreannotationJob.objects.get(id=job.id).attempts == 1


@pytest.fixture
def layer(project, editor, annotator):
    article = make_article(project, TEXT)
    [assignment] = assignments_assign(articles=[article], users=[annotator], actor=editor)
    return article, assignment


def test_rerun_keeps_human_spans_and_decisions(layer, annotator):
    article, assignment = layer
    svc.preannotation_run(job_id=_job(article).id)
    suggestions = list(machine(article).order_by("start"))
    accepted, rejected = suggestions[0], suggestions[1]
    v = Assignment.objects.get(id=assignment.id).version
    v = suggestion_accept(assignment_id=assignment.id, user=annotator, suggestion_id=accepted.id,
                          expected_version=v).version
    v = suggestion_reject(assignment_id=assignment.id, user=annotator, suggestion_id=rejected.id,
                          expected_version=v).version
    start = TEXT.index("reporters")
    human = span_create(assignment_id=assignment.id, user=annotator, label="SOURCE", start=start, end=start + 9,
                        text="reporters", expected_version=v).span
    layer_before = sorted(Span.objects.filter(assignment=assignment).values_list(
        "id", "start", "end", "label__name", "state", "origin", "text"))

    svc.preannotation_run(job_id=_job(article).id)

    layer_after = sorted(Span.objects.filter(assignment=assignment).values_list(
        "id", "start", "end", "label__name", "state", "origin", "text"))
    assert layer_after == layer_before  # nothing in the person's layer changed
    assert Span.objects.get(id=human.id).origin == Origin.HUMAN
    # the decisions follow the suggestions that came back: still accepted / rejected, not pending again
    new_accepted = machine(article).get(start=accepted.start, end=accepted.end, label=accepted.label)
    new_rejected = machine(article).get(start=rejected.start, end=rejected.end, label=rejected.label)
    assert new_accepted.id != accepted.id
    decision = Span.objects.get(assignment=assignment, from_suggestion=new_accepted)
    assert decision.state == SuggestionState.ACCEPTED and decision.preannotator == "fallback"
    assert Span.objects.get(assignment=assignment, from_suggestion=new_rejected).state == SuggestionState.REJECTED


def test_accepted_suggestion_survives_when_the_rerun_drops_it(layer, annotator, monkeypatch):
    article, assignment = layer
    svc.preannotation_run(job_id=_job(article).id)
    suggestion = machine(article).order_by("start").first()
    suggestion_accept(assignment_id=assignment.id, user=annotator, suggestion_id=suggestion.id,
                      expected_version=Assignment.objects.get(id=assignment.id).version)

    class Empty:
        name, version = "empty", "0"

        def predict(self, texts, labels):
            return [Prediction([], [], "empty", "0") for _ in texts]

    monkeypatch.setattr(svc, "preannotator_for_project", lambda project: Empty())
    done = svc.preannotation_run(job_id=_job(article).id)[0]
    assert done.status == JobStatus.DONE and not machine(article).exists()
    kept = Span.objects.get(assignment=assignment)
    assert kept.state == SuggestionState.ACCEPTED and kept.origin == Origin.MACHINE
    assert (kept.start, kept.end, kept.preannotator) == (suggestion.start, suggestion.end, "fallback")


def test_result_dropped_when_text_changed_meanwhile(project, monkeypatch, django_capture_on_commit_callbacks, sent):
    article = make_article(project, TEXT)
    job = _job(article)
    real = svc._predict

    def edit_during_prediction(plugin, texts, labels):
        result = real(plugin, texts, labels)
        Article.objects.filter(id=article.id).update(text=TEXT + " More.", text_hash="changed")  # a concurrent edit
        return result

    monkeypatch.setattr(svc, "_predict", edit_during_prediction)
    with django_capture_on_commit_callbacks(execute=True):
        [dropped] = svc.preannotation_run(job_id=job.id)
    assert dropped.status == JobStatus.FAILED and "text changed" in dropped.error
    assert not machine(article).exists()
    fresh = PreannotationJob.objects.get(article=article, status=JobStatus.QUEUED)
    assert fresh.text_hash == "changed" and sent == [(fresh.id, None)]


def test_batch_claims_queued_jobs_of_the_project_and_isolates_a_failure(project, monkeypatch, settings):
    settings.NEWSROOM = {**settings.NEWSROOM, "PREANNOTATION_BATCH_SIZE": 4}
    articles = [make_article(project, f"{TEXT} Number {i} said the minister.") for i in range(5)]
    bad = make_article(project, "POISON. The minister said 42 people died in the floods.")
    jobs = [_job(a) for a in articles[:2]] + [_job(bad)] + [_job(a) for a in articles[2:]]
    calls = []
    real = svc._predict

    def flaky(plugin, texts, labels):
        calls.append(len(texts))
        if any(t.startswith("POISON") for t in texts):
            raise PreannotatorError("model crashed on this text")
        return real(plugin, texts, labels)

    monkeypatch.setattr(svc, "_predict", flaky)
    done = svc.preannotation_run(job_id=jobs[1].id, delivery="batch-1")
    assert [j.id for j in done] == [jobs[1].id, jobs[0].id, jobs[2].id, jobs[3].id]  # head first, then by id
    assert calls == [4, 1, 1, 1, 1]  # one batch call, then one at a time to isolate the failure
    states = {j.id: j.status for j in PreannotationJob.objects.all()}
    assert states[jobs[2].id] == JobStatus.FAILED
    assert [states[j.id] for j in (jobs[0], jobs[1], jobs[3])] == [JobStatus.DONE] * 3
    assert [states[j.id] for j in jobs[4:]] == [JobStatus.QUEUED] * 2  # beyond the batch size
    assert PreannotationJob.objects.get(id=jobs[2].id).error == "model crashed on this text"


def test_running_job_of_another_delivery_is_left_alone_but_redelivery_takes_it_back(project):
    article = make_article(project, TEXT)
    job = _job(article)
    claimed = svc.preannotation_claim(job_id=job.id, delivery="first")
    assert [j.id for j in claimed] == [job.id]
    assert svc.preannotation_run(job_id=job.id, delivery="other") == []  # busy elsewhere
    [done] = svc.preannotation_run(job_id=job.id, delivery="first")  # the same message again: worker died
    assert done.status == JobStatus.DONE and done.attempts == 2
    assert machine(article).count() == done.span_count


def test_unexpected_errors_are_retried_then_fail_with_the_reason(project, monkeypatch, sent,
                                                                 django_capture_on_commit_callbacks):
    article = make_article(project, TEXT)
    job = _job(article)

    def boom(plugin, texts, labels):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(svc, "_predict", boom)
    for attempt in (1, 2):
        with django_capture_on_commit_callbacks(execute=True):
            [j] = svc.preannotation_run(job_id=job.id, delivery=f"d{attempt}")
        assert j.status == JobStatus.QUEUED and j.attempts == attempt and "out of memory" in j.error
        assert sent[-1] == (job.id, 2 ** attempt)  # re-sent with a back-off
    [j] = svc.preannotation_run(job_id=job.id, delivery="d3")
    assert j.status == JobStatus.FAILED and j.attempts == 3
    assert j.error == "Failed 3 times; last error: RuntimeError: out of memory"
    article.refresh_from_db()
    assert article.status == "preannotation_failed"
    # an editor retries: a new job
    with django_capture_on_commit_callbacks(execute=True):
        [again] = svc.preannotation_rerun(articles=[article])
    assert again.id != job.id and again.status == JobStatus.QUEUED and sent[-1] == (again.id, None)


def test_permanent_error_fails_at_once(project, monkeypatch):
    article = make_article(project, TEXT)
    job = _job(article)
    monkeypatch.setattr(svc, "preannotator_for_project",
                        lambda p: (_ for _ in ()).throw(PreannotatorError("spaCy pipeline 'x' is not installed")))
    [j] = svc.preannotation_run(job_id=job.id)
    assert j.status == JobStatus.FAILED and j.attempts == 1 and j.error == "spaCy pipeline 'x' is not installed"


def test_sweeper_resends_lost_and_revives_abandoned_jobs(project, settings, sent):
    from datetime import timedelta

    from django.utils import timezone

    settings.NEWSROOM = {**settings.NEWSROOM, "PREANNOTATION_STALE_AFTER": 60, "PREANNOTATION_REQUEUE_AFTER": 60}
    a, b, c, d, e = (make_article(project, f"{TEXT} {i}") for i in range(5))
    never_sent = _job(a)
    sent_long_ago = _job(b)
    just_sent = _job(c)
    abandoned = _job(d)
    hopeless = _job(e)
    old = timezone.now() - timedelta(minutes=10)
    PreannotationJob.objects.filter(id=sent_long_ago.id).update(enqueued_at=old)
    PreannotationJob.objects.filter(id=just_sent.id).update(enqueued_at=timezone.now())
    PreannotationJob.objects.filter(id=abandoned.id).update(status="running", started_at=old, attempts=1, claim="x")
    PreannotationJob.objects.filter(id=hopeless.id).update(status="running", started_at=old, attempts=3, claim="y")
    result = svc.preannotation_jobs_sweep()
    assert result == {"requeued_running": 1, "resent_queued": 2, "sent": 3, "failed": 1}
    assert sorted(j for j, _ in sent) == sorted([never_sent.id, sent_long_ago.id, abandoned.id])
    assert PreannotationJob.objects.get(id=abandoned.id).status == JobStatus.QUEUED
    h = PreannotationJob.objects.get(id=hopeless.id)
    assert h.status == JobStatus.FAILED and h.error.startswith("Gave up after 3 attempts")


def test_rerun_reuses_the_active_job(project, sent, django_capture_on_commit_callbacks):
    article = make_article(project, TEXT)
    with django_capture_on_commit_callbacks(execute=True):
        first = svc.preannotation_rerun(articles=[article])
        second = svc.preannotation_rerun(articles=[article.id])
    assert [j.id for j in first] == [j.id for j in second]
    assert PreannotationJob.objects.filter(article=article).count() == 1


@pytest.mark.django_db(transaction=True)
def test_rerun_rolled_back_sends_nothing(project, sent):
    article = make_article(project, TEXT)
    with pytest.raises(RuntimeError), transaction.atomic():
        svc.preannotation_rerun(articles=[article])
        raise RuntimeError
    assert sent == [] and not PreannotationJob.objects.exists()


def test_a_batch_costs_a_fixed_number_of_queries(project, settings, django_assert_max_num_queries):
    settings.NEWSROOM = {**settings.NEWSROOM, "PREANNOTATION_BATCH_SIZE": 8}
    jobs = [_job(make_article(project, f"{TEXT} Number {i} said the minister.")) for i in range(8)]
    svc.preannotation_run(job_id=jobs[0].id, delivery="warm")  # loads the plug-in; first batch
    jobs = [_job(make_article(project, f"{TEXT} Second {i} said the minister.")) for i in range(8)]
    with django_assert_max_num_queries(23):  # 20, and 3 for the export token cache (lookup, texts, one upsert)
        done = svc.preannotation_run(job_id=jobs[0].id, delivery="counted")
    assert len(done) == 8 and {j.status for j in done} == {JobStatus.DONE}
    svc._FINISHED_HERE.clear()  # as in another worker process
    with django_assert_max_num_queries(1):  # a message for a job another batch has done: one look
        assert svc.preannotation_run(job_id=jobs[3].id, delivery="late") == []
