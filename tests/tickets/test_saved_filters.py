"""Saved ticket-list filters: one per user and name, removed only by their owner."""

import pytest
from django.core.exceptions import PermissionDenied

from tickets.models import SavedFilter
from tickets.services import saved_filter_delete, saved_filter_save

pytestmark = pytest.mark.django_db


def test_saving_a_name_again_replaces_its_query(agent_user):
    saved_filter_save(user=agent_user, name="내 미해결", query="status=open")
    saved = saved_filter_save(user=agent_user, name="내 미해결", query="status=open&mine=1")
    assert SavedFilter.objects.get(user=agent_user).query == "status=open&mine=1"
    assert saved.name == "내 미해결"


def test_nobody_deletes_another_users_filter(agent_user, other_agent_user):
    saved = saved_filter_save(user=agent_user, name="내 미해결", query="status=open")
    with pytest.raises(PermissionDenied):
        saved_filter_delete(saved_filter=saved, user=other_agent_user)
    assert SavedFilter.objects.filter(pk=saved.pk).exists()
    saved_filter_delete(saved_filter=saved, user=agent_user)
    assert not SavedFilter.objects.exists()
