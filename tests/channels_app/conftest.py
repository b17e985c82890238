"""Sockets against the real ASGI application, logged in with real sessions."""

import pytest
from channels.db import database_sync_to_async as sync_to_async  # closes its connection
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from callcenter.asgi import application

ORIGIN = (b"origin", b"http://127.0.0.1:8000")  # PUBLIC_BASE_URL's host is allowed


@pytest.fixture(autouse=True)
def fresh_layers():
    """Channel layers are built once per process and bound to an event loop: rebuild."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@sync_to_async
def session_cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


async def agent_socket(user=None) -> WebsocketCommunicator:
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", await session_cookie_for(user)))
    communicator = WebsocketCommunicator(application, "/ws/agent/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def citizen_socket(token: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/chat/{token}/", headers=[ORIGIN])
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def receive_until(communicator: WebsocketCommunicator, frame_type: str, wait: float = 5):
    """Frames up to and including the first of ``frame_type`` (others are returned too)."""
    seen = []
    while True:
        frame = await communicator.receive_json_from(timeout=wait)
        seen.append(frame)
        if frame["type"] == frame_type:
            return frame, seen
