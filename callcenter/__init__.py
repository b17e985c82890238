"""Open120: the contact-centre system a city runs its 120 line on."""

__version__ = "0.1.0"

# Load the Celery app with Django so @shared_task binds to it in every process.
from callcenter.celery import app as celery_app  # noqa: E402

__all__ = ["__version__", "celery_app"]
