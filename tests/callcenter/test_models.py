from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from callcenter.models import Citizen, Contact
from callcenter.privacy import mask_phone, mask_rrn
from callcenter.services.contacts import citizen_find_or_create, contact_create
from tests.factories import CitizenFactory, ContactFactory, QueueFactory

pytestmark = pytest.mark.django_db


def test_a_provider_id_is_unique_within_its_channel():
    ContactFactory(channel="voice", provider_id="CA0123456789abcdef0123456789abcdef")
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(channel="voice", provider_id="CA0123456789abcdef0123456789abcdef")


def test_the_same_provider_id_may_appear_on_another_channel():
    ContactFactory(channel="voice", provider_id="shared-42")
    ContactFactory(channel="sms", provider_id="shared-42")
    assert Contact.objects.filter(provider_id="shared-42").count() == 2


def test_contacts_without_provider_id_do_not_collide():
    ContactFactory(channel="webchat", provider_id="")
    ContactFactory(channel="webchat", provider_id="")
    assert Contact.objects.filter(channel="webchat").count() == 2


def test_a_redelivered_webhook_returns_the_existing_contact():
    queue = QueueFactory()
    first, created = contact_create(channel="voice", provider_id="CAdup", queue=queue)
    again, created_again = contact_create(channel="voice", provider_id="CAdup", queue=queue)
    assert created and not created_again
    assert again.pk == first.pk
    assert Contact.objects.filter(provider_id="CAdup").count() == 1


def test_a_contact_cannot_be_answered_before_it_was_queued():
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(queued_at=now, answered_at=now - timedelta(seconds=1))


def test_an_abandoned_contact_was_never_answered():
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(queued_at=now, answered_at=now, abandoned=True)


def test_wrap_up_cannot_end_before_the_contact_did():
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(queued_at=now, answered_at=now, ended_at=None, wrapup_ended_at=now)


def test_contact_durations_follow_the_metric_definitions():
    t0 = timezone.now()
    contact = ContactFactory(
        queued_at=t0,
        answered_at=t0 + timedelta(seconds=15),
        ended_at=t0 + timedelta(seconds=315),
        wrapup_ended_at=t0 + timedelta(seconds=375),
    )
    assert contact.queue_time == timedelta(seconds=15)
    assert contact.talk_time == timedelta(seconds=300)
    assert contact.wrapup_time == timedelta(seconds=60)
    assert contact.handle_time == timedelta(seconds=360)
    assert contact.is_realtime


@pytest.mark.parametrize("typed", ["010-1234-5678", "01012345678", "+82 10 1234 5678"])
def test_citizens_are_found_by_phone_in_any_common_format(typed):
    citizen = CitizenFactory(phone="+821012345678")
    assert list(Citizen.objects.by_phone(typed)) == [citizen]


def test_an_invalid_phone_finds_nobody():
    CitizenFactory(phone="+821012345678")
    assert not Citizen.objects.by_phone("12").exists()


def test_a_kakao_user_key_belongs_to_one_citizen():
    CitizenFactory(kakao_user_key="a1b2c3")
    with pytest.raises(IntegrityError), transaction.atomic():
        CitizenFactory(kakao_user_key="a1b2c3")
    CitizenFactory(kakao_user_key="")
    CitizenFactory(kakao_user_key="")


def test_first_contact_creates_the_citizen_and_later_ones_find_them():
    first = citizen_find_or_create(phone="010-2222-3333")
    again = citizen_find_or_create(phone="+821022223333")
    assert first.pk == again.pk
    assert str(first.phone) == "+821022223333"


def test_phone_is_masked_for_display():
    citizen = CitizenFactory(phone="+821012345678")
    assert citizen.masked_phone == "010-****-5678"
    assert mask_phone("02-123-4567") == "02-1**-4567"


def test_resident_registration_numbers_are_masked_in_free_text():
    assert mask_rrn("주민번호 900101-1234567 입니다") == "주민번호 900101-1****** 입니다"
    # Thirteen bare digits count when the check digit holds (see callcenter.pii).
    assert mask_rrn("9001012234561") == "900101-2******"
