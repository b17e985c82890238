"""The Celery application: Redis broker when REDIS_URL is set, a folder otherwise."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcenter.settings")

app = Celery("open120")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
