"""Ticket numbers: 120-YYYY-NNNNNN, unique and gapless per year, also under concurrency."""

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import translation

from tickets.models import Ticket, TicketEvent
from tickets.services import ticket_create

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.mark.django_db
def test_numbers_follow_the_city_format_and_count_up():
    first = ticket_create(subject="등본 발급 문의", channel="voice")
    second = ticket_create(subject="불법주차 신고", channel="kakao")
    year = first.created_at.astimezone(SEOUL).year
    assert first.number == f"120-{year}-000001"
    assert second.number == f"120-{year}-000002"


@pytest.mark.django_db
def test_each_year_starts_again_at_one_in_seoul_time():
    # 2026-12-31 23:30 in Seoul is still 14:30 UTC on the same day; 00:10 on 1 January is 2027.
    late = ticket_create(
        subject="제야의 종 행사",
        channel="voice",
        created_at=datetime(2026, 12, 31, 23, 30, tzinfo=SEOUL),
    )
    new_year = ticket_create(
        subject="새해 첫 민원",
        channel="voice",
        created_at=datetime(2027, 1, 1, 0, 10, tzinfo=SEOUL),
    )
    assert late.number == "120-2026-000001"
    assert new_year.number == "120-2027-000001"


@pytest.mark.django_db
def test_a_rolled_back_ticket_gives_its_number_back():
    ticket_create(subject="첫 번째", channel="voice")
    with pytest.raises(RuntimeError), transaction.atomic():
        ticket_create(subject="취소될 민원", channel="voice")
        raise RuntimeError("the surrounding request failed")
    third = ticket_create(subject="두 번째", channel="voice")
    assert third.number.endswith("-000002")


@pytest.mark.django_db
def test_creation_is_recorded_as_the_first_event(agent_user):
    ticket = ticket_create(subject="여권 재발급", channel="webchat", created_by=agent_user)
    event = TicketEvent.objects.get(ticket=ticket)
    assert event.type == TicketEvent.Type.CREATED
    assert event.actor == agent_user


@pytest.mark.django_db
def test_a_ticket_needs_a_subject():
    with translation.override("en"), pytest.raises(ValueError, match="subject"):
        ticket_create(subject="  ", channel="voice")
    assert not Ticket.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_on_postgresql_is_unique_and_gapless():
    """Eight threads, each its own connection, create 25 tickets each at the same time."""
    workers, per_worker = 8, 25
    start = threading.Barrier(workers)
    errors: list[BaseException] = []

    def create_many(worker: int) -> None:
        try:
            start.wait()
            for n in range(per_worker):
                ticket_create(subject=f"동시 민원 {worker}-{n}", channel="voice")
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create_many, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    sequence = sorted(
        int(number.rsplit("-", 1)[1]) for number in Ticket.objects.values_list("number", flat=True)
    )
    assert sequence == list(range(1, workers * per_worker + 1))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_ticket_of_a_new_year_on_postgresql():
    """The year's counter row does not exist yet: racing creators must not collide."""
    workers = 6
    start = threading.Barrier(workers)
    errors: list[BaseException] = []
    created_at = datetime(2030, 1, 1, 9, 0, tzinfo=SEOUL)

    def create_one() -> None:
        try:
            start.wait()
            ticket_create(subject="새해 민원", channel="voice", created_at=created_at)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create_one) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    numbers = sorted(Ticket.objects.values_list("number", flat=True))
    assert numbers == [f"120-2030-{n:06d}" for n in range(1, workers + 1)]
