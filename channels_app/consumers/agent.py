"""The agent console's socket: presence, offers, conversations, transfers, wrap-up.

Agents follow the contacts they hold; supervisors (and administrators) open the same socket
to watch and to conference into conversations they join.
"""

import asyncio

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.models import Agent, Contact, Offer, Presence, Queue
from callcenter.roles import ADMINISTRATOR, AGENT, SUPERVISOR, user_roles
from callcenter.services import conversations as conversation
from callcenter.services import routing
from callcenter.services.notify import contact_summary, offer_payload
from callcenter.services.presence import agent_set_presence
from channels_app import sockets
from channels_app.consumers.base import Open120Consumer, db_call, integer, text
from channels_app.events import AGENTS_GROUP, SUPERVISORS_GROUP, agent_group, contact_group
from knowledge.selectors import suggestions_for_contact

CLOSE_FORBIDDEN = 4403


class AgentConsumer(Open120Consumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        self.user = user
        self.agent: Agent | None = None
        self.following: set[int] = set()
        self.viewing: int | None = None
        self._suggest_task: asyncio.Task | None = None
        self._suggest_again = self._suggest_at_once = False
        self._suggested: dict[int, str] = {}
        roles = await db_call(user_roles)(user) if user else frozenset()
        self.is_supervisor = bool(roles & {SUPERVISOR, ADMINISTRATOR})
        if AGENT in roles:
            self.agent = await db_call(Agent.objects.filter(user=user).first)()
        if self.agent is None and not self.is_supervisor:
            # Accept, then close with a code the console understands, so it sends the user
            # to the login page instead of reconnecting forever.
            await self.accept()
            await self.send_error("forbidden", _("Log in as an agent or a supervisor."))
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if self.agent is not None:
            await self.channel_layer.group_add(agent_group(self.agent.pk), self.channel_name)
            await self.channel_layer.group_add(AGENTS_GROUP, self.channel_name)
        if self.is_supervisor:
            await self.channel_layer.group_add(SUPERVISORS_GROUP, self.channel_name)
        if self.agent is not None:
            await sockets.opened(self.channel_name, agent=self.agent)
        await self.accept()
        hello = await db_call(self._hello)()
        for contact in hello["contacts"]:
            await self._follow(contact["id"])
        await self.send_json(hello)

    def _hello(self) -> dict:
        contacts, offers = [], []
        if self.agent is not None:
            self.agent.refresh_from_db()
            held = Contact.objects.filter(
                agent=self.agent, answered_at__isnull=False, wrapup_ended_at__isnull=True
            ).select_related("queue", "citizen")
            contacts = [contact_summary(c) for c in held]
            offers = [
                offer_payload(o)
                for o in Offer.objects.filter(
                    agent=self.agent, state=Offer.State.PENDING
                ).select_related("contact__queue", "contact__citizen")
            ]
        return {
            "type": "hello",
            "agent_id": self.agent.pk if self.agent else None,
            "role": "agent" if self.agent else "supervisor",
            "presence": self.agent.presence if self.agent else None,
            "presence_reason": self.agent.presence_reason_label if self.agent else "",
            "presence_changed_at": (
                timezone.localtime(self.agent.presence_changed_at).isoformat()
                if self.agent
                else None
            ),
            "contacts": contacts,
            "offers": offers,
        }

    async def disconnect(self, code: int) -> None:
        if getattr(self, "_suggest_task", None) is not None:
            self._suggest_task.cancel()
        await sockets.closed(self.channel_name)
        if getattr(self, "agent", None) is not None:
            await self.channel_layer.group_discard(agent_group(self.agent.pk), self.channel_name)
            await self.channel_layer.group_discard(AGENTS_GROUP, self.channel_name)
        if getattr(self, "is_supervisor", False):
            await self.channel_layer.group_discard(SUPERVISORS_GROUP, self.channel_name)
        for contact_id in getattr(self, "following", set()):
            await self.channel_layer.group_discard(contact_group(contact_id), self.channel_name)

    async def _follow(self, contact_id: int) -> None:
        if contact_id not in self.following:
            self.following.add(contact_id)
            await self.channel_layer.group_add(contact_group(contact_id), self.channel_name)

    async def _unfollow(self, contact_id: int) -> None:
        if contact_id == self.viewing:
            self.viewing = None
        self._suggested.pop(contact_id, None)
        if contact_id in self.following:
            self.following.discard(contact_id)
            await self.channel_layer.group_discard(contact_group(contact_id), self.channel_name)

    def frame_handlers(self) -> dict:
        return {
            **super().frame_handlers(),
            "presence.set": self.on_presence_set,
            "offer.accept": self.on_offer_accept,
            "offer.decline": self.on_offer_decline,
            "message.send": self.on_message_send,
            "typing": self.on_typing,
            "resume": self.on_resume,
            "history": self.on_history,
            "ack": self.on_ack,
            "contact.end": self.on_contact_end,
            "contact.transfer": self.on_contact_transfer,
            "contact.listen": self.on_contact_listen,
            "contact.join": self.on_contact_join,
            "whisper": self.on_whisper,
            "wrapup.complete": self.on_wrapup_complete,
            "console.view": self.on_console_view,
        }

    # --- access ---------------------------------------------------------------------------
    def _contact_for(self, contact_id: int) -> Contact:
        """The contact if this user may act on it: the agent holding it, or a supervisor."""
        contact = (
            Contact.objects.select_related("queue", "citizen", "agent", "session")
            .filter(pk=contact_id)
            .first()
        )
        if contact is None:
            raise routing.RoutingError(_("No such contact."))
        if self.is_supervisor or (self.agent is not None and contact.agent_id == self.agent.pk):
            return contact
        raise routing.RoutingError(_("This contact is not yours."))

    async def _require_agent(self) -> bool:
        if self.agent is None:
            await self.send_error("agents_only", _("Only agents can do this."))
            return False
        return True

    async def _run(self, func, *args, **kwargs):
        """Run a domain call in a thread; turn its refusals into error frames."""
        try:
            return await db_call(func)(*args, **kwargs), True
        except (routing.RoutingError, conversation.ChatError, ValidationError, ValueError) as error:
            message = (
                "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            )
            await self.send_error("refused", message)
            return None, False

    # --- frames ---------------------------------------------------------------------------
    async def on_presence_set(self, content: dict) -> None:
        if not await self._require_agent():
            return
        presence, reason = content.get("presence"), content.get("reason", "")
        if presence not in Presence.values or not isinstance(reason, str):
            await self.send_error("invalid_presence", "Unknown presence or bad reason.")
            return
        try:
            await db_call(agent_set_presence)(
                agent=self.agent, presence=presence, reason=reason, chosen_by_agent=True
            )
        except ValueError as error:
            await self.send_error("invalid_presence", str(error))

    async def on_offer_accept(self, content: dict) -> None:
        offer_id = integer(content, "offer_id")
        if offer_id is None:
            await self.send_error("invalid_frame", "offer_id must be an integer.")
            return
        if await self._require_agent():
            await self._run(routing.offer_accept, offer_id=offer_id, agent=self.agent)

    async def on_offer_decline(self, content: dict) -> None:
        offer_id = integer(content, "offer_id")
        if offer_id is None:
            await self.send_error("invalid_frame", "offer_id must be an integer.")
            return
        if await self._require_agent():
            await self._run(routing.offer_decline, offer_id=offer_id, agent=self.agent)

    async def on_message_send(self, content: dict) -> None:
        contact_id = integer(content, "contact_id")
        body = text(content, "text")
        if contact_id is None or body is None:
            await self.send_error("invalid_frame", "message.send needs contact_id and text.")
            return
        await self._run(
            self._send_message,
            contact_id,
            body,
            str(content.get("client_id", ""))[:64],
            bool(content.get("internal", False)),
        )

    def _send_message(self, contact_id: int, body: str, client_id: str, internal: bool):
        contact = self._contact_for(contact_id)
        holds_it = self.agent is not None and contact.agent_id == self.agent.pk
        if not (holds_it or internal or routing.contact_joined_by(contact=contact, user=self.user)):
            raise routing.RoutingError(_("Join the conversation before writing to the citizen."))
        return conversation.staff_message_send(
            contact=contact, user=self.user, text=body, client_id=client_id, internal=internal
        )

    async def on_typing(self, content: dict) -> None:
        contact_id = integer(content, "contact_id")
        if contact_id is None or contact_id not in self.following:
            return  # typing is best effort: nothing to report
        name = self.agent.display_name if self.agent else self.user.display_name
        await conversation.typing_relay(
            self.channel_layer, contact_id, who="agent", name=name, sender=self.channel_name
        )

    async def on_resume(self, content: dict) -> None:
        last_id = integer(content, "last_message_id")
        if last_id is None:
            await self.send_error("invalid_frame", "last_message_id must be an integer.")
            return
        contact_ids = sorted(self.following)
        messages = await db_call(conversation.messages_since)(
            contact_ids=contact_ids, last_id=last_id, include_internal=True
        )
        for message in messages:
            await self.send_json({"type": "message.created", "message": message})
        last = messages[-1]["id"] if messages else last_id
        await self.send_json({"type": "resume.done", "last_message_id": last})

    async def on_history(self, content: dict) -> None:
        contact_id = integer(content, "contact_id")
        if contact_id is None:
            await self.send_error("invalid_frame", "contact_id must be an integer.")
            return
        result, ok = await self._run(self._history, contact_id)
        if ok:
            await self.send_json(result)

    def _history(self, contact_id: int) -> dict:
        contact = self._contact_for(contact_id)
        return {
            "type": "history",
            "contact_id": contact.pk,
            "messages": conversation.conversation_messages(contact, include_internal=True),
        }

    async def on_ack(self, content: dict) -> None:
        contact_id, up_to = integer(content, "contact_id"), integer(content, "up_to_id")
        if contact_id is None or up_to is None or contact_id not in self.following:
            return
        await db_call(conversation.messages_mark_delivered)(
            contact_id=contact_id, up_to_id=up_to, readers="staff"
        )

    async def on_contact_end(self, content: dict) -> None:
        contact_id = integer(content, "contact_id")
        if contact_id is None:
            await self.send_error("invalid_frame", "contact_id must be an integer.")
            return
        await self._run(self._end, contact_id)

    def _end(self, contact_id: int) -> None:
        routing.contact_end(contact=self._contact_for(contact_id), by="agent", actor=self.user)

    async def on_contact_transfer(self, content: dict) -> None:
        contact_id = integer(content, "contact_id")
        to_agent, to_queue = integer(content, "to_agent_id"), integer(content, "to_queue_id")
        note = content.get("note", "")
        if (
            contact_id is None
            or (to_agent is None) == (to_queue is None)
            or not isinstance(note, str)
        ):
            await self.send_error(
                "invalid_frame", "contact.transfer needs contact_id and to_agent_id or to_queue_id."
            )
            return
        if await self._require_agent():
            await self._run(self._transfer, contact_id, to_agent, to_queue, note[:500])

    def _transfer(self, contact_id: int, to_agent: int | None, to_queue: int | None, note: str):
        contact = self._contact_for(contact_id)
        if to_agent is not None:
            target = Agent.objects.filter(pk=to_agent).first()
            if target is None:
                raise routing.RoutingError(_("No such agent."))
            return routing.contact_transfer_to_agent(
                contact=contact, from_agent=self.agent, to_agent=target, note=note
            )
        queue = Queue.objects.filter(pk=to_queue, is_active=True).first()
        if queue is None:
            raise routing.RoutingError(_("No such queue."))
        return routing.contact_transfer_to_queue(
            contact=contact, from_agent=self.agent, queue=queue, note=note
        )

    async def _require_supervisor(self) -> bool:
        if not self.is_supervisor:
            await self.send_error(
                "supervisors_only", _("Only supervisors can join a conversation.")
            )
            return False
        return True

    async def _supervised_contact_id(self, content: dict) -> int | None:
        """The frame's contact id when a supervisor sent it; otherwise an error frame."""
        contact_id = integer(content, "contact_id")
        if contact_id is None:
            await self.send_error("invalid_frame", "contact_id must be an integer.")
            return None
        return contact_id if await self._require_supervisor() else None

    async def on_contact_listen(self, content: dict) -> None:
        """Follow a conversation silently: nothing is stored, nobody else is told."""
        contact_id = await self._supervised_contact_id(content)
        if contact_id is None:
            return
        result, ok = await self._run(self._listen, contact_id)
        if ok:
            await self._follow(contact_id)
            await self.send_json({"type": "contact.listening", **result})

    def _listen(self, contact_id: int) -> dict:
        contact = self._contact_for(contact_id)
        return {
            "contact": contact_summary(contact),
            "joined": routing.contact_joined_by(contact=contact, user=self.user),
        }

    async def on_contact_join(self, content: dict) -> None:
        contact_id = await self._supervised_contact_id(content)
        if contact_id is None:
            return
        result, ok = await self._run(self._join, contact_id)
        if ok:
            await self._follow(contact_id)
            await self.send_json(
                {"type": "contact.assigned", "contact": result, "observer": True, "joined": True}
            )

    def _join(self, contact_id: int) -> dict:
        contact = routing.contact_join(contact=self._contact_for(contact_id), user=self.user)
        return contact_summary(contact)

    async def on_whisper(self, content: dict) -> None:
        """A supervisor's note that only the agent (and staff) read."""
        contact_id = integer(content, "contact_id")
        body = text(content, "text")
        if contact_id is None or body is None:
            await self.send_error("invalid_frame", "whisper needs contact_id and text.")
            return
        if not await self._require_supervisor():
            return
        _, ok = await self._run(
            self._whisper, contact_id, body, str(content.get("client_id", ""))[:64]
        )
        if ok:
            await self._follow(contact_id)

    def _whisper(self, contact_id: int, body: str, client_id: str):
        return routing.contact_whisper(
            contact=self._contact_for(contact_id), user=self.user, text=body, client_id=client_id
        )

    async def on_wrapup_complete(self, content: dict) -> None:
        contact_id = integer(content, "contact_id")
        if contact_id is None:
            await self.send_error("invalid_frame", "contact_id must be an integer.")
            return
        if await self._require_agent():
            await self._run(self._wrapup, contact_id)

    def _wrapup(self, contact_id: int) -> None:
        routing.contact_wrapup_complete(contact=self._contact_for(contact_id), agent=self.agent)

    # --- events from the channel layer ----------------------------------------------------
    async def presence_changed(self, event: dict) -> None:
        await self.send_json(event)

    async def video_connected(self, event: dict) -> None:
        """Supervisors: a sign-language video call's browsers connected."""
        await self.send_json(event)

    async def offer_created(self, event: dict) -> None:
        await self.send_json(event)

    async def offer_cancelled(self, event: dict) -> None:
        await self.send_json(event)

    async def contact_assigned(self, event: dict) -> None:
        await self._follow(event["contact"]["id"])
        await self.send_json(event)

    async def contact_updated(self, event: dict) -> None:
        await self.send_json(event)

    async def call_updated(self, event: dict) -> None:
        await self.send_json(event)

    async def contact_removed(self, event: dict) -> None:
        await self._unfollow(event["contact_id"])
        await self.send_json(event)

    async def message_created(self, event: dict) -> None:
        await self.send_json(event)
        message = event["message"]
        if message["sender"] == "citizen" and message["contact_id"] == self.viewing:
            self._suggest_soon()

    # --- knowledge suggestions --------------------------------------------------------------
    # Off the message's path: the console that shows a conversation asks for suggestions
    # (``console.view``), and a burst of citizen messages yields one search, a moment later.
    async def on_console_view(self, content: dict) -> None:
        contact_id = content.get("contact_id")
        if contact_id is not None and integer(content, "contact_id") is None:
            await self.send_error("invalid_frame", "contact_id must be an integer or null.")
            return
        if contact_id is not None and contact_id not in self.following:
            await self.send_error("forbidden", _("This contact is not yours."))
            return
        self.viewing = contact_id
        if contact_id is not None:
            self._suggest_soon(at_once=True)

    def _suggest_soon(self, *, at_once: bool = False) -> None:
        self._suggest_again = True
        self._suggest_at_once = self._suggest_at_once or at_once
        if self._suggest_task is None or self._suggest_task.done():
            self._suggest_task = asyncio.create_task(self._suggest())

    async def _suggest(self) -> None:
        while self._suggest_again:
            self._suggest_again = False
            if not self._suggest_at_once:
                await asyncio.sleep(settings.KNOWLEDGE_SUGGEST_DELAY_SECONDS)
            self._suggest_at_once = False
            contact_id = self.viewing
            if contact_id is None:
                return
            query, results = await db_call(suggestions_for_contact)(contact_id)
            if not results or contact_id != self.viewing:
                continue
            if self._suggested.get(contact_id) == query:
                continue  # nothing new was said that changes the search
            self._suggested[contact_id] = query
            await self.send_json(
                {
                    "type": "knowledge.suggestions",
                    "contact_id": contact_id,
                    "query": query,
                    "results": results,
                }
            )

    async def message_delivered(self, event: dict) -> None:
        await self.send_json(event)

    async def message_delivery(self, event: dict) -> None:
        await self.send_json(event)

    async def queues_updated(self, event: dict) -> None:
        await self.send_json(event)

    async def chat_ended(self, event: dict) -> None:
        await self.send_json(event)

    async def ticket_notice(self, event: dict) -> None:
        await self.send_json(event)

    async def typing(self, event: dict) -> None:
        if event.get("sender") != self.channel_name:
            await self.send_json({k: v for k, v in event.items() if k != "sender"})
