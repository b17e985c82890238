"""The citizen web chat over HTTP: the page, starting a chat, uploads, signed downloads."""

import json

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from phonenumber_field.formfields import PhoneNumberField

from callcenter import ratelimits
from callcenter.attachments import attachment_from_token, attachment_path
from callcenter.models import OPEN_CONTACT_STATES, Message
from callcenter.services import conversations as conversation
from callcenter.services.notify import message_payload

CHAT_LANGUAGES = [("ko", "한국어"), ("en", "English")]


class ChatStartForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, required=False)
    phone = PhoneNumberField(
        label=_("Phone"),
        region="KR",
        required=False,
        error_messages={"invalid": _("Enter a valid phone number, e.g. 010-1234-5678.")},
    )
    language = forms.ChoiceField(label=_("Language"), choices=CHAT_LANGUAGES, initial="ko")
    consent = forms.BooleanField(
        label=_("I agree to the collection and use of my personal data for this consultation."),
        error_messages={"required": _("Agree to the personal data notice to start the chat.")},
    )


def _too_many(message: str, used: ratelimits.Usage) -> JsonResponse:
    response = JsonResponse(
        {"error": "rate_limited", "message": str(message), "retry_after": used.retry_after},
        status=429,
    )
    return ratelimits.with_retry_after(response, used.retry_after)


@require_GET
@xframe_options_exempt
def chat_page(request: HttpRequest) -> HttpResponse:
    """The citizen chat, full page or inside the widget's iframe (?embed=1); ?lang= is
    handled by KoreanFirstLocaleMiddleware like on every page."""
    response = render(
        request,
        "chat/chat.html",
        {
            "embed": request.GET.get("embed") == "1",
            "form": ChatStartForm(initial={"language": request.LANGUAGE_CODE}),
            "start_url": reverse("chat-start"),
            "max_upload_bytes": settings.CHAT_MAX_UPLOAD_BYTES,
        },
    )
    # The site policy (settings.CONTENT_SECURITY_POLICY), framed only by the city's sites.
    response._csp_replace = {"frame-ancestors": settings.CHAT_EMBED_ORIGINS}
    return response


# The chat is reached by its token, not a cookie, so there is no ambient authority for a
# forged cross-site request to borrow; CSRF cookies are also unreliable inside iframes.
@csrf_exempt
@require_POST
def chat_start(request: HttpRequest) -> JsonResponse:
    """Start a chat: 201 {token, contact_id, ws_url}, or 400 with the form's errors."""
    used = ratelimits.usage(
        request, group="chat-start", per_hour=settings.CHAT_START_LIMIT_PER_HOUR, count=True
    )
    if used and used.exceeded:
        return _too_many(_("Too many chats started. Try again later."), used)
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested to crash
            return JsonResponse(
                {"error": "invalid_json", "message": "The body is not JSON."}, status=400
            )
        if not isinstance(data, dict):
            return JsonResponse(
                {"error": "invalid_json", "message": "Send a JSON object."}, status=400
            )
    else:
        data = request.POST
    form = ChatStartForm(data)
    if not form.is_valid():
        return JsonResponse(
            {
                "error": "invalid",
                "fields": {f: [str(e) for e in errs] for f, errs in form.errors.items()},
            },
            status=400,
        )
    phone = form.cleaned_data["phone"]
    try:
        session, token = conversation.chat_start(
            name=form.cleaned_data["name"].strip(),
            phone=phone.as_e164 if phone else "",
            language=form.cleaned_data["language"],
        )
    except conversation.ChatError as error:
        return JsonResponse({"error": "unavailable", "message": str(error)}, status=503)
    return JsonResponse(
        {
            "token": token,
            "contact_id": session.contact_id,
            "ws_url": "/ws/chat/",
            "ws_protocols": ["open120.chat", token],
        },
        status=201,
    )


@csrf_exempt
@require_POST
def chat_attachment(request: HttpRequest, token: str) -> JsonResponse:
    """A citizen sends an image or PDF into their chat: 201, 400, 404, 409 (ended), 410 (the
    token is dead), 413 (the chat's quota is used up) or 429 (too many uploads from this
    address this hour)."""
    used = ratelimits.usage(
        request, group="chat-upload", per_hour=settings.CHAT_UPLOADS_PER_HOUR, count=True
    )
    if used and used.exceeded:
        return _too_many(_("Too many files from your connection. Try again later."), used)
    session = conversation.session_for_token(token)
    if session is None:
        return JsonResponse(
            {"error": "unknown_session", "message": "This chat no longer exists."}, status=404
        )
    if conversation.session_expired(session):
        return JsonResponse(
            {"error": "session_expired", "message": str(_("This chat has closed."))}, status=410
        )
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": "no_file", "message": str(_("Choose a file."))}, status=400)
    contact = session.contact
    if contact.state not in OPEN_CONTACT_STATES:
        return JsonResponse(
            {"error": "chat_ended", "message": str(_("This chat has ended."))}, status=409
        )
    try:
        message = conversation.chat_attachment_send(
            session=session, upload=upload, text=request.POST.get("text", "")
        )
    except conversation.ChatQuotaExceeded as error:
        return JsonResponse({"error": "quota_exceeded", "message": str(error)}, status=413)
    except ValidationError as error:
        return JsonResponse({"error": "bad_file", "message": " ".join(error.messages)}, status=400)
    return JsonResponse({"message": message_payload(message)}, status=201)


@require_GET
def attachment_download(request: HttpRequest, signed: str) -> FileResponse:
    """Serve an attachment to whoever holds a valid signed link (given in message frames)."""
    try:
        message_id, item_id = attachment_from_token(signed)
    except (signing.BadSignature, ValueError):
        return JsonResponse(
            {"error": "bad_link", "message": "This link is invalid or has expired."}, status=403
        )
    message = get_object_or_404(Message, pk=message_id)
    item = next((i for i in message.attachments if i.get("id") == item_id), None)
    if item is None:
        raise Http404("No such attachment.")
    response = FileResponse(attachment_path(item).open("rb"), content_type=item["content_type"])
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{_quote(item['name'])}"
    response["Cache-Control"] = "private, no-store"  # personal data: no copy on shared PCs
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)
