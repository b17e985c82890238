"""The registration-number detector every channel masks through (callcenter.pii)."""

import io
import json
import logging
from pathlib import Path

import pytest

from callcenter.pii import (
    PersonalDataLogFilter,
    find_registration_numbers,
    mask_personal_data,
    mask_registration_numbers,
)
from callcenter.privacy import mask_rrn

CORPUS = Path(__file__).parent / "data" / "registration_numbers.jsonl"


def corpus_scores() -> tuple[float, float, int, int]:
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    true_pos = false_neg = false_pos = 0
    for row in rows:
        found = [number.digits for number in find_registration_numbers(row["text"])]
        hits = [digits for digits in row["numbers"] if digits in found]
        true_pos += len(hits)
        false_neg += len(row["numbers"]) - len(hits)
        false_pos += len([digits for digits in found if digits not in row["numbers"]])
    positives = sum(1 for row in rows if row["numbers"])
    recall = true_pos / (true_pos + false_neg)
    precision = true_pos / (true_pos + false_pos)
    return recall, precision, positives, len(rows) - positives


def test_the_corpus_is_found_with_99_percent_recall_and_high_precision():
    recall, precision, positives, negatives = corpus_scores()
    assert positives >= 200 and negatives >= 200
    assert recall >= 0.99
    assert precision >= 0.97


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("제 주민번호는 900101-1234567이에요", "제 주민번호는 900101-1******이에요"),
        ("９００１０１－１２３４５６７ 입니다", "900101-1****** 입니다"),
        ("900101 1 234 567", "900101-1******"),
        ("900101-1 234 567 맞아요", "900101-1****** 맞아요"),
        ("외국인등록번호 901231-5123456", "외국인등록번호 901231-5******"),
        ("900101–1234567", "900101-1******"),
        ("900101—1234567", "900101-1******"),
        ("900101−1234567", "900101-1******"),
        ("900101.1234567", "900101-1******"),
        ("900101_1234567", "900101-1******"),
        ("900101 - 1234567", "900101-1******"),
        ("앞자리 900101 뒷자리 1234567", "앞자리 900101-1******"),
        ("주민번호 9001011234567", "주민번호 900101-1******"),
        ("9001012234561", "900101-2******"),
        ("아이 번호 2104153123456", "아이 번호 210415-3******"),
        ("GET /faq/?q=900101%201234567", "GET /faq/?q=900101-1******"),
    ],
)
def test_a_registration_number_typed_any_way_is_masked_keeping_birth_date_and_gender(text, masked):
    assert mask_registration_numbers(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "010-1234-5678",
        "02-123-4567",
        "+82 10 1234 5678",
        "1588-1234",
        "2026-11-30",
        "2026.11.30",
        "120-2026-000123",
        "1,234,567원",
        "13000000",
        "110-123-456789",
        "123456-01-123456",
        "1002-123-456789",
        "계좌 1002123456789",
        "3333-01-1234567",
        "1234-5678-9012-3456",
        "123-45-67890",
        "06236",
        "110111-0012345",
        "190101-1234567-01",
        "123-900101-1234567",
        "901301-1234567",
        "900132-1234567",
        "900101-9234567",
        "9001011234567",
        "300101-3234567",
    ],
)
def test_phone_date_ticket_amount_and_account_numbers_are_left_alone(text):
    assert find_registration_numbers(text) == []
    assert mask_registration_numbers(text) == text


def test_the_text_around_a_full_width_number_is_kept_as_it_was():
    text = "ＡＢＣ 제 번호는 ９００１０１－１２３４５６７ 이에요 （확인）"
    assert mask_registration_numbers(text) == "ＡＢＣ 제 번호는 900101-1****** 이에요 （확인）"


def test_the_old_mask_rrn_uses_the_same_detector():
    assert mask_rrn("９００１０１－１ ２３４ ５６７") == "900101-1******"


def test_strings_inside_json_values_are_masked():
    value = {"note": "900101-1234567", "items": ["a", "800101-2345678"], "count": 3}
    assert mask_personal_data(value) == {
        "note": "900101-1******",
        "items": ["a", "800101-2******"],
        "count": 3,
    }


def test_log_lines_lose_the_number_whatever_logger_and_argument_carry_it():
    """The filter the settings put on every handler: message, arguments and traceback."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PersonalDataLogFilter())
    logger = logging.getLogger("tests.pii")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("SMS to %s: %s", "+821055556666", "주민번호 900101-1234567")
        try:
            raise ValueError("bad input ９００１０１－１２３４５６７")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    written = stream.getvalue()
    assert "900101-1******" in written and "+821055556666" in written
    assert "234567" not in written and "２３４５６７" not in written


def test_every_configured_log_handler_masks(settings):
    assert all(
        "mask_personal_data" in handler.get("filters", [])
        for handler in settings.LOGGING["handlers"].values()
    )
    # The console handler Django configured from settings.LOGGING at start-up.
    stream = io.StringIO()
    console = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, PersonalDataLogFilter) for f in h.filters)
    )
    previous = console.setStream(stream)
    try:
        logging.getLogger("django.server").warning('"GET /faq/?q=900101-1234567 HTTP/1.1" 200')
        logging.getLogger("callcenter.services.outbox").info("SMS body %s", "9001011234567 주민")
    finally:
        console.setStream(previous)
    written = stream.getvalue()
    assert written.count("900101-1******") == 2
    assert "1234567" not in written


@pytest.mark.django_db
def test_a_message_is_stored_masked_with_its_attachment_names():
    from callcenter.models import Message
    from callcenter.services.messages import message_create
    from tests.factories import ContactFactory

    item = {"id": "a1", "content_type": "image/jpeg", "size": 10, "path": "1/a1.jpg"}
    message = message_create(
        contact=ContactFactory(),
        sender=Message.Sender.CITIZEN,
        text="신분증 보내요 ９００１０１－１２３４５６７",
        attachments=[{**item, "name": "주민등록증_900101-1234567.jpg"}],
    )

    stored = Message.objects.values("text", "attachments").get(pk=message.pk)
    assert stored == {
        "text": "신분증 보내요 900101-1******",
        "attachments": [{**item, "name": "주민등록증_900101-1******.jpg"}],
    }


@pytest.mark.django_db
def test_rows_stored_before_masking_are_masked_by_the_command():
    from django.core.management import call_command

    from callcenter.models import Message
    from knowledge.models import SearchQueryLog
    from tests.factories import ContactFactory

    contact = ContactFactory()
    old = Message.objects.create(contact=contact, sender="citizen", text="주민번호 900101-1234567")
    clean = Message.objects.create(contact=contact, sender="citizen", text="010-1234-5678")
    SearchQueryLog.objects.create(query="９００１０１－１２３４５６７", results=0)
    out = io.StringIO()

    call_command("mask_registration_numbers", "--dry-run", stdout=out)
    assert "callcenter.Message: would change 1 rows" in out.getvalue()
    assert Message.objects.get(pk=old.pk).text == "주민번호 900101-1234567"
    call_command("mask_registration_numbers", stdout=out)

    assert Message.objects.get(pk=old.pk).text == "주민번호 900101-1******"
    assert Message.objects.get(pk=clean.pk).text == "010-1234-5678"
    assert SearchQueryLog.objects.get().query == "900101-1******"
