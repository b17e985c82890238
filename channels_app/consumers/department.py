"""A department's socket: officers hear of tickets transferred to them and of the centre's
replies to their questions (``ticket.notice`` frames on ``department.<id>``)."""

from django.utils.translation import gettext as _

from channels_app.consumers.base import Open120Consumer, db_call
from channels_app.events import department_group
from tickets.models import Officer

CLOSE_FORBIDDEN = 4403


class DepartmentConsumer(Open120Consumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        self.group: str | None = None
        officer = None
        if user is not None and user.is_authenticated:
            officer = await db_call(
                Officer.objects.select_related("department").filter(user=user).first
            )()
        if officer is None:
            # Accept, then close with a code the page understands, so it stops reconnecting.
            await self.accept()
            await self.send_error("forbidden", _("Log in as a department officer."))
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = department_group(officer.department_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(
            {
                "type": "hello",
                "department": {"id": officer.department_id, "name": officer.department.name},
            }
        )

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    # --- events from the channel layer ----------------------------------------------------
    async def ticket_notice(self, event: dict) -> None:
        await self.send_json(event)
