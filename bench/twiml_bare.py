"""The floor for bench/voice.py: a bare Django view returning fixed TwiML, in this project.

    DJANGO_SETTINGS_MODULE=bench.twiml_bare daphne -p 8330 bench.twiml_bare:application

The project's own settings, middleware stack and ASGI handler, with a URLconf of one view
that returns a constant answer: no signature check, no database. The app's figures minus
these are what our webhooks add to what any Django view of this project costs.
"""

import os

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.twiml_bare"

from callcenter.settings import *  # noqa: E402, F403 - this module is the settings too

ROOT_URLCONF = "bench.twiml_bare"

from django.core.asgi import get_asgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Gather action="/twilio/voice/menu" input="dtmf speech" language="ko-KR" method="POST" '
    'numDigits="1"><Say language="ko-KR">안녕하십니까, 120 시민 상담 콜센터입니다.</Say>'
    '</Gather><Redirect method="POST">/twilio/voice/menu?attempt=1</Redirect></Response>'
)


@csrf_exempt
def twiml(request):
    return HttpResponse(TWIML, content_type="text/xml; charset=utf-8")


def healthz(request):
    return HttpResponse("ok")


urlpatterns = [
    path("twilio/voice/incoming", twiml),
    path("twilio/voice/wait", twiml),
    path("healthz", healthz),
]

application = get_asgi_application()

# As callcenter/asgi.py does: the floor gets the same start-up as the app.
from callcenter.startup import freeze_startup_objects  # noqa: E402

freeze_startup_objects()
