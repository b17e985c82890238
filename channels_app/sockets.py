"""The consoles and chat pages this process holds open, kept alive in the database.

Routing and dashboards of every process read ``SocketConnection`` rows; this process writes
its own on open and close, and the router loop refreshes them (``heartbeat``) so a process
that dies leaves rows that go stale by themselves.
"""

from callcenter.models import Agent, ChatSession
from callcenter.services.presence import socket_close, socket_open, sockets_heartbeat
from channels_app.consumers.base import db_call

# channel name → (agent id, chat session id) of each socket open in this process.
_open: dict[str, tuple[int | None, int | None]] = {}


async def opened(
    channel_name: str, *, agent: Agent | None = None, session: ChatSession | None = None
) -> None:
    _open[channel_name] = (agent.pk if agent else None, session.pk if session else None)
    await db_call(socket_open)(channel_name=channel_name, agent=agent, session=session)


async def closed(channel_name: str) -> None:
    if _open.pop(channel_name, None) is not None:
        await db_call(socket_close)(channel_name=channel_name)


def heartbeat() -> None:
    """Refresh every socket this process holds (blocking: run it in a thread)."""
    sockets_heartbeat(sockets=dict(_open))
