"""Open Builder's skill request, read into plain values (DESIGN.md "Kakao skill exchange").

Only what the bot uses is kept: who speaks (``userRequest.user``), what they said, the
one-time ``callbackUrl`` when the block has callbacks on, the bot, and the action's
parameters. Anything else in the request is ignored, so Kakao adding fields breaks nothing;
a request without a user id or an utterance is refused with the reason.
"""

import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Kakao's user keys are short opaque strings; anything longer is not from Kakao.
MAX_USER_KEY_CHARS = 100
MAX_BODY_BYTES = 64 * 1024


class SkillRequestError(Exception):
    """The request is not a skill request we can read; ``reason`` says why (sent back)."""

    def __init__(self, reason: str, *, code: str = "bad_request") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class SkillRequest:
    user_key: str  # plusfriendUserKey when Kakao gives it (stable per channel), else user.id
    bot_user_key: str  # userRequest.user.id
    utterance: str
    callback_url: str = ""
    bot_id: str = ""
    intent: str = ""
    params: dict[str, str] = field(default_factory=dict)
    client_extra: dict = field(default_factory=dict)


def _object(value, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SkillRequestError(f"{name} must be a JSON object.")
    return value


def _string(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _params(action: dict) -> dict[str, str]:
    """The action's parameters as strings: ``params`` and the values of ``detailParams``."""
    found: dict[str, str] = {}
    for name, detail in _object(action.get("detailParams"), "action.detailParams").items():
        if isinstance(detail, dict) and isinstance(detail.get("value"), str):
            found[str(name)] = detail["value"]
    for name, value in _object(action.get("params"), "action.params").items():
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            found[str(name)] = str(value)
    return found


def _callback_url(value) -> str:
    """Kakao's callbackUrl: an https URL (http only for a local test bed), else nothing."""
    url = _string(value)
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 1000:
        raise SkillRequestError("userRequest.callbackUrl is not a URL.")
    return url


def skill_request_parse(body: bytes) -> SkillRequest:
    """The skill request in ``body``; SkillRequestError with the reason when it is not one."""
    if len(body) > MAX_BODY_BYTES:
        raise SkillRequestError("The request is too large.", code="too_large")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise SkillRequestError("The body is not JSON.", code="invalid_json") from error
    if not isinstance(data, dict):
        raise SkillRequestError("The body must be a JSON object.", code="invalid_json")
    user_request = data.get("userRequest")
    if not isinstance(user_request, dict):
        raise SkillRequestError("userRequest is missing.", code="missing_field")
    user = _object(user_request.get("user"), "userRequest.user")
    bot_user_key = _string(user.get("id"))
    if not bot_user_key:
        raise SkillRequestError("userRequest.user.id is missing.", code="missing_field")
    utterance = user_request.get("utterance")
    if not isinstance(utterance, str):
        raise SkillRequestError("userRequest.utterance is missing.", code="missing_field")
    properties = _object(user.get("properties"), "userRequest.user.properties")
    user_key = _string(properties.get("plusfriendUserKey")) or bot_user_key
    if len(user_key) > MAX_USER_KEY_CHARS or len(bot_user_key) > MAX_USER_KEY_CHARS:
        raise SkillRequestError("The user key is too long.")
    if "\x00" in utterance or "\x00" in user_key:
        raise SkillRequestError("The request contains a NUL character.")
    action = _object(data.get("action"), "action")
    return SkillRequest(
        user_key=user_key,
        bot_user_key=bot_user_key,
        utterance=utterance.strip(),
        callback_url=_callback_url(user_request.get("callbackUrl")),
        bot_id=_string(_object(data.get("bot"), "bot").get("id")),
        intent=_string(_object(data.get("intent"), "intent").get("name")),
        params=_params(action),
        client_extra=_object(action.get("clientExtra"), "action.clientExtra"),
    )
