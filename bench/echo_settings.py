"""Settings for the echo floor (bench/echo_asgi.py): nothing but a channel layer.

The layer is the app's own (callcenter.settings.CHANNEL_LAYERS: channels_redis on REDIS_URL
with its socket timeout, capacity and pool), under the CHANNEL_LAYER_PREFIX the bench gives,
so the floor follows any change to the app's layer configuration.
"""

import copy
import os

from callcenter import settings as app_settings

SECRET_KEY = "bench-echo-" + "e" * 50
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
USE_TZ = True
CHANNEL_LAYERS = copy.deepcopy(app_settings.CHANNEL_LAYERS)
if os.environ.get("ECHO_REDIS_MAX_CONNECTIONS"):  # bench/realtime.py --floor-max-connections
    for host in CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]:
        host["max_connections"] = int(os.environ["ECHO_REDIS_MAX_CONNECTIONS"])
