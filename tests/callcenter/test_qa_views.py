"""The QA pages: who may open what, the scoring sheet beside the conversation, the form
builder, the agents' own evaluations."""

from decimal import Decimal

import pytest
from django.urls import reverse

from callcenter import roles
from callcenter.models import (
    Agent,
    Evaluation,
    EvaluationForm,
    EvaluationItem,
    EvaluationSection,
    EvaluationTask,
    Message,
    VoiceCall,
)
from tests.factories import UserFactory
from tests.factories_qa import (
    EvaluationAnswerFactory,
    EvaluationFactory,
    EvaluationFormFactory,
    EvaluationItemFactory,
    EvaluationSectionFactory,
    EvaluationTaskFactory,
    HandledContactFactory,
)

SCALE = EvaluationItem.Kind.SCALE


@pytest.fixture
def form(db):
    """The centre's form: greeting yes/no (w1), accuracy 1–5 (w2, N/A allowed), privacy
    (auto-fail)."""
    form = EvaluationFormFactory(name="기본 평가표")
    section = EvaluationSectionFactory(form=form, title="응대")
    EvaluationItemFactory(section=section, text="첫인사를 했다", weight=1, order=1)
    EvaluationItemFactory(
        section=section, text="정확히 안내했다", kind=SCALE, weight=2, allows_na=True, order=2
    )
    EvaluationItemFactory(section=section, text="개인정보를 보호했다", auto_fail=True, order=3)
    return form


def _items(form: EvaluationForm) -> list[EvaluationItem]:
    return list(EvaluationItem.objects.filter(section__form=form).order_by("order"))


@pytest.fixture
def minji_contact(agent_user):
    """A chat Minji handled, with an internal note among its messages."""
    contact = HandledContactFactory(agent=agent_user.agent, channel="webchat")
    Message.objects.create(contact=contact, sender="citizen", text="주차 과태료 문의합니다")
    Message.objects.create(contact=contact, sender="agent", text="확인해 드리겠습니다")
    Message.objects.create(
        contact=contact, sender="agent", text="감면 대상인지 확인 필요", internal=True
    )
    return contact


def _submitted(form, contact, evaluator, *, score=90, calibration=False, **extra) -> Evaluation:
    return EvaluationFactory(
        form=form,
        contact=contact,
        evaluator=evaluator,
        score=Decimal(score),
        calibration=calibration,
        **extra,
    )


# --- who may open what --------------------------------------------------------------------
SUPERVISOR_PAGES = [
    ("qa-home", {}),
    ("qa-forms", {}),
    ("qa-form-new", {}),
    ("qa-evaluate", {"contact_id": 0}),
    ("qa-calibration", {"contact_id": 0}),
]


@pytest.mark.parametrize(("name", "kwargs"), SUPERVISOR_PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, db, name, kwargs):
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "kwargs"), SUPERVISOR_PAGES)
def test_agents_cannot_open_the_supervisors_qa_pages(client, agent_user, name, kwargs):
    client.force_login(agent_user)
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 403


@pytest.mark.parametrize(("name", "kwargs"), SUPERVISOR_PAGES + [("qa-mine", {})])
def test_officers_cannot_open_qa_pages(client, officer_user, name, kwargs):
    client.force_login(officer_user)
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 403


