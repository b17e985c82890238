"""What keeps staff sessions and personal data safe in the browser.

- ``NoStoreMiddleware``: pages hold citizens' names, phones and conversations, so no browser or
  proxy may keep a copy (a shared PC's back button or disk cache would show them to the next
  person). Staff responses are never stored; other dynamic responses are not stored unless
  their view chose a Cache-Control of its own. Static files never reach this middleware.
- ``IdleSessionMiddleware``: a session ends after SESSION_IDLE_SECONDS without a request. Each
  request pushes the deadline back, but at most once every SESSION_TOUCH_SECONDS, so a busy
  console does not write its session row on every request.
- ``login_locked_out``: django-axes' answer once a username has failed too often from one
  address: the login page again, saying why and for how long.
"""

import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from callcenter.forms import LoginForm


class NoStoreMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        elif not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True)
        return response


class IdleSessionMiddleware:
    """Keep a used session alive: save it (with a fresh expiry) when it was last saved more
    than SESSION_TOUCH_SECONDS ago. Sits after SessionMiddleware, which does the saving."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty() or session.session_key is None:
            return response
        now = int(time.time())
        if now - session.get(TOUCHED_KEY, 0) >= settings.SESSION_TOUCH_SECONDS:
            session[TOUCHED_KEY] = now  # modified: saved with a new expiry
        return response


TOUCHED_KEY = "_open120_touched"


def login_locked_out(request: HttpRequest, original_response=None, credentials=None):
    """The login page with the lockout explained (429, Retry-After: the cool-off)."""
    cool_off = int(settings.AXES_COOLOFF_TIME.total_seconds())
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    response = render(
        request,
        "registration/login.html",
        {
            "form": LoginForm(request, initial={"username": username}),
            "locked_out_minutes": max(1, cool_off // 60),
        },
        status=429,
    )
    response["Retry-After"] = str(cool_off)
    return response
