"""The shared scheduler: one claim per period across processes, and a shared state."""

from datetime import timedelta

import pytest
from django.utils import timezone

from callcenter.models import ScheduledJob
from callcenter.services.scheduler import job_claim, job_state_swap

pytestmark = pytest.mark.django_db


def test_a_job_is_claimed_once_per_period_and_again_when_it_has_passed():
    assert job_claim("router-housekeeping", 5) is True
    assert job_claim("router-housekeeping", 5) is False  # another process, same period
    ScheduledJob.objects.filter(name="router-housekeeping").update(
        next_run_at=timezone.now() - timedelta(seconds=1)
    )
    assert job_claim("router-housekeeping", 5) is True


def test_the_state_swap_returns_what_any_caller_stored_before():
    assert job_state_swap("router", "queue_counts", {"1": 2}) is None
    assert job_state_swap("router", "queue_counts", {"1": 2}) == {"1": 2}  # unchanged: read
    assert job_state_swap("router", "queue_counts", {"1": 3}) == {"1": 2}
    assert job_state_swap("router", "other", "x") is None  # keys are kept apart
    assert ScheduledJob.objects.get(name="router").state == {"queue_counts": {"1": 3}, "other": "x"}
