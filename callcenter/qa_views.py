"""Quality assurance pages (/qa/): the supervisors' home, form builder, scoring sheet and
calibration; the agents' own evaluations; an agent's scorecard.

Access: supervisors and administrators see every submitted evaluation and their own
drafts; an agent opens only their own submitted, non-calibration evaluations and their
own scorecard; anything else is a 404 (an agent learns nothing of what others have)."""

from collections.abc import Iterable
from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from callcenter import selectors, selectors_qa
from callcenter.forms_qa import (
    SUBMIT,
    ContactLookupForm,
    DisputeForm,
    EvaluateForm,
    EvaluationFormForm,
    ResolveForm,
    builder_formsets,
)
from callcenter.models import (
    Agent,
    Contact,
    Evaluation,
    EvaluationForm,
    EvaluationItem,
    EvaluationTask,
)
from callcenter.roles import ADMINISTRATOR, AGENT, SUPERVISOR, role_required
from callcenter.services import qa

SUPERVISORS = (SUPERVISOR, ADMINISTRATOR)


def _get_evaluation_for_user(request: HttpRequest, evaluation_id: int) -> Evaluation:
    """The evaluation if ``request.user`` may open it, else 404."""
    return get_object_or_404(selectors_qa.evaluations_for_user(request.user), pk=evaluation_id)


def _week_from(request: HttpRequest) -> date:
    try:
        day = date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        day = timezone.localdate()
    return selectors_qa.week_monday(day)


# --- supervisors: home, forms ------------------------------------------------------------
@role_required(*SUPERVISORS)
@require_GET
def qa_home(request: HttpRequest) -> HttpResponse:
    week = _week_from(request)
    lookup = ContactLookupForm(request.GET if "contact" in request.GET else None)
    if lookup.is_bound and lookup.is_valid():
        return redirect("qa-evaluate", contact_id=lookup.cleaned_data["contact"])
    lookup.helper.form_action = reverse("qa-home")
    tasks = list(selectors_qa.sample_queue(week))
    return render(
        request,
        "callcenter/qa/home.html",
        {
            "week": week,
            "previous_week": week - timedelta(weeks=1),
            "next_week": week + timedelta(weeks=1),
            "tasks": tasks,
            "tasks_open": sum(1 for task in tasks if task.evaluation_id is None),
            "disputes": selectors_qa.open_disputes(),
            "drafts": selectors_qa.drafts_of(request.user),
            "recent": selectors_qa.recent_evaluations(),
            "agents": selectors_qa.agents_overview(),
            "lookup": lookup,
            "has_form": selectors_qa.active_form_default() is not None,
        },
    )


@role_required(*SUPERVISORS)
@require_POST
def qa_sample_now(request: HttpRequest) -> HttpResponse:
    """Top up this week's random sample now rather than at the next hourly run."""
    created = qa.qa_sample_week()
    messages.success(request, _("%d contacts were added to this week's sample.") % created)
    return redirect("qa-home")


@role_required(*SUPERVISORS)
@require_GET
def qa_forms(request: HttpRequest) -> HttpResponse:
    return render(request, "callcenter/qa/forms.html", {"forms": selectors_qa.forms_overview()})


@role_required(*SUPERVISORS)
@require_http_methods(["GET", "POST"])
def qa_form_new(request: HttpRequest) -> HttpResponse:
    details = EvaluationFormForm(request.POST or None)
    if request.method == "POST" and details.is_valid():
        form = qa.evaluation_form_create(created_by=request.user, **details.cleaned_data)
        messages.success(request, _("Form created. Now add its sections and questions."))
        return redirect("qa-form-edit", form_id=form.pk)
    return render(request, "callcenter/qa/form_new.html", {"details": details})


@role_required(*SUPERVISORS)
@require_http_methods(["GET", "POST"])
def qa_form_edit(request: HttpRequest, form_id: int) -> HttpResponse:
    """The form builder: details, sections, and each section's questions, in one save.
    A form that evaluations used keeps its questions (copy it to change them)."""
    form = get_object_or_404(EvaluationForm, pk=form_id)
    locked = qa.evaluation_form_locked(form)
    data = request.POST if request.method == "POST" else None
    details = EvaluationFormForm(data, instance=form)
    sections, items = (None, []) if locked else builder_formsets(form, data)
    if request.method == "POST":
        parts = [] if locked else [formset for _section, formset in items] + [sections]
        if details.is_valid() and all(part.is_valid() for part in parts):
            try:
                qa.evaluation_form_update(form=form, details=details, formsets=parts)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("The form was saved."))
            return redirect("qa-form-edit", form_id=form.pk)
    return render(
        request,
        "callcenter/qa/form_edit.html",
        {
            "form_obj": form,
            "locked": locked,
            "details": details,
            "sections": sections,
            "items": items,
            "preview": selectors_qa.form_sections(form),
        },
    )


@role_required(*SUPERVISORS)
@require_POST
def qa_form_copy(request: HttpRequest, form_id: int) -> HttpResponse:
    form = get_object_or_404(EvaluationForm, pk=form_id)
    copy = qa.evaluation_form_copy(form=form, created_by=request.user)
    messages.success(request, _("A copy was made; it is inactive until you turn it on."))
    return redirect("qa-form-edit", form_id=copy.pk)


