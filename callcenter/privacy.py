"""Masking of personal data for roles that do not need to see it in full.

Korean practice (개인정보 비식별 조치): a phone keeps its area prefix and last four digits,
a resident registration number keeps the birth date and the gender digit.
"""

import re

from callcenter.pii import mask_registration_numbers

_DIGITS = re.compile(r"\d")


def mask_phone(phone: str) -> str:
    """'010-1234-5678' → '010-****-5678'; '+82 10-1234-5678' → '+82 10-****-5678'."""
    if not phone:
        return ""
    digit_positions = [match.start() for match in _DIGITS.finditer(phone)]
    if len(digit_positions) < 7:
        return "*" * len(phone)
    # Hide the middle block: everything but the first 3 and the last 4 digits.
    hidden = set(digit_positions[3:-4])
    if phone.startswith("+"):
        hidden = set(digit_positions[4:-4])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(phone))


def mask_rrn(text: str) -> str:
    """Mask every resident registration number in ``text``: '900101-1234567' → '900101-1******'.

    Kept for existing callers; the detection itself lives in ``callcenter.pii``.
    """
    return mask_registration_numbers(text)


# Korean phone numbers inside free text: mobiles (010, 011, 016–019), Seoul (02), the regions
# (031–064), 070 and 050x personal numbers; with +82 or a leading 0, any common separators.
_PHONE_IN_TEXT = re.compile(
    r"(?<![\d+])(?:\+82[\s.-]*\(?0?\)?|0)(?:1[016789]|2|[3-6][1-5]|70|50\d)\)?[\s.-]*"
    r"\d{3,4}[\s.-]*\d{4}(?!\d)"
)


def mask_phones_in_text(text: str) -> str:
    """Every phone number in ``text`` masked as ``mask_phone`` does: '연락처 010-1234-5678'
    → '연락처 010-****-5678'."""
    if not text:
        return text
    return _PHONE_IN_TEXT.sub(lambda match: mask_phone(match.group(0)), text)


def mask_transcript_text(text: str) -> str:
    """A transcript line for readers who need no personal data: registration numbers and
    phone numbers masked."""
    return mask_phones_in_text(mask_rrn(text))
