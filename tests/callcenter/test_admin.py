"""The administrator's screens: every model's list, with search and filters, opens."""

import pytest
from django.contrib import admin
from django.urls import reverse

from callcenter.models import PersonalDataAccess
from tests.factories import CitizenFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "x" * 16)


@pytest.mark.parametrize(
    "model", list(admin.site._registry), ids=lambda m: f"{m._meta.app_label}.{m._meta.model_name}"
)
def test_every_admin_list_opens_and_searches(client, superuser, model):
    client.force_login(superuser)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200
    if admin.site._registry[model].search_fields:
        assert client.get(url, {"q": "등본"}).status_code == 200


def test_opening_a_citizen_in_admin_is_logged(client, superuser):
    citizen = CitizenFactory(phone="+821055556666")
    client.force_login(superuser)
    response = client.get(reverse("admin:callcenter_citizen_change", args=[citizen.pk]))
    assert response.status_code == 200
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.citizen, access.field) == (superuser, citizen, "phone,email")


def test_citizen_list_masks_phone_numbers(client, superuser):
    CitizenFactory(name="김시민", phone="+821055556666")
    client.force_login(superuser)
    page = client.get(reverse("admin:callcenter_citizen_changelist")).content.decode()
    assert "010-****-6666" in page
    assert "5555-6666" not in page
