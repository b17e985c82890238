import asyncio
import logging

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods

from callcenter import metrics, selectors
from callcenter.forms import PresenceForm
from callcenter.korean import josa_resolve
from callcenter.models import Agent, CannedReply, Contact, WorkerHeartbeat
from callcenter.roles import ADMINISTRATOR, AGENT, OFFICER, SUPERVISOR, role_required, user_roles
from callcenter.services.presence import agent_set_presence
from tickets import selectors as ticket_selectors

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 3

# Where each role works, in the order a user with several roles is sent.
WORKSPACES = (
    (ADMINISTRATOR, "admin:index"),
    (SUPERVISOR, "supervisor-dashboard"),
    (AGENT, "agent-console"),
    (OFFICER, "department-inbox"),
)


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> FileResponse:
    """/favicon.ico, which browsers and bots ask for whatever the pages link: the SVG icon."""
    path = finders.find("favicon.svg")
    if path is None:
        raise Http404("No favicon.")
    return FileResponse(open(path, "rb"), content_type="image/svg+xml")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    roles = user_roles(request.user)
    for role, url_name in WORKSPACES:
        if role in roles:
            return redirect(url_name)
    return render(request, "callcenter/no_role.html", status=403)


def _get_agent_for_user(request: HttpRequest) -> Agent:
    """The signed-in user's agent profile; a role without a profile is a 404 to fix in admin."""
    return get_object_or_404(Agent, user=request.user)


@role_required(AGENT)
@require_http_methods(["GET", "POST"])
def agent_console(request: HttpRequest) -> HttpResponse:
    agent = _get_agent_for_user(request)
    form = PresenceForm(request.POST or None, initial={"presence": agent.presence})
    if request.method == "POST" and form.is_valid():
        agent_set_presence(
            agent=agent,
            presence=form.cleaned_data["presence"],
            reason=form.cleaned_data["reason"],
            chosen_by_agent=True,
        )
        messages.success(
            request, josa_resolve(_("Presence changed to %s.") % agent.get_presence_display())
        )
        return redirect("agent-console")
    today = selectors.contacts_on(timezone.localdate()).filter(agent=agent)
    return render(
        request,
        "callcenter/agent_console.html",
        {
            "agent": agent,
            "form": form,
            "figures": selectors.contact_metrics(today),
            "queues": selectors.queues_for_agent(agent),
            "waiting": selectors.waiting_by_queue(),
            "canned_replies": list(CannedReply.objects.values("id", "title", "text", "language")),
            "offer_timeout_seconds": settings.ROUTING_OFFER_TIMEOUT_SECONDS,
            "voice_backend": settings.VOICE_BACKEND,
            "interpreter_languages": selectors.interpreter_languages(),
        },
    )


@role_required(SUPERVISOR, ADMINISTRATOR)
@require_GET
def supervisor_dashboard(request: HttpRequest) -> HttpResponse:
    """Today so far and the last 30 days, as callcenter.metrics counts them (the reports'
    numbers), with the agents, live contacts and queues of this moment."""
    now = timezone.now()
    days = metrics.recent_days(days=30, now=now)
    month = sum((figures for _day, figures in days), metrics.Measures())
    live = list(selectors.live_contacts())
    return render(
        request,
        "callcenter/supervisor_dashboard.html",
        {
            "metrics": days[-1][1],
            "month": month,
            "days": days,
            "queues": selectors.queue_overview(now=now),
            "presence": selectors.presence_counts(),
            "live": live,
            "live_calls": selectors.live_call_flags([contact.pk for contact in live]),
            "tickets": ticket_selectors.ticket_overview(days=30, now=now),
            "chart": {
                "labels": [day.strftime("%m-%d") for day, _figures in days],
                "offered": [figures.offered for _day, figures in days],
                "answered": [figures.answered for _day, figures in days],
                "service_level": [
                    None if figures.service_level is None else round(figures.service_level * 100, 1)
                    for _day, figures in days
                ],
                "target": round(metrics.SERVICE_LEVEL_TARGET * 100),
            },
        },
    )


