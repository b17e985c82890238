"""Scoring an evaluation: weighted mean of the answered items, N/A left out, auto-fail."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from callcenter.models import Evaluation, EvaluationItem, EvaluationTask
from callcenter.services.qa import Answer, evaluation_save, evaluation_score
from tests.factories import UserFactory
from tests.factories_qa import (
    EvaluationFactory,
    EvaluationFormFactory,
    EvaluationItemFactory,
    EvaluationSectionFactory,
    EvaluationTaskFactory,
    HandledContactFactory,
)

YES_NO = EvaluationItem.Kind.YES_NO
SCALE = EvaluationItem.Kind.SCALE


def _item(kind=YES_NO, weight=1, scale_max=5, auto_fail=False, allows_na=False):
    """An unsaved item: the arithmetic needs no database."""
    return EvaluationItem(
        kind=kind, weight=weight, scale_max=scale_max, auto_fail=auto_fail, allows_na=allows_na
    )


def test_all_yes_scores_one_hundred():
    assert evaluation_score([(_item(), 1), (_item(weight=3), 1)]).score == Decimal("100.00")


def test_yes_and_no_are_weighted_by_their_weights():
    # yes (weight 3) + no (weight 1): 3 / 4
    result = evaluation_score([(_item(weight=3), 1), (_item(weight=1), 0)])
    assert result.score == Decimal("75.00")
    assert result.auto_failed is False


def test_a_scale_answer_earns_its_share_between_one_and_the_maximum():
    # 4 on 1..5 → (4-1)/(5-1) = 0.75; 1 on 1..3 → 0; weights 2 and 2 → 37.5 %
    result = evaluation_score(
        [(_item(SCALE, weight=2, scale_max=5), 4), (_item(SCALE, weight=2, scale_max=3), 1)]
    )
    assert result.score == Decimal("37.50")


def test_mixed_yes_no_and_scale_items_give_the_weighted_mean_as_a_percentage():
    # yes w1 → 1; no w1 → 0; 3 of 1..5 w2 → 0.5*2 = 1; total 2 / 4 = 50 %
    result = evaluation_score(
        [(_item(), 1), (_item(), 0), (_item(SCALE, weight=2, scale_max=5), 3)]
    )
    assert result.score == Decimal("50.00")


def test_thirds_are_rounded_to_two_decimals():
    assert evaluation_score([(_item(), 1), (_item(), 1), (_item(), 0)]).score == Decimal("66.67")


def test_not_applicable_items_are_left_out_of_the_mean():
    # N/A with a heavy weight does not pull the score down: yes w1, no w1 → 50 %
    result = evaluation_score(
        [(_item(), 1), (_item(), 0), (_item(weight=10, allows_na=True), None)]
    )
    assert result.score == Decimal("50.00")


def test_only_not_applicable_answers_leave_nothing_to_score():
    assert evaluation_score([(_item(allows_na=True), None)]).score is None


def test_an_auto_fail_item_answered_no_zeroes_the_whole_evaluation():
    result = evaluation_score(
        [(_item(weight=5), 1), (_item(weight=5), 1), (_item(auto_fail=True), 0)]
    )
    assert result.score == Decimal("0.00")
    assert result.auto_failed is True


def test_an_auto_fail_item_answered_yes_scores_like_any_other_item():
    result = evaluation_score([(_item(auto_fail=True), 1), (_item(), 0)])
    assert result.score == Decimal("50.00")
    assert result.auto_failed is False


# --- saving through the service ----------------------------------------------------------
@pytest.fixture
def privacy_form(db):
    """A form of three questions: greeting (w1), accuracy scale 1–5 (w2, N/A allowed), and
    the auto-fail "personal data protected"."""
    form = EvaluationFormFactory(name="기본 평가표")
    section = EvaluationSectionFactory(form=form, title="응대")
    return {
        "form": form,
        "greeting": EvaluationItemFactory(section=section, text="인사", weight=1),
        "accuracy": EvaluationItemFactory(
            section=section, text="정확성", kind=SCALE, scale_max=5, weight=2, allows_na=True
        ),
        "privacy": EvaluationItemFactory(section=section, text="개인정보 보호", auto_fail=True),
    }


def test_submitting_stores_the_score_and_the_answers(privacy_form, supervisor_user):
    contact = HandledContactFactory()
    f = privacy_form
    evaluation = evaluation_save(
        form=f["form"],
        contact=contact,
        evaluator=supervisor_user,
        answers={
            f["greeting"].pk: Answer(1),
            f["accuracy"].pk: Answer(5, "정확한 안내"),
            f["privacy"].pk: Answer(1),
        },
        submit=True,
    )
    assert evaluation.status == Evaluation.Status.SUBMITTED
    assert evaluation.score == Decimal("100.00")
    assert evaluation.agent == contact.agent
    assert evaluation.answers.get(item=f["accuracy"]).comment == "정확한 안내"


def test_submitting_with_personal_data_exposed_scores_zero_and_is_marked_auto_failed(
    privacy_form, supervisor_user
):
    f = privacy_form
    evaluation = evaluation_save(
        form=f["form"],
        contact=HandledContactFactory(),
        evaluator=supervisor_user,
        answers={
            f["greeting"].pk: Answer(1),
            f["accuracy"].pk: Answer(5),
            f["privacy"].pk: Answer(0),
        },
        submit=True,
    )
    evaluation.refresh_from_db()
    assert evaluation.score == 0
    assert evaluation.auto_failed is True
    assert evaluation.passed is False


def test_a_draft_may_leave_questions_open_but_submitting_needs_every_answer(
    privacy_form, supervisor_user
):
    f = privacy_form
    contact = HandledContactFactory()
    draft = evaluation_save(
        form=f["form"],
        contact=contact,
        evaluator=supervisor_user,
        answers={f["greeting"].pk: Answer(1)},
    )
    assert draft.status == Evaluation.Status.DRAFT
    with pytest.raises(ValidationError):
        evaluation_save(
            form=f["form"],
            contact=contact,
            evaluator=supervisor_user,
            answers={f["greeting"].pk: Answer(1)},
            submit=True,
        )
    assert Evaluation.objects.get(pk=draft.pk).status == Evaluation.Status.DRAFT


def test_not_applicable_is_refused_for_a_question_that_does_not_allow_it(
    privacy_form, supervisor_user
):
    f = privacy_form
    with pytest.raises(ValidationError):
        evaluation_save(
            form=f["form"],
            contact=HandledContactFactory(),
            evaluator=supervisor_user,
            answers={f["greeting"].pk: Answer(None)},
        )


def test_a_scale_answer_out_of_range_is_refused(privacy_form, supervisor_user):
    f = privacy_form
    with pytest.raises(ValidationError):
        evaluation_save(
            form=f["form"],
            contact=HandledContactFactory(),
            evaluator=supervisor_user,
            answers={f["accuracy"].pk: Answer(6)},
        )


def test_a_submitted_evaluation_cannot_be_changed(privacy_form, supervisor_user):
    f = privacy_form
    contact = HandledContactFactory()
    answers = {f["greeting"].pk: Answer(1), f["accuracy"].pk: Answer(3), f["privacy"].pk: Answer(1)}
    evaluation_save(
        form=f["form"], contact=contact, evaluator=supervisor_user, answers=answers, submit=True
    )
    with pytest.raises(ValidationError):
        evaluation_save(form=f["form"], contact=contact, evaluator=supervisor_user, answers=answers)


def test_a_second_supervisor_scoring_the_same_contact_must_do_it_as_calibration(
    privacy_form, supervisor_user
):
    f = privacy_form
    contact = HandledContactFactory()
    answers = {f["greeting"].pk: Answer(1), f["accuracy"].pk: Answer(3), f["privacy"].pk: Answer(1)}
    evaluation_save(
        form=f["form"], contact=contact, evaluator=supervisor_user, answers=answers, submit=True
    )
    colleague = UserFactory(username="calib")
    with pytest.raises(ValidationError):
        evaluation_save(form=f["form"], contact=contact, evaluator=colleague, answers=answers)
    second = evaluation_save(
        form=f["form"], contact=contact, evaluator=colleague, answers=answers, calibration=True
    )
    assert second.calibration is True


def test_submitting_completes_the_sample_task_of_that_contact(privacy_form, supervisor_user):
    f = privacy_form
    task = EvaluationTaskFactory(form=f["form"])
    evaluation = evaluation_save(
        form=f["form"],
        contact=task.contact,
        evaluator=supervisor_user,
        answers={
            f["greeting"].pk: Answer(1),
            f["accuracy"].pk: Answer(None),
            f["privacy"].pk: Answer(1),
        },
        submit=True,
    )
    assert evaluation.score == Decimal("100.00")
    assert EvaluationTask.objects.get(pk=task.pk).evaluation == evaluation


def test_the_database_refuses_an_auto_failed_evaluation_with_a_score(privacy_form):
    with pytest.raises(IntegrityError), transaction.atomic():
        EvaluationFactory(form=privacy_form["form"], score=80, auto_failed=True)


def test_the_database_refuses_an_auto_fail_scale_question(privacy_form):
    with pytest.raises(IntegrityError), transaction.atomic():
        EvaluationItemFactory(section=privacy_form["greeting"].section, kind=SCALE, auto_fail=True)


def test_a_conversation_still_going_on_cannot_be_evaluated(privacy_form, supervisor_user):
    ongoing = HandledContactFactory(ended_at=None, wrapup_ended_at=None)
    with pytest.raises(ValidationError):
        evaluation_save(
            form=privacy_form["form"],
            contact=ongoing,
            evaluator=supervisor_user,
            answers={privacy_form["greeting"].pk: Answer(1)},
        )
