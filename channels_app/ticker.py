"""The router loop, run inside every ASGI process; each job runs in one of them per period.

Offer time-outs, wrap-up limits, queue positions and SLA alerts (every SLA_CHECK_SECONDS)
must reach sockets. Running the loop in the ASGI process makes its events go through that
process's channel layer, which is what the in-memory layer of ``make run`` needs. With
several processes on Redis each loop asks the shared scheduler (callcenter.services.
scheduler) before a job, so a router tick or an SLA check runs once per period across all of
them, and a citizen hears a position once. Only the socket heartbeat is per process: it
vouches for this process's own sockets.
"""

import asyncio
import logging
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

from callcenter.services.routing import router_tick
from callcenter.services.scheduler import job_claim
from channels_app import sockets
from channels_app.consumers.base import db_call
from tickets.services.sla import sla_check

logger = logging.getLogger(__name__)

_task: asyncio.Task | None = None


async def sla_tick() -> bool:
    """Check the SLA clocks when this process holds this period's turn (one check per
    SLA_CHECK_SECONDS across every process and the worker); True when it checked."""
    if settings.SLA_CHECK_SECONDS <= 0:
        return False
    if not await db_call(job_claim)("sla", settings.SLA_CHECK_SECONDS):
        return False
    try:
        await db_call(sla_check)()
    except Exception:
        logger.exception("SLA check failed; trying again in %s s", settings.SLA_CHECK_SECONDS)
    return True


async def router_turn() -> bool:
    """One router tick when this process holds this period's turn; True when it ticked."""
    # A little under one period: the loop that ticked last sleeps a full period plus the
    # tick itself, so it finds the next turn open and ticks need not wait for another process.
    if not await db_call(job_claim)("router", settings.ROUTER_TICK_SECONDS * 0.8):
        return False
    try:
        await db_call(router_tick)(housekeeping=await _housekeeping_turn())
    except Exception:
        logger.exception("router tick failed; trying again next tick")
    return True


_housekeeping_asked_at: float | None = None


async def _housekeeping_turn() -> bool:
    """Whether this tick also does the housekeeping: asked of the shared scheduler at most
    once per ROUTER_HOUSEKEEPING_SECONDS by each process (a claim that fails is a query)."""
    global _housekeeping_asked_at
    now = time.monotonic()
    period = settings.ROUTER_HOUSEKEEPING_SECONDS
    if _housekeeping_asked_at is not None and now - _housekeeping_asked_at < period:
        return False
    _housekeeping_asked_at = now
    return await db_call(job_claim)("router-housekeeping", period * 0.8)


async def sockets_tick(last_run: float | None) -> float | None:
    """Refresh this process's open sockets a few times per PRESENCE_GRACE_SECONDS, so
    other processes see them alive (and stop seeing them when this process dies)."""
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
    last_heartbeat = None
    while True:
        last_heartbeat = await sockets_tick(last_heartbeat)
        try:
            await router_turn()
            await sla_tick()
        except Exception:  # the scheduler's own row (a database gone for a moment)
            logger.exception("scheduler turn failed; trying again next tick")
        await asyncio.sleep(settings.ROUTER_TICK_SECONDS)


_executor_loops: weakref.WeakSet = weakref.WeakSet()


def executor_ensure(loop: asyncio.AbstractEventLoop) -> None:
    """Give the loop ASGI_THREADS worker threads for database calls, shared by every
    socket, the dispatcher and the router tick (asyncio's default, cores + 4, is more than
    a process gains from: see the setting)."""
    if loop in _executor_loops or settings.ASGI_THREADS <= 0:
        return
    _executor_loops.add(loop)
    loop.set_default_executor(
        ThreadPoolExecutor(max_workers=settings.ASGI_THREADS, thread_name_prefix="open120-db")
    )


def ensure_started() -> None:
    global _task
    executor_ensure(asyncio.get_running_loop())
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
