"""The agent console's socket: presence and the agent's own events."""

from channels.db import database_sync_to_async

from callcenter.models import Agent, Presence
from callcenter.roles import AGENT, user_roles
from callcenter.services import agent_set_presence
from channels_app.consumers.base import Open120Consumer
from channels_app.events import agent_group

CLOSE_FORBIDDEN = 4403


@database_sync_to_async
def _agent_for(user) -> Agent | None:
    if AGENT not in user_roles(user):
        return None
    return Agent.objects.filter(user=user).first()


class AgentConsumer(Open120Consumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        self.agent = await _agent_for(user) if user is not None else None
        if self.agent is None:
            # Accept, then close with a code the console understands, so it sends the user
            # to the login page instead of reconnecting forever.
            await self.accept()
            await self.send_error("forbidden", "Log in as an agent to open this socket.")
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = agent_group(self.agent.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(
            {"type": "hello", "agent_id": self.agent.pk, "presence": self.agent.presence}
        )

    async def disconnect(self, code: int) -> None:
        if getattr(self, "agent", None) is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    def frame_handlers(self) -> dict:
        return {**super().frame_handlers(), "presence.set": self.on_presence_set}

    async def on_presence_set(self, content: dict) -> None:
        presence = content.get("presence")
        reason = content.get("reason", "")
        if presence not in Presence.values or not isinstance(reason, str):
            await self.send_error("invalid_presence", "Unknown presence or bad reason.")
            return
        try:
            await database_sync_to_async(agent_set_presence)(
                agent=self.agent, presence=presence, reason=reason
            )
        except ValueError as error:
            await self.send_error("invalid_presence", str(error))

    async def presence_changed(self, event: dict) -> None:
        await self.send_json(event)
