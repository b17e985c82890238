"""The supervisors' live wallboard socket (``/ws/wallboard/``).

On connect a supervisor (or administrator) gets a ``wallboard.snapshot``; afterwards a fresh
one whenever something it shows changed (``wallboard.changed`` nudges, see
channels_app.events), at most one a second per socket (a burst is folded into one), and
every REFRESH_SECONDS anyway so today's figures and waits stay current. Anyone else is
refused with close code 4403. The browser only listens: the socket takes no frames but
``ping``.

Sockets of one process share snapshots: a snapshot read after a change (or after a refresh
moment) serves every socket that asks for that change, so ten walls cost one read.
"""

import asyncio
import logging
import math
import time
import weakref
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext as _

from callcenter.roles import ADMINISTRATOR, SUPERVISOR, user_roles
from callcenter.wallboard import wallboard_snapshot
from channels_app.consumers.base import Open120Consumer, db_call
from channels_app.events import WALLBOARD_GROUP

logger = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403


def _snapshot_in(language: str) -> dict:
    with translation.override(language):
        return wallboard_snapshot()


@dataclass
class _Build:
    started: float  # epoch seconds: the snapshot shows every change committed before it
    task: asyncio.Task


@dataclass
class _Shared:
    """The latest snapshot read per language, in one event loop."""

    builds: dict[str, _Build] = field(default_factory=dict)


_shared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def shared_snapshot(language: str, *, not_before: float) -> dict:
    """A snapshot in ``language`` read no earlier than ``not_before`` (epoch seconds): the
    one being read or last read when it started late enough, else a new one."""
    loop = asyncio.get_running_loop()
    shared = _shared.setdefault(loop, _Shared())
    build = shared.builds.get(language)
    if build is None or build.started < not_before or build.task.cancelled():
        build = _Build(started=time.time(), task=loop.create_task(db_call(_snapshot_in)(language)))
        shared.builds[language] = build
    try:
        return await asyncio.shield(build.task)
    except Exception:
        if shared.builds.get(language) is build:
            del shared.builds[language]  # a failed read is not shared with later askers
        raise


class WallboardConsumer(Open120Consumer):
    MIN_INTERVAL_SECONDS = 1.0
    REFRESH_SECONDS = 10.0

    async def connect(self) -> None:
        self._sender: asyncio.Task | None = None
        self._refresher: asyncio.Task | None = None
        self._wanted: float | None = None  # the oldest change not yet shown (epoch seconds)
        self._last_sent = 0.0  # monotonic
        user = self.scope.get("user")
        roles = await db_call(user_roles)(user) if user else frozenset()
        if not roles & {SUPERVISOR, ADMINISTRATOR}:
            await self.accept()
            await self.send_error("forbidden", _("Log in as a supervisor."))
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(WALLBOARD_GROUP, self.channel_name)
        await self.accept()
        await self._send_snapshot(not_before=time.time())
        self._refresher = asyncio.create_task(self._refresh())

    async def disconnect(self, code: int) -> None:
        for task in (getattr(self, "_sender", None), getattr(self, "_refresher", None)):
            if task is not None:
                task.cancel()
        await self.channel_layer.group_discard(WALLBOARD_GROUP, self.channel_name)

    # --- events from the channel layer ----------------------------------------------------
    async def wallboard_changed(self, event: dict) -> None:
        at = event.get("at")
        self._want(at if isinstance(at, (int, float)) else time.time())

    # --- sending --------------------------------------------------------------------------
    def _want(self, at: float) -> None:
        """Show the state as of ``at`` or later, as soon as the rate limit lets."""
        self._wanted = at if self._wanted is None else min(self._wanted, at)
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_when_allowed())

    async def _send_when_allowed(self) -> None:
        while self._wanted is not None:
            wait = self._last_sent + self.MIN_INTERVAL_SECONDS - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            not_before, self._wanted = self._wanted, None
            try:
                await self._send_snapshot(not_before=not_before)
            except Exception:
                # The next change or refresh tries again; the wall keeps its last picture.
                logger.exception("wallboard snapshot failed")

    async def _send_snapshot(self, *, not_before: float) -> None:
        snapshot = await shared_snapshot(self.language, not_before=not_before)
        self._last_sent = time.monotonic()
        await self.send_json(snapshot)

    async def _refresh(self) -> None:
        """Every REFRESH_SECONDS, on the clock's multiples, so a process's walls refresh
        together and share one read."""
        while True:
            now = time.time()
            moment = math.floor(now / self.REFRESH_SECONDS + 1) * self.REFRESH_SECONDS
            await asyncio.sleep(moment - now)
            self._want(moment)
