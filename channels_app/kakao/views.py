"""``POST /kakao/skill``: Open Builder's skill requests, answered with a skill response.

Checked before anything is read or stored: the shared secret Open Builder sends in the
``X-Skill-Secret`` header (compared in constant time; no secret configured refuses all: 401),
then the bot's id when KAKAO_BOT_ID is set (403). A body that is not a skill request gets 400
with the reason. An utterance over KAKAO_UTTERANCE_MAX_CHARS is not stored: the citizen gets
a polite answer (200) asking for a shorter message, since a 4xx would show Kakao's generic
error instead. Everything else goes to ``callcenter.services.kakao``.
"""

import hmac
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from callcenter.services import kakao
from channels_app.kakao.responses import skill_error, skill_json
from channels_app.kakao.skill import SkillRequestError, skill_request_parse

logger = logging.getLogger(__name__)


def _secret_valid(request: HttpRequest) -> bool:
    expected = settings.KAKAO_SKILL_SECRET
    given = request.headers.get("X-Skill-Secret", "")
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


@csrf_exempt
@require_POST
def kakao_skill(request: HttpRequest) -> JsonResponse:
    if not _secret_valid(request):
        return skill_error(401, "unauthorized", "X-Skill-Secret is missing or wrong.")
    try:
        skill = skill_request_parse(request.body)
    except SkillRequestError as error:
        status = 413 if error.code == "too_large" else 400
        return skill_error(status, error.code, error.reason)
    if settings.KAKAO_BOT_ID and not hmac.compare_digest(
        skill.bot_id.encode(), settings.KAKAO_BOT_ID.encode()
    ):
        return skill_error(403, "wrong_bot", "bot.id is not this skill's bot.")
    if len(skill.utterance) > settings.KAKAO_UTTERANCE_MAX_CHARS:
        return skill_json(kakao.kakao_too_long_response())
    try:
        payload = kakao.kakao_utterance_handle(
            user_key=skill.user_key,
            utterance=skill.utterance,
            callback_url=skill.callback_url,
            params=skill.params,
        )
    except ValidationError as error:  # control characters: stored nothing (rolled back)
        return skill_error(400, "invalid_utterance", " ".join(error.messages))
    return skill_json(payload)
