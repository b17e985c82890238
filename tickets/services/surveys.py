"""Happy-call (해피콜) surveys: scheduled when a ticket is resolved, sent when due, answered once.

The link's token is a Django signature over the survey's id (no table of tokens): it proves
the citizen got the link from us, expires after ``SURVEY_TOKEN_MAX_AGE_DAYS`` and is single
use because answering closes the survey row it names.
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from callcenter.models import CallbackRequest, Channel, Citizen
from callcenter.pii import mask_registration_numbers
from callcenter.services.callbacks import callback_request_create
from callcenter.services.kakao_outbound import kakao_notification_route, kakao_survey_text
from callcenter.services.locking import row_locked, rows_skip_locked
from callcenter.services.outbox import outbox_enqueue
from channels_app.models import OutboundMessage
from tickets.models import Survey, SurveyAnswer, Ticket, TicketEvent

LINK_SALT = "tickets.survey"
# At most one survey per citizen in this window, however many tickets they have resolved.
MIN_INTERVAL = timedelta(days=7)
# Citizens are not contacted from 21:00 to 09:00 Seoul time.
QUIET_FROM = time(21, 0)
QUIET_UNTIL = time(9, 0)
# Statuses that count as "this citizen was (or is about to be) surveyed".
COUNTED_STATUSES = (Survey.Status.SCHEDULED, Survey.Status.SENT, Survey.Status.ANSWERED)
# Where the answer came from, by how the survey reached the citizen.
ANSWER_CHANNELS = {
    Survey.Method.SMS: Channel.SMS,
    Survey.Method.KAKAO: Channel.KAKAO,
    Survey.Method.CALLBACK: Channel.VOICE,
}
SEND_BATCH = 50
# A happy call this late (the worker was down, or the ticket was resolved back-dated) would
# only puzzle the citizen: it is skipped instead.
SEND_WINDOW = timedelta(days=2)


class SkipReason:
    """Why a survey was not sent; stored in ``Survey.skip_reason`` for reports."""

    OPTED_OUT = "opted out"
    RECENT_SURVEY = "recent survey"
    NO_ADDRESS = "no reachable address"
    TEXTS_REFUSED = "text messages refused"
    TICKET_REOPENED = "ticket reopened"
    TOO_LATE = "too late"


class SurveyError(Exception):
    """A survey link that cannot be used; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class SurveyAlreadyAnswered(SurveyError):
    def __init__(self) -> None:
        super().__init__(_("This survey has already been answered. Thank you."), status=409)


def is_quiet_time(moment: datetime) -> bool:
    local = timezone.localtime(moment).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def survey_send_after(moment: datetime) -> datetime:
    """``moment`` itself in the daytime; otherwise the next 09:00 in Seoul."""
    if not is_quiet_time(moment):
        return moment
    local = timezone.localtime(moment)
    day = local.date() + timedelta(days=1) if local.time() >= QUIET_FROM else local.date()
    return datetime.combine(day, QUIET_UNTIL, tzinfo=local.tzinfo)


def _survey_method(*, ticket: Ticket, citizen: Citizen) -> str | None:
    """How to reach the citizen: a call-back for those who need help; for a KakaoTalk ticket
    an 알림톡 to their phone (SMS while business messages are off); else SMS. Never SMS to a
    citizen who texted STOP / 수신거부."""
    if citizen.needs_assistance:
        return Survey.Method.CALLBACK if citizen.phone else None
    if ticket.channel == Channel.KAKAO:
        route = kakao_notification_route(citizen)
        return {"kakao": Survey.Method.KAKAO, "sms": Survey.Method.SMS}.get(route or "")
    if not citizen.phone or citizen.sms_opted_out_at is not None:
        return None
    return Survey.Method.SMS


def _unreachable_reason(citizen: Citizen) -> str:
    """Why no way was found: texts refused (STOP), or nothing to send to."""
    if citizen.phone and citizen.sms_opted_out_at is not None:
        return SkipReason.TEXTS_REFUSED
    return SkipReason.NO_ADDRESS


