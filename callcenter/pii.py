"""The one detector of resident and foreigner registration numbers in free text.

Every channel (web chat, KakaoTalk, SMS, phone transcripts, video chat, Open311, staff notes,
search boxes, log lines) masks through here before anything is stored or sent, so that the
original number never reaches the database, the logs or an outbox row.

A resident registration number (주민등록번호) is ``YYMMDD-GNNNNNC``: the birth date, a
gender/century digit (1–4 for citizens, 5–8 for foreigners' registration numbers), five
digits and a check digit. Citizens type it in many ways: ``900101-1234567``,
``900101 1 234 567``, ``900101–1234567`` (en dash from a phone keyboard), ``９００１０１－…``
(full-width digits from an IME), ``900101.1234567`` or ``9001011234567``.

What keeps phone numbers, dates, ticket numbers, amounts and account numbers out:

- the front group is exactly six digits forming a real date, the gender digit fixes the
  century (1/2/5/6: 1900s, 3/4/7/8: 2000s, not in the future);
- the number is not glued to a longer digit chain (``110-900101-1234567``,
  ``900101-1234567-01`` are account-shaped, not registration numbers);
- thirteen digits written without any separator are also how long account and order numbers
  look, so they count only with a second signal: a valid check digit, a registration-number
  word nearby (주민, 외국인, 등록번호…), or a birth date from October 2020 on (numbers issued
  since then carry no check digit). A banking or order word nearby (계좌, 카드, 주문…) with no
  registration word wins against the check digit alone.
"""

import calendar
import logging
import re
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

# Dashes a keyboard, an IME or a word processor may produce, and the other separators seen.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_MARKS = _DASHES + "._+\uff0e\uff3f\u00b7\u30fb"
_BLANKS = " \t\u00a0\u2007\u202f\u3000"
# URL-encoded blanks and dashes: query strings in request log lines.
_ENCODED = "%20|%2[dD]|%E2%80%9[34]"
_SEP = f"(?:[{_BLANKS}]*[{re.escape(_MARKS)}][{_BLANKS}]*|[{_BLANKS}]+|{_ENCODED})"
_OPT = f"{_SEP}?"
# '앞자리 900101 뒷자리 1234567': the words between the two halves.
_BACK_WORDS = f"[{_BLANKS}]*(?:뒷\\s*자리|뒷\\s*번호|뒤)(?:는|에는)?[{_BLANKS}]*:?[{_BLANKS}]*"

_CANDIDATE = re.compile(
    rf"(?<![0-9])(?P<front>[0-9]{{6}})(?P<sep>{_BACK_WORDS}|{_OPT})(?P<back>[1-8](?:{_OPT}[0-9]){{6}})(?![0-9])"
)
_NON_DIGITS = re.compile(r"[^0-9]")
# A digit chain continues before/after the candidate (account and card numbers).
_CHAIN_BEFORE = re.compile(rf"[0-9][{re.escape(_MARKS)}]$")
_CHAIN_AFTER = re.compile(rf"^[{re.escape(_MARKS)}][0-9]")

_ID_WORDS = re.compile(
    r"주민|외국인|등록\s*번호|등록증|생년월일|뒷\s*자리|앞\s*자리|resident|registration|RRN|ARC",
    re.IGNORECASE,
)
_OTHER_WORDS = re.compile(
    r"계좌|통장|은행|뱅크|입금|송금|이체|카드|주문|송장|운송장|사업자|접수\s*번호|전화|휴대폰|"
    r"account|card|order|invoice",
    re.IGNORECASE,
)
_CONTEXT_CHARS = 24
_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
# Numbers issued from October 2020 carry a random last digit instead of a check digit.
_NO_CHECK_DIGIT_SINCE = date(2020, 10, 1)


@dataclass(frozen=True)
class RegistrationNumber:
    """One number found in a text: where it is and its digits (ASCII)."""

    start: int
    end: int
    digits: str

    @property
    def is_foreigner(self) -> bool:
        return self.digits[6] in "5678"

    @property
    def masked(self) -> str:
        """Birth date and gender digit stay (개인정보 비식별 조치); the rest is hidden."""
        return f"{self.digits[:6]}-{self.digits[6]}******"


def _ascii_digits(text: str) -> str:
    """Every decimal digit (full-width, other scripts) as its ASCII digit; same length."""
    if text.isascii():
        return text
    return "".join(str(int(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text)


def birth_date(digits: str) -> date | None:
    """The birth date a number states, or None when it states no real, past date."""
    century = 1900 if digits[6] in "1256" else 2000
    year, month, day = century + int(digits[:2]), int(digits[2:4]), int(digits[4:6])
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    born = date(year, month, day)
    if born > timezone.localdate():
        return None
    return born


def check_digit_valid(digits: str) -> bool:
    """The check digit of numbers issued before October 2020 (citizens' and foreigners')."""
    total = sum(int(d) * w for d, w in zip(digits[:12], _WEIGHTS, strict=True))
    offset = 13 if digits[6] in "5678" else 11
    return (offset - total % 11) % 10 == int(digits[12])


def _is_registration_number(text: str, match: re.Match, digits: str) -> bool:
    born = birth_date(digits)
    if born is None:
        return False
    if _CHAIN_BEFORE.search(text[max(0, match.start() - 2) : match.start()]) or _CHAIN_AFTER.match(
        text[match.end() : match.end() + 2]
    ):
        return False
    if match.group("sep") or len(match.group("back")) > 7:
        return True
    before = text[max(0, match.start() - _CONTEXT_CHARS) : match.start()]
    after = text[match.end() : match.end() + 8]
    if _ID_WORDS.search(before) or _ID_WORDS.search(after):
        return True
    if _OTHER_WORDS.search(before):
        return False
    return check_digit_valid(digits) or born >= _NO_CHECK_DIGIT_SINCE


def find_registration_numbers(text: str) -> list[RegistrationNumber]:
    """Every resident/foreigner registration number in ``text``, in order of appearance."""
    if not text:
        return []
    normal = _ascii_digits(text)
    found = []
    for match in _CANDIDATE.finditer(normal):
        digits = match.group("front") + _NON_DIGITS.sub("", match.group("back"))
        if _is_registration_number(normal, match, digits):
            found.append(RegistrationNumber(match.start(), match.end(), digits))
    return found


def mask_registration_numbers(text: str) -> str:
    """``text`` with every registration number masked: '900101-1234567' → '900101-1******'."""
    if not text:
        return text
    found = find_registration_numbers(text)
    if not found:
        return text
    parts, position = [], 0
    for number in found:
        parts += [text[position : number.start], number.masked]
        position = number.end
    parts.append(text[position:])
    return "".join(parts)


def mask_personal_data(value):
    """Mask strings, and the strings inside lists and dicts (JSON fields such as attributes)."""
    if isinstance(value, str):
        return mask_registration_numbers(value)
    if isinstance(value, dict):
        return {key: mask_personal_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_personal_data(item) for item in value)
    return value


class PersonalDataLogFilter(logging.Filter):
    """Masks registration numbers in every log record before any handler formats it.

    Installed on every handler in ``settings.LOGGING``, so a number inside a message, its
    arguments or an exception text never reaches a log file, whichever logger wrote it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logged as it is, not lost
            return True
        masked = mask_registration_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_registration_numbers(record.exc_text)
        return True
