"""The echo floor: a bare Channels consumer over the same Redis as the app.

    daphne -p 8311 bench.echo_asgi:application   (with DJANGO_SETTINGS_MODULE=bench.echo_settings)

``/ws/echo/agent/<conversation>/`` joins the group ``echo-<conversation>``;
``/ws/echo/citizen/<conversation>/`` sends every JSON frame it receives to that group with
``group_send``. With the two sockets on two daphne processes, a frame makes the trip a chat
message makes (socket → consumer → Redis → the other process → socket) and nothing else:
no database, no authentication, no session. ``GET /healthz`` answers 200 for the bench's
start-up check.
"""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.echo_settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402 - after setup()
from channels.routing import ProtocolTypeRouter  # noqa: E402


class EchoConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        parts = self.scope["path"].strip("/").split("/")  # ws, echo, role, conversation
        if len(parts) != 4 or parts[:2] != ["ws", "echo"] or parts[2] not in {"agent", "citizen"}:
            await self.close(code=4404)
            return
        self.role, self.group = parts[2], f"echo-{parts[3]}"
        if self.role == "agent":
            await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "role", None) == "agent":
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        frame = json.loads(text_data or "{}")
        await self.channel_layer.group_send(self.group, {"type": "echo.frame", "frame": frame})

    async def echo_frame(self, event: dict) -> None:
        await self.send(text_data=json.dumps(event["frame"]))


async def healthz(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


application = ProtocolTypeRouter({"http": healthz, "websocket": EchoConsumer.as_asgi()})
