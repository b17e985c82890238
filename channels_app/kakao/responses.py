"""Kakao skill responses: the limits every response must respect, and the HTTP answers.

The builders of Kakao's JSON (``simple_text``, ``basic_card``, ``quick_reply``,
``skill_response``, ``callback_wait_response``) live in ``callcenter.services.kakao``:
agents' replies are built there and leave through the outbox, below this adapter. Every
response the skill can send, and every callback body, passes ``response_check`` in the tests.
"""

from django.http import JsonResponse

from callcenter.services.kakao import (
    MAX_CARD_BUTTONS,
    MAX_CARD_DESCRIPTION,
    MAX_CARD_TITLE,
    MAX_LABEL,
    MAX_OUTPUTS,
    MAX_QUICK_REPLIES,
    MAX_SIMPLE_TEXT,
)

BUTTON_ACTIONS = {
    "webLink": "webLinkUrl",
    "message": "messageText",
    "phone": "phoneNumber",
    "block": "blockId",
}
QUICK_REPLY_ACTIONS = {"message": "messageText", "block": "blockId"}


def _text_problems(where: str, value, limit: int, *, required: bool = True) -> list[str]:
    if value is None and not required:
        return []
    if not isinstance(value, str) or (required and not value.strip()):
        return [f"{where} must be a non-empty string"]
    if len(value) > limit:
        return [f"{where} has {len(value)} characters, more than {limit}"]
    return []


def _action_problems(where: str, item, actions: dict[str, str]) -> list[str]:
    if not isinstance(item, dict):
        return [f"{where} must be an object"]
    problems = _text_problems(f"{where}.label", item.get("label"), MAX_LABEL)
    action = item.get("action")
    if action not in actions:
        return [*problems, f"{where}.action {action!r} is not one of {sorted(actions)}"]
    target = item.get(actions[action])
    if not isinstance(target, str) or not target:
        problems.append(f"{where} ({action}) needs {actions[action]}")
    elif action == "webLink" and not target.startswith(("https://", "http://")):
        problems.append(f"{where}.webLinkUrl is not a web address")
    return problems


def _output_problems(where: str, output) -> list[str]:
    if not isinstance(output, dict) or len(output) != 1:
        return [f"{where} must be an object with one component"]
    kind, body = next(iter(output.items()))
    if not isinstance(body, dict):
        return [f"{where}.{kind} must be an object"]
    if kind == "simpleText":
        return _text_problems(f"{where}.simpleText.text", body.get("text"), MAX_SIMPLE_TEXT)
    if kind == "basicCard":
        problems = _text_problems(
            f"{where}.basicCard.title", body.get("title"), MAX_CARD_TITLE, required=False
        )
        problems += _text_problems(
            f"{where}.basicCard.description",
            body.get("description"),
            MAX_CARD_DESCRIPTION,
            required=False,
        )
        buttons = body.get("buttons", [])
        if not isinstance(buttons, list) or len(buttons) > MAX_CARD_BUTTONS:
            problems.append(f"{where}.basicCard.buttons: at most {MAX_CARD_BUTTONS}")
            buttons = []
        for n, button in enumerate(buttons):
            problems += _action_problems(f"{where}.basicCard.buttons[{n}]", button, BUTTON_ACTIONS)
        return problems
    return [f"{where}: {kind} is not a component this skill sends"]


def response_check(resp) -> list[str]:
    """What is wrong with a skill response (or callback body) by Kakao's rules: version
    2.0, 1–3 outputs, simpleText ≤ 1000, basicCard description ≤ 230 and ≤ 3 buttons,
    ≤ 10 quick replies, labels ≤ 14 characters; or a ``useCallback`` answer with its text.
    An empty list: Kakao takes it."""
    if not isinstance(resp, dict):
        return ["the response must be a JSON object"]
    problems = [] if resp.get("version") == "2.0" else ['version must be "2.0"']
    if resp.get("useCallback") is True:
        data = resp.get("data")
        text = data.get("text") if isinstance(data, dict) else None
        problems += _text_problems("data.text", text, MAX_SIMPLE_TEXT)
        if "template" in resp:
            problems.append("a useCallback answer carries no template")
        return problems
    template = resp.get("template")
    if not isinstance(template, dict):
        return [*problems, "template is missing"]
    outputs = template.get("outputs")
    if not isinstance(outputs, list) or not 1 <= len(outputs) <= MAX_OUTPUTS:
        problems.append(f"template.outputs must hold 1 to {MAX_OUTPUTS} outputs")
        outputs = outputs if isinstance(outputs, list) else []
    for n, output in enumerate(outputs):
        problems += _output_problems(f"outputs[{n}]", output)
    quick_replies = template.get("quickReplies", [])
    if not isinstance(quick_replies, list) or len(quick_replies) > MAX_QUICK_REPLIES:
        problems.append(f"template.quickReplies: at most {MAX_QUICK_REPLIES}")
        quick_replies = []
    for n, item in enumerate(quick_replies):
        problems += _action_problems(f"quickReplies[{n}]", item, QUICK_REPLY_ACTIONS)
    return problems


def skill_json(payload: dict) -> JsonResponse:
    """A skill response as Kakao reads it: UTF-8 JSON, Korean unescaped."""
    return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})


def skill_error(status: int, error: str, reason: str) -> JsonResponse:
    """A refused request: the status, a code and the reason (for whoever set up the bot)."""
    return JsonResponse({"error": error, "message": reason}, status=status)
