"""Masking of personal data for roles that do not need to see it in full.

Korean practice (개인정보 비식별 조치): a phone keeps its area prefix and last four digits,
a resident registration number keeps the birth date and the gender digit.
"""

import re

_RRN = re.compile(r"(\d{6})\s*-?\s*([1-8])\d{6}")
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
    """Mask every resident registration number in ``text``: '900101-1234567' → '900101-1******'."""
    return _RRN.sub(lambda m: f"{m.group(1)}-{m.group(2)}******", text)
