"""The console's softphone token: a Twilio access token with a VoiceGrant, for agents only."""

import jwt
import pytest

ACCOUNT_SID = "AC" + "a" * 32
API_KEY = "SK" + "b" * 32
API_SECRET = "api-secret-" + "s" * 21
TWIML_APP_SID = "AP" + "c" * 32

pytestmark = pytest.mark.django_db


@pytest.fixture
def twilio_voice(settings):
    settings.VOICE_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_API_KEY = API_KEY
    settings.TWILIO_API_SECRET = API_SECRET
    settings.TWILIO_TWIML_APP_SID = TWIML_APP_SID
    settings.VOICE_TOKEN_TTL_SECONDS = 300


def test_an_agent_gets_a_short_lived_voice_token_for_their_own_client_identity(
    client, agent_user, twilio_voice
):
    client.force_login(agent_user)
    response = client.get("/api/voice/token")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    identity = f"agent-{agent_user.agent.pk}"
    assert (body["backend"], body["identity"], body["ttl_seconds"]) == ("twilio", identity, 300)

    claims = jwt.decode(body["token"], API_SECRET, algorithms=["HS256"])
    assert (claims["iss"], claims["sub"]) == (API_KEY, ACCOUNT_SID)
    assert claims["exp"] - claims["nbf"] == 300  # valid from now for the TTL, no longer
    grants = claims["grants"]
    assert grants["identity"] == identity
    assert grants["voice"] == {
        "incoming": {"allow": True},
        "outgoing": {"application_sid": TWIML_APP_SID},
    }
    assert "김민지" not in body["token"] and "minji" not in str(claims)  # no person in it


def test_in_simulated_mode_the_answer_says_so_and_holds_no_token(client, agent_user, settings):
    settings.VOICE_BACKEND = "simulated"
    client.force_login(agent_user)
    body = client.get("/api/voice/token").json()
    assert (body["backend"], body["token"]) == ("simulated", None)


def test_only_signed_in_agents_get_a_token(
    client, supervisor_user, officer_user, administrator_user, twilio_voice
):
    assert client.get("/api/voice/token").status_code == 401
    for user in (supervisor_user, officer_user, administrator_user):
        client.force_login(user)
        response = client.get("/api/voice/token")
        assert response.status_code == 403, user
        assert response.json()["error"] == "forbidden"
    assert client.post("/api/voice/token").status_code == 405