# --- supervisors: scoring and calibration ------------------------------------------------
def _form_for(request: HttpRequest, contact: Contact) -> EvaluationForm | None:
    """The form to score with: ?form=, else the user's draft's, else the sample's, else
    the newest active one."""
    chosen = request.GET.get("form") or request.POST.get("form")
    if chosen and chosen.isdigit():
        return get_object_or_404(EvaluationForm, pk=int(chosen))
    draft = (
        Evaluation.objects.filter(
            contact=contact, evaluator=request.user, status=Evaluation.Status.DRAFT
        )
        .select_related("form")
        .first()
    )
    if draft is not None:
        return draft.form
    task = EvaluationTask.objects.filter(contact=contact, form__active=True).first()
    if task is not None:
        return task.form
    return selectors_qa.active_form_default()


def _items_json(items: Iterable[EvaluationItem]) -> list[dict]:
    """The items as static/js/qa.js needs them for the running score."""
    return [
        {
            "id": item.pk,
            "kind": item.kind,
            "max": item.scale_max,
            "weight": item.weight,
            "auto_fail": item.auto_fail,
        }
        for item in items
    ]


@role_required(*SUPERVISORS)
@require_http_methods(["GET", "POST"])
def qa_evaluate(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Score a contact while reading its transcript or hearing its recording."""
    contact = get_object_or_404(
        Contact.objects.select_related("agent", "queue", "citizen"), pk=contact_id
    )
    form = _form_for(request, contact)
    mine = (
        Evaluation.objects.filter(contact=contact, evaluator=request.user, form=form)
        .prefetch_related("answers")
        .first()
    )
    if mine is not None and mine.is_submitted:
        messages.info(request, _("You have evaluated this contact with this form already."))
        return redirect("qa-evaluation", evaluation_id=mine.pk)
    sheet = None
    if form is not None and contact.agent_id is not None and contact.ended_at is not None:
        calibration_only = (
            Evaluation.objects.filter(contact=contact, form=form, calibration=False)
            .exclude(evaluator=request.user)
            .exists()
        )
        sections = selectors_qa.form_sections(form)
        submit = SUBMIT in request.POST
        sheet = EvaluateForm(
            request.POST if request.method == "POST" else None,
            sections=sections,
            submit=submit,
            calibration_only=calibration_only,
            initial=EvaluateForm.initial_from(mine),
        )
        sheet.helper.form_action = f"{reverse('qa-evaluate', args=[contact.pk])}?form={form.pk}"
        if request.method == "POST" and sheet.is_valid():
            try:
                evaluation = qa.evaluation_save(
                    form=form,
                    contact=contact,
                    evaluator=request.user,
                    answers=sheet.answers(),
                    comment=sheet.cleaned_data["comment"],
                    calibration=calibration_only or sheet.cleaned_data["calibration"],
                    submit=submit,
                )
            except ValidationError as error:
                sheet.add_error(None, error)
            else:
                if submit:
                    messages.success(request, _("The evaluation was submitted."))
                    return redirect("qa-evaluation", evaluation_id=evaluation.pk)
                messages.success(request, _("Draft saved."))
                return redirect(sheet.helper.form_action)
    items = _items_json(sheet.items.values() if sheet is not None else [])
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "callcenter/qa/evaluate.html",
        {
            "contact": contact,
            "form_obj": form,
            "draft": mine,
            "sheet": sheet,
            "items": items,
            "pass_mark": form.pass_mark if form else None,
            "forms": EvaluationForm.objects.filter(active=True),
            "messages_list": selectors_qa.transcript(contact),
            "call": selectors.call_details(contact, user=request.user),
            "others": Evaluation.objects.filter(
                contact=contact, status=Evaluation.Status.SUBMITTED
            ).count(),
        },
        status=status,
    )


@role_required(*SUPERVISORS)
@require_POST
def qa_draft_discard(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = _get_evaluation_for_user(request, evaluation_id)
    try:
        qa.evaluation_draft_discard(evaluation=evaluation, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("qa-evaluation", evaluation_id=evaluation.pk)
    messages.success(request, _("The draft was discarded."))
    return redirect("qa-home")


@role_required(*SUPERVISORS)
@require_GET
def qa_calibration(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Every supervisor's evaluation of one contact, item by item, and their spread."""
    contact = get_object_or_404(Contact.objects.select_related("agent", "queue"), pk=contact_id)
    forms = selectors_qa.calibration_forms(contact)
    chosen = request.GET.get("form", "")
    form = next((f for f in forms if str(f.pk) == chosen), forms[0] if forms else None)
    result = selectors_qa.calibration(contact, form) if form is not None else None
    return render(
        request,
        "callcenter/qa/calibration.html",
        {"contact": contact, "forms": forms, "form_obj": form, "result": result},
    )


# --- evaluations: detail, the agent's answer, resolution ---------------------------------
def _evaluation_page(
    request: HttpRequest,
    evaluation: Evaluation,
    *,
    dispute_form: DisputeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    own = evaluation.agent.user_id == request.user.pk
    supervisor = selectors_qa.is_qa_supervisor(request.user)
    if own and evaluation.awaiting_agent and dispute_form is None:
        dispute_form = DisputeForm()
    if dispute_form is not None:
        dispute_form.helper.form_action = reverse("qa-dispute", args=[evaluation.pk])
    return render(
        request,
        "callcenter/qa/evaluation.html",
        {
            "evaluation": evaluation,
            "sheet": selectors_qa.evaluation_sheet(evaluation),
            "own": own,
            "supervisor": supervisor,
            "contact": evaluation.contact,
            "call": selectors.call_details(evaluation.contact, user=request.user),
            "messages_list": selectors_qa.transcript(evaluation.contact),
            "dispute_form": dispute_form if own and evaluation.awaiting_agent else None,
        },
        status=status,
    )


@role_required(AGENT, SUPERVISOR, ADMINISTRATOR)
@require_GET
def qa_evaluation(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = _get_evaluation_for_user(request, evaluation_id)
    if not evaluation.is_submitted:
        return redirect(
            f"{reverse('qa-evaluate', args=[evaluation.contact_id])}?form={evaluation.form_id}"
        )
    response = _evaluation_page(request, evaluation)
    if evaluation.resolution_unseen:
        qa.evaluation_resolution_seen(evaluation=evaluation, user=request.user)
    return response


@role_required(AGENT)
@require_POST
def qa_acknowledge(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = _get_evaluation_for_user(request, evaluation_id)
    try:
        qa.evaluation_acknowledge(evaluation=evaluation, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("You acknowledged the evaluation."))
    return redirect("qa-evaluation", evaluation_id=evaluation.pk)


@role_required(AGENT)
@require_POST
def qa_dispute(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = _get_evaluation_for_user(request, evaluation_id)
    form = DisputeForm(request.POST)
    if not form.is_valid():
        return _evaluation_page(request, evaluation, dispute_form=form, status=400)
    try:
        qa.evaluation_dispute(
            evaluation=evaluation, user=request.user, comment=form.cleaned_data["comment"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Your dispute was sent to the supervisors."))
    return redirect("qa-evaluation", evaluation_id=evaluation.pk)


@role_required(*SUPERVISORS)
@require_http_methods(["GET", "POST"])
def qa_resolve(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    """Resolve an open dispute: reject it, or uphold it and re-score the evaluation on the
    same page (its answers filled in as they stand)."""
    evaluation = _get_evaluation_for_user(request, evaluation_id)
    if not evaluation.dispute_open:
        messages.info(request, _("There is no open dispute on this evaluation."))
        return redirect("qa-evaluation", evaluation_id=evaluation.pk)
    sections = selectors_qa.form_sections(evaluation.form)
    form = ResolveForm(
        request.POST if request.method == "POST" else None,
        evaluation=evaluation,
        sections=sections,
    )
    form.helper.form_action = reverse("qa-resolve", args=[evaluation.pk])
    if request.method == "POST" and form.is_valid():
        upheld = form.cleaned_data["outcome"] == Evaluation.Outcome.UPHELD
        try:
            qa.evaluation_dispute_resolve(
                evaluation=evaluation,
                resolver=request.user,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
                answers=form.answers() if upheld else None,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The dispute was resolved."))
            return redirect("qa-evaluation", evaluation_id=evaluation.pk)
    return render(
        request,
        "callcenter/qa/resolve.html",
        {
            "evaluation": evaluation,
            "form": form,
            "items": _items_json(form.items.values()),
            "contact": evaluation.contact,
            "call": selectors.call_details(evaluation.contact, user=request.user),
            "messages_list": selectors_qa.transcript(evaluation.contact),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- agents: their own evaluations; scorecards -------------------------------------------
@role_required(AGENT)
@require_GET
def qa_mine(request: HttpRequest) -> HttpResponse:
    agent = get_object_or_404(Agent, user=request.user)
    evaluations = selectors_qa.evaluations_for_user(request.user).filter(agent=agent)
    return render(request, "callcenter/qa/mine.html", {"agent": agent, "evaluations": evaluations})


@role_required(AGENT, SUPERVISOR, ADMINISTRATOR)
@require_GET
def qa_agent_scorecard(request: HttpRequest, agent_id: int) -> HttpResponse:
    """QA average, CSAT, AHT and FCR of one agent over the last 12 weeks, by week."""
    agent = get_object_or_404(Agent, pk=agent_id)
    if not selectors_qa.agent_may_see(request.user, agent):
        raise Http404("Not your scorecard.")
    rows = selectors_qa.agent_scorecard(agent)
    return render(
        request,
        "callcenter/qa/scorecard.html",
        {
            "agent": agent,
            "rows": rows,
            "chart": selectors_qa.scorecard_chart(rows),
            "supervisor": selectors_qa.is_qa_supervisor(request.user),
            "recent": selectors_qa.evaluations_for_user(request.user).filter(
                agent=agent, status=Evaluation.Status.SUBMITTED, calibration=False
            )[:10],
        },
    )
