"""Roles are Django groups. Each role has a workspace and a set of model permissions."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _

AGENT = "agent"
SUPERVISOR = "supervisor"
OFFICER = "department_officer"
ADMINISTRATOR = "administrator"

ROLE_LABELS = {
    AGENT: _("Agent"),
    SUPERVISOR: _("Supervisor"),
    OFFICER: _("Department officer"),
    ADMINISTRATOR: _("Administrator"),
}

# Model permissions each role's group carries: "app_label.codename" without the model
# suffix, expanded for each listed model.
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    AGENT: {
        "callcenter.contact": ("view", "change"),
        "callcenter.message": ("view", "add"),
        "callcenter.citizen": ("view", "add", "change"),
        "tickets.ticket": ("view", "add", "change"),
        "tickets.ticketevent": ("view", "add"),
        "tickets.category": ("view",),
        "tickets.department": ("view",),
        "knowledge.article": ("view", "add"),
        "knowledge.articleversion": ("view",),
    },
    SUPERVISOR: {
        "callcenter.agent": ("view", "change"),
        "callcenter.queue": ("view", "add", "change"),
        "callcenter.skill": ("view", "add", "change"),
        "callcenter.contact": ("view", "change"),
        "callcenter.message": ("view", "add"),
        "callcenter.citizen": ("view", "change"),
        "tickets.ticket": ("view", "add", "change"),
        "tickets.ticketevent": ("view", "add"),
        "tickets.category": ("view", "add", "change"),
        "tickets.department": ("view",),
        "knowledge.article": ("view", "add", "change"),
        "knowledge.articleversion": ("view",),
    },
    OFFICER: {
        "tickets.ticket": ("view", "change"),
        "tickets.ticketevent": ("view", "add"),
        "knowledge.article": ("view", "add", "change"),
        "knowledge.articleversion": ("view",),
    },
    ADMINISTRATOR: {
        "callcenter.user": ("view", "add", "change"),
        "callcenter.agent": ("view", "add", "change", "delete"),
        "callcenter.skill": ("view", "add", "change", "delete"),
        "callcenter.queue": ("view", "add", "change", "delete"),
        "callcenter.citizen": ("view", "change"),
        "callcenter.personaldataaccess": ("view",),
        "callcenter.callbackrequest": ("view",),
        "callcenter.callbackevent": ("view",),
        "tickets.department": ("view", "add", "change"),
        "tickets.officer": ("view", "add", "change", "delete"),
        "tickets.category": ("view", "add", "change"),
        "auth.group": ("view",),
    },
}


def user_roles(user) -> frozenset[str]:
    """The role names of ``user``, read once per request object."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_open120_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cached |= {ADMINISTRATOR}
        user._open120_roles = cached
    return cached


def json_error(status: int, code: str, message: str) -> JsonResponse:
    """An API's refusal: ``{"error": code, "message": message}`` with ``status``."""
    return JsonResponse({"error": code, "message": str(message)}, status=status)


def api_signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For the console's JSON APIs: 401 JSON (not the login page) for a signed-out user."""

    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return json_error(401, "login_required", _("Sign in first."))
        return view(request, *args, **kwargs)

    return checked


def role_required(*roles: str) -> Callable:
    """Login first (anonymous → login page), then one of ``roles`` (otherwise 403)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not user_roles(request.user) & set(roles):
                raise PermissionDenied("This page is for another role.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def role_groups_sync(**_signal_kwargs) -> None:
    """Create the role groups with their permissions (runs after every migrate)."""
    from django.contrib.auth.models import Group, Permission

    for role, models in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        wanted = []
        for model, actions in models.items():
            app_label, model_name = model.split(".")
            for action in actions:
                permission = Permission.objects.filter(
                    content_type__app_label=app_label, codename=f"{action}_{model_name}"
                ).first()
                if permission is not None:
                    wanted.append(permission)
        group.permissions.set(wanted)