def survey_schedule(*, ticket: Ticket, at: datetime | None = None) -> Survey | None:
    """Plan the happy call for a just-resolved ticket; None when it has no citizen.

    A survey that must not go out is still stored, as skipped with the reason, so reports
    can tell "not surveyed because opted out" from "never planned".
    """
    citizen = ticket.citizen
    if citizen is None:
        return None
    at = at or timezone.now()
    with transaction.atomic():
        # Two tickets of one citizen resolved at once must not both pass the 7-day check.
        citizen = row_locked(citizen)
        method = _survey_method(ticket=ticket, citizen=citizen)
        skip_reason = ""
        if citizen.survey_opt_out:
            skip_reason = SkipReason.OPTED_OUT
        elif Survey.objects.filter(
            citizen=citizen, status__in=COUNTED_STATUSES, send_after__gte=at - MIN_INTERVAL
        ).exists():
            skip_reason = SkipReason.RECENT_SURVEY
        elif method is None:
            skip_reason = _unreachable_reason(citizen)
        return Survey.objects.create(
            ticket=ticket,
            citizen=citizen,
            # A survey with nowhere to go is filed under SMS, the default way to reach people.
            method=method or Survey.Method.SMS,
            status=Survey.Status.SKIPPED if skip_reason else Survey.Status.SCHEDULED,
            skip_reason=skip_reason,
            send_after=survey_send_after(at),
            created_at=at,
        )


def survey_token(survey: Survey) -> str:
    return signing.dumps(survey.pk, salt=LINK_SALT)


def survey_url(survey: Survey) -> str:
    """The absolute link the citizen opens (``PUBLIC_BASE_URL`` + /survey/<token>/)."""
    return settings.PUBLIC_BASE_URL + reverse("survey", args=[survey_token(survey)])


def survey_from_token(token: str) -> Survey:
    """The survey a link names; SurveyError 404 when forged, 410 when expired."""
    try:
        survey_id = signing.loads(
            token, salt=LINK_SALT, max_age=timedelta(days=settings.SURVEY_TOKEN_MAX_AGE_DAYS)
        )
    except signing.SignatureExpired as error:
        raise SurveyError(
            _("This survey link has expired. Thank you for your interest."), status=410
        ) from error
    except signing.BadSignature as error:
        raise SurveyError(_("This survey link is not valid."), status=404) from error
    survey = Survey.objects.select_related("ticket", "citizen").filter(pk=survey_id).first()
    if survey is None or survey.status not in (Survey.Status.SENT, Survey.Status.ANSWERED):
        raise SurveyError(_("This survey link is not valid."), status=404)
    return survey


def surveys_send_due(*, now: datetime | None = None) -> int:
    """Send every scheduled survey that is due (its message queued in the outbox, sent by
    the worker once the batch commits); returns how many went out.

    Safe to run in several workers at once: each batch locks its rows (skipping rows another
    worker holds) and re-reads their status inside the lock, so no survey is sent twice.
    """
    now = now or timezone.now()
    if is_quiet_time(now):
        return 0
    Survey.objects.filter(status=Survey.Status.SCHEDULED, send_after__lt=now - SEND_WINDOW).update(
        status=Survey.Status.SKIPPED, skip_reason=SkipReason.TOO_LATE
    )
    sent = 0
    while True:
        with transaction.atomic():
            batch = list(
                rows_skip_locked(
                    Survey.objects.filter(status=Survey.Status.SCHEDULED, send_after__lte=now)
                    .select_related("ticket", "citizen")
                    .order_by("send_after", "id")
                )[:SEND_BATCH]
            )
            if not batch:
                return sent
            for survey in batch:
                sent += _survey_send(survey=survey, now=now)