@role_required(SUPERVISOR, ADMINISTRATOR)
@require_GET
def supervisor_contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Listen to one live conversation (silently), whisper to its agent, or join it with
    an explicit button (over the agent socket: contact.listen, whisper, contact.join)."""
    contact = get_object_or_404(
        Contact.objects.select_related("queue", "agent", "citizen"), pk=contact_id
    )
    call = selectors.call_details(contact, user=request.user)
    return render(request, "callcenter/supervisor_contact.html", {"contact": contact, "call": call})


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means "down"; name it
        logger.warning("health: database check failed: %r", error)
        return f"error: {type(error).__name__}"
    return "ok"


def _worker_health() -> dict | None:
    """The worker's last heartbeat, its age and whether it is older than WORKER_STALE_SECONDS
    (a worker that never beat is stale too)."""
    try:
        beat = WorkerHeartbeat.objects.filter(name="worker").first()
    except Exception:  # noqa: BLE001 - the database check reports this already
        return None
    if beat is None:
        return {"seen_at": None, "age_seconds": None, "stale": True}
    age = (timezone.now() - beat.seen_at).total_seconds()
    return {
        "seen_at": timezone.localtime(beat.seen_at).isoformat(),
        "age_seconds": round(age),
        "stale": age > settings.WORKER_STALE_SECONDS,
    }


async def _check_channel_layer() -> str:
    """Redis answers a direct PING; the in-memory layer does a send/receive round trip.

    Never a receive on the shared Redis layer: channels-redis lets one receive at a time per
    process, and the consumers' receive loop holds that lock for up to 5 s, so such a check
    times out as soon as one socket is open (NOTES.md)."""
    layer = get_channel_layer()
    if layer is None:
        return "error: no channel layer configured"
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
            if hasattr(layer, "connection"):  # channels-redis
                for index in range(layer.ring_size):
                    await layer.connection(index).ping()
                return "ok"
            channel = await layer.new_channel("health.")
            await layer.send(channel, {"type": "health.ping"})
            received = await layer.receive(channel)
    except TimeoutError:
        return "error: timed out"
    except Exception as error:  # noqa: BLE001 - any failure means "down"; name it
        logger.warning("health: channel layer check failed: %r", error)
        return f"error: {type(error).__name__}"
    return "ok" if received.get("type") == "health.ping" else "error: wrong message"


@never_cache
@require_GET
async def healthz(request: HttpRequest) -> JsonResponse:
    """200 when this process can serve: database and channel layer answer. A stale worker
    (no heartbeat for WORKER_STALE_SECONDS) is named in ``problems`` but turns the answer
    into 503 only with ``?strict=1``, for the monitor that watches background work."""
    database = await sync_to_async(_check_database)()
    channel_layer = await _check_channel_layer()
    worker = await sync_to_async(_worker_health)() if database == "ok" else None
    problems = [
        f"{part}: {state}"
        for part, state in (("database", database), ("channel_layer", channel_layer))
        if state != "ok"
    ]
    if worker is not None and worker["stale"]:
        problems.append(
            "worker: no heartbeat yet"
            if worker["seen_at"] is None
            else f"worker: stale, last seen {worker['age_seconds']} s ago"
        )
    serving = database == "ok" and channel_layer == "ok"
    strict = request.GET.get("strict") in ("1", "true", "yes")
    healthy = serving and not (strict and (worker is None or worker["stale"]))
    body = {
        "status": "ok" if healthy else "error",
        "database": database,
        "channel_layer": channel_layer,
        "worker": worker,
        "problems": problems,
        "version": settings.VERSION,
        "worker_seen_at": worker["seen_at"] if worker else None,
    }
    return JsonResponse(body, status=200 if healthy else 503)
