"""What every Open120 socket shares: a frame size limit and error frames for bad input."""

import json

from channels.generic.websocket import AsyncJsonWebsocketConsumer

MAX_FRAME_BYTES = 64 * 1024


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
        except json.JSONDecodeError:
            await self.send_error("invalid_json", "The frame is not valid JSON.")
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error("invalid_frame", 'A frame is an object with a "type".')
            return
        handler = self.frame_handlers().get(content["type"])
        if handler is None:
            await self.send_error("unknown_type", f"Unknown frame type {content['type']!r}.")
            return
        await handler(content)

    def frame_handlers(self) -> dict:
        return {"ping": self.on_ping}

    async def on_ping(self, content: dict) -> None:
        await self.send_json({"type": "pong", "id": content.get("id")})

    async def send_error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})


def integer(content: dict, key: str) -> int | None:
    """content[key] when it is a whole number (not a bool), else None."""
    value = content.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def text(content: dict, key: str) -> str | None:
    """content[key] when it is a non-blank string, else None."""
    value = content.get(key)
    return value if isinstance(value, str) and value.strip() else None