def _survey_send(*, survey: Survey, now: datetime) -> int:
    """Deliver one locked survey; 1 when it went out, 0 when skipped or failed."""
    ticket, citizen = survey.ticket, survey.citizen
    skip_reason = ""
    if citizen.survey_opt_out:
        skip_reason = SkipReason.OPTED_OUT
    elif ticket.status not in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        skip_reason = SkipReason.TICKET_REOPENED
    else:
        # Asked again at sending time: the citizen may have texted STOP since, or KakaoTalk
        # business messages been switched on or off.
        method = _survey_method(ticket=ticket, citizen=citizen)
        if method is None:
            skip_reason = _unreachable_reason(citizen)
        else:
            survey.method = method
    if skip_reason:
        survey.status = Survey.Status.SKIPPED
        survey.skip_reason = skip_reason
        survey.save(update_fields=["status", "skip_reason"])
        return 0
    url = survey_url(survey)
    data: dict = {"survey": survey.pk, "method": survey.method}
    if survey.method == Survey.Method.CALLBACK:
        # The agent opens the same link during the call and records the citizen's answers.
        try:
            survey.callback = callback_request_create(
                phone=citizen.phone,
                source=CallbackRequest.Source.SURVEY,
                citizen=citizen,
                ticket=ticket,
                note=f"해피콜: {ticket.number} {url}",
                at=now,
            )
        except ValidationError as error:
            survey.status = Survey.Status.FAILED
            survey.skip_reason = "; ".join(error.messages)[:200]
            survey.save(update_fields=["status", "skip_reason"])
            return 0
        data["callback"] = survey.callback.pk
    else:
        # Queued counts as sent: the worker sends it after this batch commits, and a failed
        # delivery shows on the message (the ticket page, the outbox), not on the survey.
        message = _survey_message_enqueue(survey=survey, url=url)
        data["message"] = message.pk
    survey.status = Survey.Status.SENT
    survey.sent_at = now
    survey.save(update_fields=["status", "sent_at", "callback", "method"])
    TicketEvent.objects.create(
        ticket=ticket, type=TicketEvent.Type.SURVEY_SENT, data=data, created_at=now
    )
    return 1


def _survey_message_enqueue(*, survey: Survey, url: str) -> OutboundMessage:
    citizen = survey.citizen
    template = ""
    if survey.method == Survey.Method.KAKAO:
        # An 알림톡 is the approved Korean template, whatever the citizen's language.
        body = kakao_survey_text(number=survey.ticket.number, url=url)
        template = settings.KAKAO_BIZMSG_TEMPLATE_SURVEY
    else:
        with translation.override(citizen.message_language):
            body = _(
                "[120] Were you satisfied with how we handled your inquiry %(number)s? "
                "Please tell us: %(url)s"
            ) % {"number": survey.ticket.number, "url": url}
    return outbox_enqueue(
        channel=survey.method,
        to=citizen.phone.as_e164,
        body=body,
        idempotency_key=f"survey:{survey.pk}",
        ticket=survey.ticket,
        template=template,
    )


def survey_answer(
    *, survey: Survey, score: int, solved: bool | None, comment: str = ""
) -> SurveyAnswer:
    """Record the citizen's answer and close the survey; a second answer is refused."""
    if not 1 <= score <= 5:
        raise ValueError(_("Choose a satisfaction score from 1 to 5."))
    comment = mask_registration_numbers(comment.strip())
    if len(comment) > 1000:
        raise ValueError(_("Keep the comment under 1,000 characters."))
    now = timezone.now()
    with transaction.atomic():
        # Only the request that moves the survey from sent to answered may write the answer.
        claimed = Survey.objects.filter(pk=survey.pk, status=Survey.Status.SENT).update(
            status=Survey.Status.ANSWERED, answered_at=now
        )
        if not claimed:
            raise SurveyAlreadyAnswered()
        answer = SurveyAnswer.objects.create(
            survey=survey,
            ticket=survey.ticket,
            score=score,
            solved=solved,
            comment=comment,
            channel=ANSWER_CHANNELS[survey.method],
            created_at=now,
        )
        TicketEvent.objects.create(
            ticket=survey.ticket,
            type=TicketEvent.Type.SURVEY_ANSWERED,
            data={"survey": survey.pk, "score": score, "solved": solved},
            created_at=now,
        )
    survey.status, survey.answered_at = Survey.Status.ANSWERED, now
    return answer


def citizen_survey_opt_out(*, survey: Survey) -> Citizen:
    """The citizen behind a survey link asks for no more surveys; pending ones are skipped."""
    citizen = survey.citizen
    with transaction.atomic():
        Citizen.objects.filter(pk=citizen.pk).update(survey_opt_out=True)
        Survey.objects.filter(citizen=citizen, status=Survey.Status.SCHEDULED).update(
            status=Survey.Status.SKIPPED, skip_reason=SkipReason.OPTED_OUT
        )
    citizen.survey_opt_out = True
    return citizen
