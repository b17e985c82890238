"""What every Open120 socket shares: a frame size limit and error frames for bad input."""

import json

from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation

from callcenter.services.messages import CONTROL_CHARACTERS

MAX_FRAME_BYTES = 64 * 1024
MAX_FRAME_DEPTH = 8


def db_call(func):
    """Run a blocking domain call from a consumer, in the worker thread pool.

    Channels' default (one thread per process for all database work) serialises every
    socket of a process behind one connection; each pool thread keeps its own connection
    (CONN_MAX_AGE) and old ones are closed around each call.
    """
    return DatabaseSyncToAsync(func, thread_sensitive=False)


class Open120Consumer(AsyncJsonWebsocketConsumer):
    """JSON frames of the form {"type": "...", ...}; anything else gets an error frame."""

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            await self.send_error("binary_not_supported", "Send JSON text frames.")
            return
        if len(text_data.encode()) > MAX_FRAME_BYTES:
            await self.send_error(
                "frame_too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes."
            )
            return
        try:
            content = json.loads(text_data)
        except (json.JSONDecodeError, RecursionError):
            await self.send_error("invalid_json", "The frame is not valid JSON.")
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error("invalid_frame", 'A frame is an object with a "type".')
            return
        problem = frame_problem(content)
        if problem is not None:
            client_id = content.get("client_id")
            await self.send_error(
                *problem, client_id=client_id if isinstance(client_id, str) else None
            )
            return
        handler = self.frame_handlers().get(content["type"])
        if handler is None:
            await self.send_error("unknown_type", f"Unknown frame type {content['type']!r}.")
            return
        # Refusals and system lines come out in the socket's language.
        with translation.override(self.language):
            await handler(content)

    @property
    def language(self) -> str:
        """The UI language chosen with the language switch (cookie), Korean by default."""
        chosen = self.scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME, "")
        return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE

    def frame_handlers(self) -> dict:
        return {"ping": self.on_ping}

    async def on_ping(self, content: dict) -> None:
        await self.send_json({"type": "pong", "id": content.get("id")})

    async def send_error(self, code: str, message: str, *, client_id: str | None = None) -> None:
        """An error frame; ``client_id`` names the refused message, so clients stop resending it."""
        frame = {"type": "error", "code": code, "message": message}
        if client_id is not None:
            frame["client_id"] = client_id
        await self.send_json(frame)


def frame_problem(content: dict) -> tuple[str, str] | None:
    """(code, message) when a decoded frame nests too deep or carries control characters.

    Frames are flat; a deep one is an attack on the parser. NUL and the other C0 controls
    (tab and line breaks aside) have no place in chat text, and PostgreSQL refuses NUL
    outright, so they are refused here, before anything is stored.
    """
    stack = [(content, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_FRAME_DEPTH:
            return "invalid_frame", f"Frames nest at most {MAX_FRAME_DEPTH} levels deep."
        if isinstance(value, str):
            if CONTROL_CHARACTERS.search(value):
                return "invalid_text", "Text may not contain control characters."
        elif isinstance(value, dict):
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return None


def integer(content: dict, key: str) -> int | None:
    """content[key] when it is a whole number (not a bool), else None."""
    value = content.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def text(content: dict, key: str) -> str | None:
    """content[key] when it is a non-blank string, else None."""
    value = content.get(key)
    return value if isinstance(value, str) and value.strip() else None
