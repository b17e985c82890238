"""The citizen's web chat socket, reached with the session's unguessable token."""

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from callcenter.services import conversations as conversation
from callcenter.services import routing
from channels_app import sockets
from channels_app.consumers.base import Open120Consumer, db_call, integer, text
from channels_app.events import citizen_group

CLOSE_UNKNOWN_SESSION = 4404
# The chat ended longer than CHAT_AFTER_END_SECONDS ago: the client forgets the token.
CLOSE_SESSION_EXPIRED = 4410


SUBPROTOCOL = "open120.chat"


class CitizenChatConsumer(Open120Consumer):
    """The token comes as the second WebSocket subprotocol (``["open120.chat", token]``), so it
    stays out of URLs and access logs; ``/ws/chat/<token>/`` is accepted too."""

    async def connect(self) -> None:
        offered = self.scope.get("subprotocols", [])
        by_protocol = len(offered) == 2 and offered[0] == SUBPROTOCOL
        token = offered[1] if by_protocol else self.scope["url_route"]["kwargs"].get("token", "")
        self.session = await db_call(conversation.session_for_token)(token)
        self.contact_id = None
        accept = {"subprotocol": SUBPROTOCOL} if by_protocol else {}
        if self.session is None:
            await self.accept(**accept)
            await self.send_error("unknown_session", "This chat no longer exists. Start a new one.")
            await self.close(code=CLOSE_UNKNOWN_SESSION)
            return
        if conversation.session_expired(self.session):
            await self.accept(**accept)
            with translation.override(self.language):
                message = _("This chat has closed. Start a new chat if you need more help.")
            await self._expired(message)
            return
        self.contact_id = self.session.contact_id
        await self.channel_layer.group_add(citizen_group(self.contact_id), self.channel_name)
        await sockets.opened(self.channel_name, session=self.session)
        await self.accept(**accept)
        await self.send_json(await db_call(self._hello)())

    def _hello(self) -> dict:
        contact = self.session.contact
        position, eta, no_agents = routing.citizen_queue_status(contact)
        return {
            "type": "hello",
            "contact_id": contact.pk,
            "state": contact.state,
            "language": self.session.language,
            "agent_name": contact.agent.display_name if contact.agent_id else None,
            "position": position,
            "eta_seconds": eta,
            "no_agents": no_agents,
            "closes_in_seconds": self._closes_in(),
            "ticket_number": (
                contact.tickets.order_by("id").values_list("number", flat=True).first()
            ),
        }

    def _closes_in(self) -> int | None:
        """Seconds the token still works after the end (None while the chat is open)."""
        expires_at = conversation.session_expires_at(self.session)
        if expires_at is None:
            return None
        return max(0, int((expires_at - timezone.now()).total_seconds()))

    async def _expired(self, message: str) -> None:
        await self.send_error("session_expired", message)
        await self.close(code=CLOSE_SESSION_EXPIRED)

    async def disconnect(self, code: int) -> None:
        await sockets.closed(self.channel_name)
        if getattr(self, "contact_id", None):
            await self.channel_layer.group_discard(
                citizen_group(self.contact_id), self.channel_name
            )

    def frame_handlers(self) -> dict:
        return {
            **super().frame_handlers(),
            "message.send": self.on_message_send,
            "typing": self.on_typing,
            "resume": self.on_resume,
            "ack": self.on_ack,
            "chat.end": self.on_chat_end,
            "csat": self.on_csat,
            "callback.request": self.on_callback_request,
            "transcript.request": self.on_transcript_request,
        }

    async def _run(self, func, *, refused_client_id: str | None = None, **kwargs):
        """Call ``func``; a refusal becomes an error frame (naming ``refused_client_id``)."""
        try:
            return await db_call(func)(session=self.session, **kwargs), True
        except conversation.ChatExpired as error:
            await self._expired(str(error))
            return None, False
        except conversation.ChatError as error:
            reason = str(error)
        except ValueError as error:
            reason = str(error)
        except Exception as error:  # noqa: BLE001 - validation errors of the models
            messages = getattr(error, "messages", None)
            if messages is None:
                raise
            reason = "; ".join(messages)
        await self.send_error("refused", reason, client_id=refused_client_id)
        return None, False

    async def _refresh(self) -> None:
        """The session's current contact (a queue transfer moves it)."""
        await db_call(self.session.refresh_from_db)(fields=["contact"])

    async def on_message_send(self, content: dict) -> None:
        client_id = str(content.get("client_id", ""))[:64]
        body = text(content, "text")
        if body is None:
            await self.send_error(
                "invalid_frame", "message.send needs text.", client_id=client_id or None
            )
            return
        await self._run(
            conversation.citizen_message_send,
            refused_client_id=client_id or None,
            text=body,
            client_id=client_id,
        )

    async def on_typing(self, content: dict) -> None:
        await conversation.typing_relay(
            self.channel_layer, self.contact_id, who="citizen", name="", sender=self.channel_name
        )

    async def on_resume(self, content: dict) -> None:
        last_id = integer(content, "last_message_id")
        if last_id is None:
            await self.send_error("invalid_frame", "last_message_id must be an integer.")
            return
        messages, ok = await self._run(conversation.chat_resume, last_id=last_id)
        if not ok:
            return
        for message in messages:
            await self.send_json({"type": "message.created", "message": message})
        last = messages[-1]["id"] if messages else last_id
        await self.send_json({"type": "resume.done", "last_message_id": last})

    async def on_ack(self, content: dict) -> None:
        up_to = integer(content, "up_to_id")
        if up_to is not None:
            await db_call(conversation.messages_mark_delivered)(
                contact_id=self.contact_id, up_to_id=up_to, readers="citizen"
            )

    async def on_chat_end(self, content: dict) -> None:
        await self._refresh()
        await self._run(self._end)

    @staticmethod
    def _end(*, session) -> None:
        routing.contact_end(contact=session.contact, by="citizen")

    async def on_csat(self, content: dict) -> None:
        score = integer(content, "score")
        if score is None:
            await self.send_error("invalid_frame", "score must be an integer from 1 to 5.")
            return
        _, ok = await self._run(conversation.chat_rate, score=score)
        if ok:
            await self.send_json({"type": "csat.saved", "score": score})

    async def on_callback_request(self, content: dict) -> None:
        phone = text(content, "phone")
        if phone is None:
            await self.send_error("invalid_frame", "callback.request needs a phone number.")
            return
        note = content.get("note", "")
        _, ok = await self._run(
            conversation.chat_callback_request,
            phone=phone,
            note=note if isinstance(note, str) else "",
        )
        if ok:
            await self.send_json({"type": "callback.saved"})

    async def on_transcript_request(self, content: dict) -> None:
        email, phone = content.get("email", ""), content.get("phone", "")
        if not isinstance(email, str) or not isinstance(phone, str) or not (email or phone):
            await self.send_error("invalid_frame", "transcript.request needs an email or a phone.")
            return
        via, ok = await self._run(conversation.chat_transcript_send, email=email, phone=phone)
        if ok:
            await self.send_json({"type": "transcript.sent", "via": via})

    # --- events from the channel layer ----------------------------------------------------
    async def message_created(self, event: dict) -> None:
        if not event["message"]["internal"]:
            await self.send_json(event)

    async def message_delivered(self, event: dict) -> None:
        await self.send_json(event)

    async def chat_state(self, event: dict) -> None:
        await self.send_json(event)

    async def chat_ended(self, event: dict) -> None:
        await self.send_json({**event, "closes_in_seconds": settings.CHAT_AFTER_END_SECONDS})

    async def chat_ticket(self, event: dict) -> None:
        await self.send_json(event)

    async def chat_moved(self, event: dict) -> None:
        """Follow the new leg; its first position may have gone out before we joined, so
        send its state now (the client resumes messages after a hello)."""
        await self.channel_layer.group_discard(citizen_group(self.contact_id), self.channel_name)
        self.contact_id = event["new_contact_id"]
        await self.channel_layer.group_add(citizen_group(self.contact_id), self.channel_name)
        await self.send_json(event)
        await self._refresh()
        self.session.contact = await db_call(
            lambda: (
                type(self.session.contact)
                .objects.select_related("agent", "queue")
                .get(pk=self.contact_id)
            )
        )()
        await self.send_json(await db_call(self._hello)())

    @property
    def language(self) -> str:
        """The language the citizen chose when starting the chat."""
        return self.session.language if getattr(self, "session", None) else super().language

    async def queue_position(self, event: dict) -> None:
        await self.send_json(event)

    async def queue_no_agents(self, event: dict) -> None:
        await self.send_json(event)

    async def typing(self, event: dict) -> None:
        if event.get("sender") != self.channel_name and event.get("who") == "agent":
            await self.send_json({k: v for k, v in event.items() if k not in ("sender",)})