def test_anonymous_visitors_cannot_see_an_evaluation_or_a_scorecard(client, form, agent_user):
    evaluation = _submitted(form, HandledContactFactory(agent=agent_user.agent), UserFactory())
    for url in (
        reverse("qa-evaluation", args=[evaluation.pk]),
        reverse("qa-agent-scorecard", args=[agent_user.agent.pk]),
        reverse("qa-mine"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_officers_cannot_see_an_evaluation_or_a_scorecard(client, form, agent_user, officer_user):
    evaluation = _submitted(form, HandledContactFactory(agent=agent_user.agent), UserFactory())
    client.force_login(officer_user)
    assert client.get(reverse("qa-evaluation", args=[evaluation.pk])).status_code == 403
    url = reverse("qa-agent-scorecard", args=[agent_user.agent.pk])
    assert client.get(url).status_code == 403


def test_an_agent_sees_their_own_evaluation(client, form, agent_user, supervisor_user):
    evaluation = _submitted(form, HandledContactFactory(agent=agent_user.agent), supervisor_user)
    client.force_login(agent_user)
    response = client.get(reverse("qa-evaluation", args=[evaluation.pk]))
    assert response.status_code == 200
    assert response.context["evaluation"] == evaluation
    assert response.context["dispute_form"] is not None


def test_an_agent_never_sees_another_agents_evaluation(
    client, form, agent_user, other_agent_user, supervisor_user
):
    junho = _submitted(form, HandledContactFactory(agent=other_agent_user.agent), supervisor_user)
    client.force_login(agent_user)
    assert client.get(reverse("qa-evaluation", args=[junho.pk])).status_code == 404


def test_an_agent_never_sees_a_draft_nor_a_calibration_of_their_own_contacts(
    client, form, agent_user, supervisor_user
):
    contact = HandledContactFactory(agent=agent_user.agent)
    draft = EvaluationFactory(
        form=form,
        contact=contact,
        evaluator=supervisor_user,
        status=Evaluation.Status.DRAFT,
        submitted_at=None,
    )
    calibration = _submitted(form, contact, UserFactory(), calibration=True)
    client.force_login(agent_user)
    assert client.get(reverse("qa-evaluation", args=[draft.pk])).status_code == 404
    assert client.get(reverse("qa-evaluation", args=[calibration.pk])).status_code == 404


def test_my_evaluations_lists_only_the_agents_own_submitted_ones(
    client, form, agent_user, other_agent_user, supervisor_user
):
    mine = _submitted(form, HandledContactFactory(agent=agent_user.agent), supervisor_user)
    _submitted(form, HandledContactFactory(agent=other_agent_user.agent), supervisor_user)
    contact = HandledContactFactory(agent=agent_user.agent)
    EvaluationFactory(
        form=form,
        contact=contact,
        evaluator=supervisor_user,
        status=Evaluation.Status.DRAFT,
        submitted_at=None,
    )
    _submitted(form, mine.contact, UserFactory(), calibration=True)
    client.force_login(agent_user)
    response = client.get(reverse("qa-mine"))
    assert response.status_code == 200
    assert list(response.context["evaluations"]) == [mine]
    assert reverse("qa-evaluation", args=[mine.pk]) in response.content.decode()


def test_a_supervisor_cannot_open_another_supervisors_draft(client, form, supervisor_user):
    draft = EvaluationFactory(
        form=form,
        evaluator=UserFactory(username="colleague"),
        status=Evaluation.Status.DRAFT,
        submitted_at=None,
    )
    client.force_login(supervisor_user)
    assert client.get(reverse("qa-evaluation", args=[draft.pk])).status_code == 404


def test_an_agent_sees_their_own_scorecard_but_not_a_colleagues(
    client, agent_user, other_agent_user, monkeypatch
):
    monkeypatch.setattr("callcenter.metrics.report", lambda **kwargs: [])
    client.force_login(agent_user)
    own = client.get(reverse("qa-agent-scorecard", args=[agent_user.agent.pk]))
    assert own.status_code == 200
    other = client.get(reverse("qa-agent-scorecard", args=[other_agent_user.agent.pk]))
    assert other.status_code == 404


# --- the supervisors' home ------------------------------------------------------------------
def test_the_qa_home_lists_this_weeks_sample_and_open_disputes(
    client, form, supervisor_user, agent_user
):
    task = EvaluationTaskFactory(contact=HandledContactFactory(agent=agent_user.agent), form=form)
    disputed = _submitted(
        form,
        HandledContactFactory(agent=agent_user.agent),
        supervisor_user,
        disputed_at=task.contact.ended_at,
        dispute_comment="고객이 먼저 끊었습니다",
    )
    client.force_login(supervisor_user)
    response = client.get(reverse("qa-home"))
    assert response.status_code == 200
    assert response.context["tasks"] == [task]
    assert list(response.context["disputes"]) == [disputed]
    page = response.content.decode()
    assert f"{reverse('qa-evaluate', args=[task.contact_id])}?form={form.pk}" in page
    assert "고객이 먼저 끊었습니다" in page


def test_the_contact_lookup_goes_to_that_contacts_scoring_page(client, supervisor_user):
    client.force_login(supervisor_user)
    response = client.get(reverse("qa-home"), {"contact": 42})
    assert response.status_code == 302
    assert response["Location"] == reverse("qa-evaluate", args=[42])


def test_sample_now_queues_this_weeks_contacts(client, form, supervisor_user, agent_user):
    contact = HandledContactFactory(agent=agent_user.agent)
    client.force_login(supervisor_user)
    response = client.post(reverse("qa-sample-now"))
    assert response.status_code == 302
    assert EvaluationTask.objects.get().contact == contact


def test_sample_now_takes_a_post(client, supervisor_user):
    client.force_login(supervisor_user)
    assert client.get(reverse("qa-sample-now")).status_code == 405


# --- scoring a contact -------------------------------------------------------------------
def test_the_scoring_page_shows_the_transcript_with_internal_notes_marked(
    client, form, supervisor_user, minji_contact
):
    client.force_login(supervisor_user)
    response = client.get(reverse("qa-evaluate", args=[minji_contact.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "주차 과태료 문의합니다" in page
    assert page.count("qa-message-internal") == 1
    assert "감면 대상인지 확인 필요" in page
    for item in _items(form):
        assert f'name="item_{item.pk}"' in page


def test_the_scoring_page_of_a_recorded_call_has_its_recording_player(
    client, form, supervisor_user, agent_user
):
    contact = HandledContactFactory(agent=agent_user.agent, channel="voice")
    VoiceCall.objects.create(contact=contact, recording_sid="RE123", recording_seconds=95)
    client.force_login(supervisor_user)
    page = client.get(reverse("qa-evaluate", args=[contact.pk])).content.decode()
    recording = reverse("contact-recording", args=[contact.pk])
    assert f'<audio controls preload="none" class="w-100" src="{recording}"' in page


def test_saving_a_draft_keeps_the_answers_for_later(client, form, supervisor_user, minji_contact):
    greeting, accuracy, privacy = _items(form)
    client.force_login(supervisor_user)
    url = reverse("qa-evaluate", args=[minji_contact.pk])
    response = client.post(
        f"{url}?form={form.pk}",
        {f"item_{greeting.pk}": "1", f"note_{greeting.pk}": "밝게 인사", "save_draft": "1"},
    )
    assert response.status_code == 302
    draft = Evaluation.objects.get()
    assert draft.status == Evaluation.Status.DRAFT
    again = client.get(url)
    assert again.context["sheet"].initial[f"item_{greeting.pk}"] == "1"
    assert again.context["sheet"].initial[f"note_{greeting.pk}"] == "밝게 인사"


def test_submitting_scores_the_evaluation_and_shows_it(
    client, form, supervisor_user, minji_contact
):
    greeting, accuracy, privacy = _items(form)
    client.force_login(supervisor_user)
    url = reverse("qa-evaluate", args=[minji_contact.pk])
    response = client.post(
        f"{url}?form={form.pk}",
        {
            f"item_{greeting.pk}": "0",
            f"item_{accuracy.pk}": "5",
            f"item_{privacy.pk}": "1",
            "comment": "정확한 안내",
            "submit_evaluation": "1",
        },
    )
    evaluation = Evaluation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("qa-evaluation", args=[evaluation.pk])
    # greeting no (w1) 0, accuracy 5/5 (w2) 2, privacy yes (w1) 1 → 3/4
    assert evaluation.score == Decimal("75.00")
    assert evaluation.agent == minji_contact.agent
    assert evaluation.status == Evaluation.Status.SUBMITTED
    page = client.get(response["Location"]).content.decode()
    assert "75.0%" in page


def test_submitting_with_a_question_unanswered_is_refused(
    client, form, supervisor_user, minji_contact
):
    greeting, _accuracy, _privacy = _items(form)
    client.force_login(supervisor_user)
    response = client.post(
        reverse("qa-evaluate", args=[minji_contact.pk]),
        {f"item_{greeting.pk}": "1", "submit_evaluation": "1"},
    )
    assert response.status_code == 400
    assert not Evaluation.objects.exists()


def test_a_submitted_evaluation_opens_read_only(client, form, supervisor_user, minji_contact):
    evaluation = _submitted(form, minji_contact, supervisor_user)
    client.force_login(supervisor_user)
    response = client.get(f"{reverse('qa-evaluate', args=[minji_contact.pk])}?form={form.pk}")
    assert response.status_code == 302
    assert response["Location"] == reverse("qa-evaluation", args=[evaluation.pk])


def test_a_second_supervisor_scores_as_calibration(client, form, supervisor_user, minji_contact):
    _submitted(form, minji_contact, UserFactory(username="first"))
    client.force_login(supervisor_user)
    response = client.get(reverse("qa-evaluate", args=[minji_contact.pk]))
    assert response.context["sheet"].fields["calibration"].disabled is True
    greeting, accuracy, privacy = _items(form)
    client.post(
        f"{reverse('qa-evaluate', args=[minji_contact.pk])}?form={form.pk}",
        {
            f"item_{greeting.pk}": "1",
            f"item_{accuracy.pk}": "na",
            f"item_{privacy.pk}": "1",
            "submit_evaluation": "1",
        },
    )
    mine = Evaluation.objects.get(evaluator=supervisor_user)
    assert mine.calibration is True
    assert mine.score == Decimal("100.00")


def test_a_contact_nobody_answered_cannot_be_scored(client, form, supervisor_user):
    contact = HandledContactFactory(
        agent=None, answered_at=None, ended_at=None, abandoned=True, wrapup_ended_at=None
    )
    client.force_login(supervisor_user)
    response = client.get(reverse("qa-evaluate", args=[contact.pk]))
    assert response.status_code == 200
    assert response.context["sheet"] is None


def test_a_draft_can_be_discarded_by_its_author(client, form, supervisor_user, minji_contact):
    draft = EvaluationFactory(
        form=form,
        contact=minji_contact,
        evaluator=supervisor_user,
        status=Evaluation.Status.DRAFT,
        submitted_at=None,
    )
    client.force_login(supervisor_user)
    assert client.post(reverse("qa-discard", args=[draft.pk])).status_code == 302
    assert not Evaluation.objects.exists()


# --- the form builder --------------------------------------------------------------------
def _management(prefix: str, total: int, initial: int) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def _details(name="민원 응대 평가표", pass_mark=85) -> dict:
    return {"name": name, "description": "", "pass_mark": str(pass_mark), "active": "on"}


def test_a_supervisor_builds_a_form_with_sections_and_questions(client, supervisor_user):
    client.force_login(supervisor_user)
    response = client.post(reverse("qa-form-new"), _details())
    form = EvaluationForm.objects.get()
    assert response["Location"] == reverse("qa-form-edit", args=[form.pk])
    assert form.created_by == supervisor_user
    edit = reverse("qa-form-edit", args=[form.pk])
    client.post(
        edit,
        {
            **_details(),
            **_management("sections", 1, 0),
            "sections-0-title": "개인정보",
            "sections-0-order": "1",
        },
    )
    section = EvaluationSection.objects.get(form=form)
    assert section.title == "개인정보"
    prefix = f"items-{section.pk}"
    client.post(
        edit,
        {
            **_details(),
            **_management("sections", 1, 1),
            "sections-0-id": str(section.pk),
            "sections-0-form": str(form.pk),
            "sections-0-title": "개인정보",
            "sections-0-order": "1",
            **_management(prefix, 1, 0),
            f"{prefix}-0-text": "주민등록번호를 노출하지 않았다",
            f"{prefix}-0-guidance": "",
            f"{prefix}-0-kind": "yes_no",
            f"{prefix}-0-scale_max": "5",
            f"{prefix}-0-weight": "3",
            f"{prefix}-0-auto_fail": "on",
            f"{prefix}-0-order": "1",
        },
    )
    item = EvaluationItem.objects.get(section=section)
    assert (item.text, item.weight, item.auto_fail) == ("주민등록번호를 노출하지 않았다", 3, True)


def test_the_builder_refuses_an_auto_fail_scale_question(client, supervisor_user):
    form = EvaluationFormFactory()
    section = EvaluationSectionFactory(form=form)
    prefix = f"items-{section.pk}"
    client.force_login(supervisor_user)
    response = client.post(
        reverse("qa-form-edit", args=[form.pk]),
        {
            **_details(),
            **_management("sections", 1, 1),
            "sections-0-id": str(section.pk),
            "sections-0-form": str(form.pk),
            "sections-0-title": section.title,
            "sections-0-order": "0",
            **_management(prefix, 1, 0),
            f"{prefix}-0-text": "친절도",
            f"{prefix}-0-kind": "scale",
            f"{prefix}-0-scale_max": "5",
            f"{prefix}-0-weight": "1",
            f"{prefix}-0-auto_fail": "on",
            f"{prefix}-0-order": "1",
        },
    )
    assert response.status_code == 200
    assert not EvaluationItem.objects.exists()


def test_a_used_form_keeps_its_questions_and_can_be_copied(client, form, supervisor_user):
    _submitted(form, HandledContactFactory(), UserFactory())
    client.force_login(supervisor_user)
    page = client.get(reverse("qa-form-edit", args=[form.pk]))
    assert page.context["locked"] is True
    assert page.context["sections"] is None
    client.post(reverse("qa-form-edit", args=[form.pk]), _details(name="새 이름", pass_mark=70))
    form.refresh_from_db()
    assert (form.name, form.pass_mark) == ("새 이름", 70)
    response = client.post(reverse("qa-form-copy", args=[form.pk]))
    copy = EvaluationForm.objects.exclude(pk=form.pk).get()
    assert response["Location"] == reverse("qa-form-edit", args=[copy.pk])
    assert copy.active is False
    assert [i.text for i in _items(copy)] == [i.text for i in _items(form)]


def test_the_forms_list_shows_each_forms_questions_and_evaluations(client, form, supervisor_user):
    _submitted(form, HandledContactFactory(), UserFactory())
    client.force_login(supervisor_user)
    response = client.get(reverse("qa-forms"))
    row = next(f for f in response.context["forms"] if f.pk == form.pk)
    assert (row.item_count, row.evaluation_count) == (3, 1)


def test_an_evaluation_shows_each_answer_and_comment(client, form, supervisor_user, agent_user):
    greeting, accuracy, privacy = _items(form)
    evaluation = _submitted(form, HandledContactFactory(agent=agent_user.agent), supervisor_user)
    EvaluationAnswerFactory(evaluation=evaluation, item=accuracy, value=4, comment="조금 부정확")
    client.force_login(agent_user)
    page = client.get(reverse("qa-evaluation", args=[evaluation.pk])).content.decode()
    assert "4 / 5" in page
    assert "조금 부정확" in page


def test_the_agent_profile_is_needed_for_my_evaluations(client, db):
    user = UserFactory(username="noprofile", roles=[roles.AGENT])
    assert not Agent.objects.filter(user=user).exists()
    client.force_login(user)
    assert client.get(reverse("qa-mine")).status_code == 404


def test_anonymous_and_agents_cannot_post_to_supervisor_actions(client, form, agent_user):
    evaluation = _submitted(form, HandledContactFactory(agent=agent_user.agent), UserFactory())
    for name, args in (("qa-resolve", [evaluation.pk]), ("qa-form-copy", [form.pk])):
        assert client.post(reverse(name, args=args)).status_code == 302
    client.force_login(agent_user)
    for name, args in (("qa-resolve", [evaluation.pk]), ("qa-form-copy", [form.pk])):
        assert client.post(reverse(name, args=args)).status_code == 403


def test_a_conversation_still_going_on_cannot_be_scored_yet(client, form, supervisor_user):
    ongoing = HandledContactFactory(ended_at=None, wrapup_ended_at=None)
    client.force_login(supervisor_user)
    response = client.get(reverse("qa-evaluate", args=[ongoing.pk]))
    assert response.status_code == 200
    assert response.context["sheet"] is None


def test_the_agent_rereads_the_conversation_beside_their_evaluation(
    client, form, agent_user, supervisor_user, minji_contact
):
    evaluation = _submitted(form, minji_contact, supervisor_user)
    client.force_login(agent_user)
    page = client.get(reverse("qa-evaluation", args=[evaluation.pk])).content.decode()
    assert "주차 과태료 문의합니다" in page
    assert reverse("qa-agent-scorecard", args=[agent_user.agent.pk]) in page
