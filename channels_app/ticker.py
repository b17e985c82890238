"""The router loop, run inside every ASGI process.

Offer time-outs, wrap-up limits, queue positions and SLA alerts (every SLA_CHECK_SECONDS)
must reach sockets. Running the loop in the ASGI process makes its events go through that
process's channel layer, which is what the in-memory layer of ``make run`` needs; with
Redis, several processes run it side by side and the row locks in callcenter.routing (and
the unique SLA alert rows) keep them from stepping on each other.
"""

import asyncio
import logging
import time

from django.conf import settings

from channels_app.consumers.base import db_call

logger = logging.getLogger(__name__)

_task: asyncio.Task | None = None


async def sla_tick(last_run: float | None) -> float | None:
    """Check the SLA clocks when SLA_CHECK_SECONDS have passed since ``last_run`` (a
    ``time.monotonic()`` reading, None for never); returns the reading of the latest check."""
    from tickets.services.sla import sla_check

    now = time.monotonic()
    if settings.SLA_CHECK_SECONDS <= 0 or (
        last_run is not None and now - last_run < settings.SLA_CHECK_SECONDS
    ):
        return last_run
    try:
        await db_call(sla_check)()
    except Exception:
        logger.exception("SLA check failed; trying again in %s s", settings.SLA_CHECK_SECONDS)
    return now


async def sockets_tick(last_run: float | None) -> float | None:
    """Refresh this process's open sockets a few times per PRESENCE_GRACE_SECONDS, so
    other processes see them alive (and stop seeing them when this process dies)."""
    from channels_app import sockets

    now = time.monotonic()
    if last_run is not None and now - last_run < settings.PRESENCE_GRACE_SECONDS / 3:
        return last_run
    try:
        await db_call(sockets.heartbeat)()
    except Exception:
        logger.exception("socket heartbeat failed; trying again next tick")
        return last_run
    return now


async def _run_forever() -> None:
    from callcenter.routing import router_tick

    last_sla_check = last_heartbeat = None
    while True:
        last_heartbeat = await sockets_tick(last_heartbeat)
        try:
            await db_call(router_tick)()
        except Exception:
            logger.exception("router tick failed; trying again next tick")
        last_sla_check = await sla_tick(last_sla_check)
        await asyncio.sleep(settings.ROUTER_TICK_SECONDS)


def ensure_started() -> None:
    global _task
    if not settings.ROUTER_TICKER or (_task is not None and not _task.done()):
        return
    _task = asyncio.get_running_loop().create_task(_run_forever(), name="open120-router")
    logger.info("router loop started (every %.1f s)", settings.ROUTER_TICK_SECONDS)


class RouterTickerMiddleware:
    """Starts the router loop with the first connection this process serves."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            ensure_started()
        return await self.app(scope, receive, send)
