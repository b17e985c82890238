"""The agent console's softphone: the token its Twilio Voice SDK connects with.

``GET /api/voice/token`` gives a signed-in agent a short-lived Twilio access token with a
``VoiceGrant`` (incoming calls to the agent's client identity, outgoing through the
configured TwiML app). The identity names the agent, never the person: ``agent-<id>``.
With ``VOICE_BACKEND=simulated`` (no Twilio account) the answer says so and carries no
token.
"""

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from callcenter.models import Agent
from callcenter.roles import AGENT, user_roles
from callcenter.services.voice import client_identity


@require_GET
def voice_token(request: HttpRequest) -> JsonResponse:
    """200 {backend, identity, token, ttl_seconds, expires_at}; 401 signed out; 403 not an
    agent. Never cached: the token is a credential."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "login_required", "message": "Sign in first."}, status=401)
    is_agent = AGENT in user_roles(request.user)
    agent = Agent.objects.filter(user=request.user).first() if is_agent else None
    if agent is None:
        return JsonResponse(
            {"error": "forbidden", "message": "Only agents have a softphone."}, status=403
        )
    ttl = settings.VOICE_TOKEN_TTL_SECONDS
    identity = client_identity(agent)
    token = None
    if settings.VOICE_BACKEND == "twilio":
        access = AccessToken(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_API_KEY,
            settings.TWILIO_API_SECRET,
            identity=identity,
            ttl=ttl,
        )
        access.add_grant(
            VoiceGrant(outgoing_application_sid=settings.TWILIO_TWIML_APP_SID, incoming_allow=True)
        )
        token = access.to_jwt()
    response = JsonResponse(
        {
            "backend": settings.VOICE_BACKEND,
            "identity": identity,
            "token": token,
            "ttl_seconds": ttl,
            "expires_at": (timezone.now() + timedelta(seconds=ttl)).isoformat(),
        }
    )
    response["Cache-Control"] = "no-store"
    return response
