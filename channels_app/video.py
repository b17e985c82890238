"""The citizen's sign-language video call over HTTP: the page, starting a call, availability
and the call-back request (see callcenter.services.video for the call itself).

Like the web chat, the call is reached by its token, not a cookie: the JSON endpoints are
CSRF-exempt (there is no ambient authority to borrow) and rate-limited per client address.
"""

import json
from datetime import datetime, timedelta

import phonenumbers
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from phonenumber_field.formfields import PhoneNumberField

from callcenter import ratelimits
from callcenter.models import CallbackRequest, Queue
from callcenter.services import video as video_service
from callcenter.services import video_callbacks
from callcenter.services.callbacks import callback_request_create
from tickets.sla import SEOUL

# How far ahead a citizen may ask to be called back by video.
CALLBACK_DAYS_AHEAD = 14
WEEKDAYS = [
    gettext_lazy("Mon"),
    gettext_lazy("Tue"),
    gettext_lazy("Wed"),
    gettext_lazy("Thu"),
    gettext_lazy("Fri"),
    gettext_lazy("Sat"),
    gettext_lazy("Sun"),
]


class VideoStartForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=80, required=False)
    phone = PhoneNumberField(
        label=gettext_lazy("Mobile phone"),
        region="KR",
        required=False,
        help_text=gettext_lazy("Optional. For a video call-back if the call is cut off."),
        error_messages={"invalid": gettext_lazy("Enter a valid phone number, e.g. 010-1234-5678.")},
    )
    consent = forms.BooleanField(
        label=gettext_lazy(
            "I agree to the collection and use of my personal data for this consultation."
        ),
        error_messages={
            "required": gettext_lazy("Agree to the personal data notice to start the call.")
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Asked only where the city records video calls at all (off by default).
        if settings.VIDEO_RECORDING:
            self.fields["recording_consent"] = forms.BooleanField(
                label=gettext_lazy("I agree that this video call may be recorded."),
                required=False,
            )


class VideoCallbackForm(forms.Form):
    """A video call-back at a time the citizen chooses (Asia/Seoul wall time)."""

    phone = PhoneNumberField(
        label=gettext_lazy("Mobile phone"),
        region="KR",
        error_messages={
            "required": gettext_lazy("Enter the mobile number we should call."),
            "invalid": gettext_lazy("Enter a valid mobile number, e.g. 010-1234-5678."),
        },
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=80, required=False)
    preferred_at = forms.CharField(
        label=gettext_lazy("Preferred time"),
        error_messages={"required": gettext_lazy("Choose a date and time.")},
    )
    note = forms.CharField(
        label=gettext_lazy("What is it about? (optional)"), max_length=500, required=False
    )

    def __init__(self, *args, queue: Queue, now: datetime, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.queue = queue
        self.now = now

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        # The call-back comes as a text message with the video link: a mobile number only.
        if phonenumbers.number_type(phone) not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            raise ValidationError(
                _("Enter a mobile number (010-…): the video link is sent by text message.")
            )
        return phone

    def clean_preferred_at(self) -> datetime:
        value = self.cleaned_data["preferred_at"].strip()
        try:
            chosen = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(_("Choose a date and time.")) from None
        # The page sends Seoul wall time ("2026-12-01T14:30"); an offset is honoured.
        chosen = chosen.replace(tzinfo=SEOUL) if chosen.tzinfo is None else chosen
        chosen = chosen.astimezone(SEOUL).replace(second=0, microsecond=0)
        if chosen <= self.now:
            raise ValidationError(_("That time has passed. Choose a time in the future."))
        if chosen > self.now + timedelta(days=CALLBACK_DAYS_AHEAD):
            raise ValidationError(
                _("Choose a time within the next %(days)d days.") % {"days": CALLBACK_DAYS_AHEAD}
            )
        calendar = self.queue.calendar
        if calendar is not None and not calendar.working_time().is_open(chosen):
            raise ValidationError(
                _("We are closed then. Choose a time within our hours: %(hours)s")
                % {"hours": hours_text(self.queue)}
            )
        return chosen


# --- helpers ---------------------------------------------------------------------------------
def hours_text(queue: Queue | None) -> str:
    """The queue's opening hours in words: "Mon–Fri 09:00–18:00 (closed on public holidays)",
    or "24 hours" for a queue without a calendar (or a 24/7 one)."""
    calendar = queue.calendar if queue is not None else None
    if calendar is None or calendar.always_open:
        return _("24 hours, every day")
    hours = calendar.working_time().hours
    groups: list[tuple[int, int, tuple]] = []  # first day, last day, intervals
    for day in range(7):
        intervals = tuple(tuple(pair) for pair in hours.get(day, []))
        if groups and groups[-1][2] == intervals and groups[-1][1] == day - 1:
            groups[-1] = (groups[-1][0], day, intervals)
        else:
            groups.append((day, day, intervals))
    parts = []
    for first, last, intervals in groups:
        if not intervals:
            continue
        days = str(WEEKDAYS[first]) if first == last else f"{WEEKDAYS[first]}–{WEEKDAYS[last]}"
        times = ", ".join(f"{start}–{end}" for start, end in intervals)
        parts.append(f"{days} {times}")
    if not parts:
        return _("Closed")
    text = "; ".join(parts)
    if calendar.public_holidays:
        text = f"{text} {_('(closed on public holidays)')}"
    return text


def _availability_payload(availability: video_service.Availability) -> dict:
    return {
        "available": availability.available,
        "reason": availability.reason,
        "open_now": availability.open_now,
        "signing_agents": availability.signing_agents,
        "hours": hours_text(availability.queue),
        "queue": availability.queue.name if availability.queue else "",
    }


def _body(request: HttpRequest):
    """The request's fields (JSON object or form), or a 400 answer."""
    if request.content_type != "application/json":
        return request.POST
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):
        return JsonResponse(
            {"error": "invalid_json", "message": "The body is not JSON."}, status=400
        )
    if not isinstance(data, dict):
        return JsonResponse({"error": "invalid_json", "message": "Send a JSON object."}, status=400)
    return data


def _invalid(form: forms.Form) -> JsonResponse:
    fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
    message = " ".join(message for messages in fields.values() for message in messages)
    return JsonResponse({"error": "invalid", "message": message, "fields": fields}, status=400)


def _too_many(message: str, used: ratelimits.Usage) -> JsonResponse:
    response = JsonResponse(
        {"error": "rate_limited", "message": message, "retry_after": used.retry_after},
        status=429,
    )
    return ratelimits.with_retry_after(response, used.retry_after)


def _unavailable(reason: str) -> JsonResponse:
    return JsonResponse(
        {
            "error": "unavailable",
            "reason": reason,
            "message": video_service.unavailable_message(reason),
        },
        status=503,
    )


# --- views -----------------------------------------------------------------------------------
@require_GET
def video_page(request: HttpRequest) -> HttpResponse:
    """The citizen's video page; ?lang= is handled by KoreanFirstLocaleMiddleware."""
    availability = video_service.video_availability()
    today = timezone.localdate(timezone.now(), SEOUL)
    # A booked call-back's link (texted by the agent): the page starts the call with them.
    callback_link, callback_link_error = False, ""
    if "callback" in request.GET:
        try:
            video_callbacks.video_callback_for_link(request.GET["callback"])
            callback_link = True
        except video_callbacks.VideoLinkError as error:
            callback_link_error = str(error)
    return render(
        request,
        "video/video.html",
        {
            "callback_link": callback_link,
            "callback_link_error": callback_link_error,
            "form": VideoStartForm(),
            "availability": availability,
            "hours": hours_text(availability.queue),
            "unavailable_message": (
                video_service.unavailable_message(availability.reason)
                if not availability.available
                else ""
            ),
            "callback_min_date": today.isoformat(),
            "callback_max_date": (today + timedelta(days=CALLBACK_DAYS_AHEAD)).isoformat(),
            "callback_days": CALLBACK_DAYS_AHEAD,
        },
    )


@require_GET
def video_availability(request: HttpRequest) -> JsonResponse:
    """Whether a call could be answered now (no personal data: counts and hours only)."""
    response = JsonResponse(_availability_payload(video_service.video_availability()))
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_POST
def video_start(request: HttpRequest) -> JsonResponse:
    """Start a call: 201 {token, contact_id, ws_url, ws_protocols, video_ws_url,
    video_ws_protocols}; 400 with field errors; 503 when nobody could answer; 429.
    With ``callback`` (the link of a booked video call-back) the call goes to the agent who
    sent it; 400 bad_link when that link is forged, expired or its call-back closed."""
    used = ratelimits.usage(
        request, group="video-start", per_hour=settings.VIDEO_START_LIMIT_PER_HOUR, count=True
    )
    if used and used.exceeded:
        return _too_many(_("Too many video calls started. Try again later."), used)
    data = _body(request)
    if isinstance(data, JsonResponse):
        return data
    form = VideoStartForm(data)
    if not form.is_valid():
        return _invalid(form)
    phone = form.cleaned_data["phone"]
    link = data.get("callback") or ""
    if link:
        return _callback_start(request, form, link)
    try:
        session, token, video = video_service.video_start(
            name=form.cleaned_data["name"].strip(),
            phone=phone.as_e164 if phone else "",
            language=request.LANGUAGE_CODE,
            recording_consent=form.cleaned_data.get("recording_consent", False),
        )
    except video_service.VideoError:
        return _unavailable(video_service.video_availability().reason or "no_agents")
    return _started(session, token, video)


def _callback_start(request: HttpRequest, form: VideoStartForm, link) -> JsonResponse:
    """The start from a call-back link: with the agent who sent it (or queued when they are
    busy), never refused for availability; 400 bad_link for a forged or expired link."""
    try:
        session, token, video = video_callbacks.video_callback_start(
            token=link if isinstance(link, str) else "",
            name=form.cleaned_data["name"].strip(),
            language=request.LANGUAGE_CODE,
            recording_consent=form.cleaned_data.get("recording_consent", False),
        )
    except video_callbacks.VideoLinkError as error:
        return JsonResponse({"error": "bad_link", "message": str(error)}, status=400)
    except video_service.VideoError:
        return _unavailable("no_queue")
    return _started(session, token, video)


def _started(session, token: str, video) -> JsonResponse:
    return JsonResponse(
        {
            "token": token,
            "contact_id": session.contact_id,
            "ws_url": "/ws/chat/",
            "ws_protocols": ["open120.chat", token],
            "video_ws_url": f"/ws/video/{video.room}/",
            "video_ws_protocols": ["open120.video", token],
        },
        status=201,
    )


@csrf_exempt
@require_POST
def video_callback(request: HttpRequest) -> JsonResponse:
    """Ask for a video call-back at a chosen time: 201 {status, preferred_at}; 400 with the
    reasons (phone, a time past, too far ahead or outside hours); 503 without a queue; 429."""
    used = ratelimits.usage(
        request,
        group="video-callback",
        per_hour=settings.VIDEO_CALLBACK_LIMIT_PER_HOUR,
        count=True,
    )
    if used and used.exceeded:
        return _too_many(_("Too many call-back requests. Try again later."), used)
    data = _body(request)
    if isinstance(data, JsonResponse):
        return data
    queue = video_service.video_queue()
    if queue is None:
        return _unavailable("no_queue")
    form = VideoCallbackForm(data, queue=queue, now=timezone.now())
    if not form.is_valid():
        return _invalid(form)
    callback = callback_request_create(
        phone=form.cleaned_data["phone"],
        name=form.cleaned_data["name"],
        source=CallbackRequest.Source.VIDEO,
        queue=queue,
        note=form.cleaned_data["note"],
        preferred_at=form.cleaned_data["preferred_at"],
    )
    preferred = timezone.localtime(callback.preferred_at, SEOUL)
    return JsonResponse(
        {
            "status": "saved",
            "preferred_at": preferred.isoformat(),
            "message": _("Thank you. We will call you by video at %(when)s.")
            % {"when": preferred.strftime("%Y-%m-%d %H:%M")},
        },
        status=201,
    )
