"""Sockets against the real ASGI application, logged in with real sessions."""

import asyncio

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


@pytest.fixture(autouse=True)
async def end_stray_tasks():
    """End what a test left running on its loop (an application instance whose socket was
    refused and never disconnected, its channel layer receive) before the loop closes.

    A cancellation that reaches a channels-redis receive inside redis-py's blocking read
    can be swallowed (the read goes on and the receive loops; seen in CI, where the loop's
    close then waited for good): such a task is cancelled again until it ends."""
    yield
    current = asyncio.current_task()
    stray = {task for task in asyncio.all_tasks() if task is not current}
    for _attempt in range(40):
        if not stray:
            return
        for task in stray:
            task.cancel()
        _done, stray = await asyncio.wait(stray, timeout=0.5)
    raise AssertionError(f"tasks that would not end: {stray}")


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
