"""Pages citizens reach without logging in: the happy-call survey and ticket tracking.

Neither page may tell a stranger anything: the survey is reached by a signed token, and the
tracking page needs the ticket number and the phone it was filed with, answers "not found"
alike for a wrong number and a wrong phone, and is rate-limited per client address.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from callcenter import ratelimits
from tickets.forms_public import SurveyForm, TrackForm
from tickets.models import Survey, Ticket, TicketAttachment, TicketEvent
from tickets.services.surveys import (
    SurveyAlreadyAnswered,
    SurveyError,
    citizen_survey_opt_out,
    survey_answer,
    survey_from_token,
)

# What a citizen reads for each status: the centre's words mean little outside it.
CITIZEN_STATUS_LABELS = {
    Ticket.Status.NEW: pgettext_lazy("status for citizens", "Received"),
    Ticket.Status.OPEN: pgettext_lazy("status for citizens", "In progress"),
    Ticket.Status.TRANSFERRED: pgettext_lazy("status for citizens", "Transferred to a department"),
    Ticket.Status.ANSWERED: pgettext_lazy("status for citizens", "Answered"),
    Ticket.Status.RESOLVED: pgettext_lazy("status for citizens", "Resolved"),
    Ticket.Status.CLOSED: pgettext_lazy("status for citizens", "Closed"),
}
MERGE_CHAIN_LIMIT = 10


def _private(response: HttpResponse) -> HttpResponse:
    """Keep the token and the citizen's data out of Referer headers sent to other sites.

    Not "no-referrer": under it browsers send ``Origin: null`` with the page's own form
    posts, which Django's CSRF check refuses (403 on every survey answer and lookup)."""
    response["Referrer-Policy"] = "same-origin"
    return response


def _survey_problem(request: HttpRequest, error: SurveyError) -> HttpResponse:
    response = render(
        request, "tickets/survey_problem.html", {"message": str(error)}, status=error.status
    )
    return _private(response)


@never_cache
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    try:
        survey = survey_from_token(token)
        if survey.status == Survey.Status.ANSWERED:
            raise SurveyAlreadyAnswered()
    except SurveyError as error:
        if isinstance(error, SurveyAlreadyAnswered) and request.method == "GET":
            error.status = 200
        return _survey_problem(request, error)
    form = SurveyForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        data = form.cleaned_data
        try:
            survey_answer(
                survey=survey,
                score=data["score"],
                solved=data["solved"] == "yes",
                comment=data["comment"],
            )
        except SurveyError as error:
            return _survey_problem(request, error)
        return _private(render(request, "tickets/survey_done.html", {"token": token}))
    status = 400 if form.is_bound else 200
    context = {"survey": survey, "ticket": survey.ticket, "form": form, "token": token}
    return _private(render(request, "tickets/survey.html", context, status=status))


@never_cache
@require_POST
def survey_opt_out(request: HttpRequest, token: str) -> HttpResponse:
    try:
        survey = survey_from_token(token)
    except SurveyError as error:
        return _survey_problem(request, error)
    citizen_survey_opt_out(survey=survey)
    return _private(render(request, "tickets/survey_opted_out.html"))


@dataclass
class PublicAnswer:
    at: datetime
    text: str


def _get_ticket_for_citizen(*, number: str, phone: str) -> Ticket | None:
    """The ticket with this number filed by a citizen with this phone (E.164), else None."""
    return (
        Ticket.objects.select_related("category", "merged_into")
        .filter(number=number, citizen__phone=phone)
        .first()
    )


def _merge_chain(ticket: Ticket) -> list[Ticket]:
    """The ticket and the tickets it was merged into, in order; the last one is current."""
    chain = [ticket]
    while chain[-1].merged_into_id and len(chain) < MERGE_CHAIN_LIMIT:
        target = Ticket.objects.filter(pk=chain[-1].merged_into_id).first()
        if target is None or target in chain:
            break
        chain.append(target)
    return chain


def _public_answers(chain: list[Ticket]) -> list[PublicAnswer]:
    """Answers given to the citizen: public events with text, plus the final answer, each
    once — resolving "with this answer" repeats the department's answer word for word."""
    answers = []
    shown = set()
    events = TicketEvent.objects.filter(ticket__in=chain, public=True).order_by("created_at", "id")
    for event in events:
        text = (event.data.get("answer") or event.data.get("text") or "").strip()
        if text and text not in shown:
            shown.add(text)
            answers.append(PublicAnswer(at=event.created_at, text=text))
    current = chain[-1]
    finished = current.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)
    if finished and current.answer and current.answer.strip() not in shown:
        answers.append(
            PublicAnswer(at=current.resolved_at or current.updated_at, text=current.answer)
        )
    return answers


def _track_page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    return _private(render(request, "tickets/track.html", context, status=status))


@never_cache
@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _track_page(request, {"form": TrackForm()})
    # Failed lookups = lookups - found ones. Every lookup is counted before the database is
    # asked, so a burst of concurrent guesses cannot slip past the limit.
    limit = settings.TRACK_LIMIT_PER_HOUR
    lookups = ratelimits.usage(request, group="track-lookups", per_hour=limit, count=True)
    found = ratelimits.usage(request, group="track-found", per_hour=limit, count=False)
    if lookups and found and lookups.count - found.count > limit:
        response = _track_page(request, {"form": TrackForm(), "rate_limited": True}, status=429)
        return ratelimits.with_retry_after(response, lookups.retry_after)
    form = TrackForm(request.POST)
    if not form.is_valid():
        return _track_page(request, {"form": form}, status=400)
    ticket = _get_ticket_for_citizen(
        number=form.cleaned_data["number"], phone=form.cleaned_data["phone"].as_e164
    )
    if ticket is None:
        return _track_page(request, {"form": form, "not_found": True}, status=404)
    ratelimits.usage(request, group="track-found", per_hour=limit, count=True)
    chain = _merge_chain(ticket)
    current = chain[-1]
    context = {
        "form": TrackForm(),
        "ticket": ticket,
        "merged": len(chain) > 1,
        "status_label": CITIZEN_STATUS_LABELS[current.status],
        "status": current.status,
        "answers": _public_answers(chain),
        "attachments": TicketAttachment.objects.filter(ticket__in=chain, public=True),
    }
    return _track_page(request, context)
