"""Builds registration_numbers.jsonl: chat sentences with and without registration numbers.

    .venv/bin/python tests/callcenter/data/make_rrn_corpus.py

Deterministic (fixed seed): re-running it rewrites the same file. Each line is
``{"text": ..., "numbers": ["9001011234567", ...], "kind": ...}``; ``numbers`` holds the
13 digits of every registration number the sentence contains (empty for negatives).

Positives: numbers with real birth dates (citizens 1–4, foreigners 5–8; a valid check
digit for numbers issued before October 2020, a random last digit after), written the ways
citizens type them (hyphen, en/em dash, minus sign, full-width digits and dash, spaces,
dots, underscores, split groups, no separator), inside sentences. Negatives: phone numbers,
dates, ticket numbers, amounts, account, card, business-registration and postal numbers,
inside sentences. Hand-written tricky sentences of both kinds are appended at the end.
"""

import json
import random
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "registration_numbers.jsonl"
WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")

POSITIVE_TEMPLATES = [
    "제 주민번호는 {n}이에요",
    "주민등록번호 {n} 입니다.",
    "{n}",
    "본인 확인용으로 {n} 보내드려요",
    "외국인등록번호 {n} 확인 부탁드립니다",
    "제 번호 {n} 맞는지 봐주세요",
    "아버지 주민번호가 {n}인데 등본 떼려면 어떻게 해요?",
    "이름 김민수, {n}, 주소는 서울시 중구입니다",
    "등록번호: {n}",
    "{n} 이거로 조회 가능한가요?",
    "신청서에 {n} 이렇게 적었는데 맞나요",
    "어머니 ({n}) 대리 신청입니다",
    "생년월일 포함해서 {n}요",
    "my ARC number is {n}",
    "뒷자리까지 말씀드리면 {n}입니다. 확인 부탁해요!",
]
NEGATIVE_TEMPLATES = [
    "연락처는 {n}입니다",
    "{n} 로 전화 주세요",
    "접수번호 {n} 처리 상황 알려주세요",
    "{n}에 신청했어요",
    "금액이 {n} 맞나요?",
    "계좌번호 {n}로 환불 부탁드립니다",
    "카드번호 {n} 결제가 안 돼요",
    "사업자등록번호 {n}",
    "우편번호 {n} 근처입니다",
    "{n} 확인 부탁드립니다",
    "번호 {n} 이에요",
]


def check_digit(first12: str, foreigner: bool) -> str:
    total = sum(int(d) * w for d, w in zip(first12, WEIGHTS, strict=True))
    return str(((13 if foreigner else 11) - total % 11) % 10)


def registration_number(rng: random.Random) -> str:
    foreigner = rng.random() < 0.3
    born = date(1930, 1, 1) + timedelta(
        days=rng.randrange((date(2026, 6, 30) - date(1930, 1, 1)).days)
    )
    if born.year < 2000:
        gender = rng.choice("56" if foreigner else "12")
    else:
        gender = rng.choice("78" if foreigner else "34")
    first12 = f"{born:%y%m%d}{gender}{rng.randrange(100000):05d}"
    if born >= date(2020, 10, 1):
        return first12 + str(rng.randrange(10))
    return first12 + check_digit(first12, foreigner)


def written(digits: str, style: str) -> str:
    front, back = digits[:6], digits[6:]
    return {
        "hyphen": f"{front}-{back}",
        "en dash": f"{front}\u2013{back}",
        "em dash": f"{front}\u2014{back}",
        "minus": f"{front}\u2212{back}",
        "full width": f"{front}-{back}".translate(FULL_WIDTH),
        "spaced hyphen": f"{front} - {back}",
        "space": f"{front} {back}",
        "dot": f"{front}.{back}",
        "underscore": f"{front}_{back}",
        "split groups": f"{front}-{back[0]} {back[1:4]} {back[4:]}",
        "all spaced": f"{front} {back[0]} {back[1:4]} {back[4:]}",
        "no separator": digits,
        "ideographic space": f"{front}\u3000{back}",
    }[style]


STYLES = [
    "hyphen",
    "en dash",
    "em dash",
    "minus",
    "full width",
    "spaced hyphen",
    "space",
    "dot",
    "underscore",
    "split groups",
    "all spaced",
    "no separator",
    "ideographic space",
]


def negative_numbers(rng: random.Random) -> list[tuple[str, str]]:
    """(kind, how it is written) for numbers that are not registration numbers."""
    r = rng.randrange
    return [
        ("mobile phone", f"010-{r(10000):04d}-{r(10000):04d}"),
        ("mobile phone", f"010{r(10000):04d}{r(10000):04d}"),
        ("mobile phone", f"+82 10 {r(10000):04d} {r(10000):04d}"),
        ("mobile phone", f"010 {r(10000):04d} {r(10000):04d}"),
        ("seoul phone", f"02-{r(100, 1000)}-{r(10000):04d}"),
        ("area phone", f"0{r(31, 65)}-{r(100, 1000)}-{r(10000):04d}"),
        ("representative number", f"1588-{r(10000):04d}"),
        ("date", f"20{r(10, 30)}-{r(1, 13):02d}-{r(1, 29):02d}"),
        ("date", f"20{r(10, 30)}.{r(1, 13):02d}.{r(1, 29):02d}"),
        ("date", f"20{r(10, 30)}{r(1, 13):02d}{r(1, 29):02d}"),
        ("date range", f"{r(20, 27)}{r(1, 13):02d}{r(1, 29):02d}~{r(20, 27)}{r(1, 13):02d}"),
        ("ticket number", f"120-20{r(20, 27)}-{r(1000000):06d}"),
        ("amount", f"{r(1, 10)},{r(1000):03d},{r(1000):03d}원"),
        ("amount", f"{r(1, 100) * 1000000}"),
        ("amount", f"{r(1, 100)}{r(1000000):06d}원"),
        ("shinhan account", f"110-{r(1000):03d}-{r(1000000):06d}"),
        ("kookmin account", f"{r(100000, 1000000)}-{r(100):02d}-{r(1000000):06d}"),
        ("woori account", f"1002-{r(1000):03d}-{r(1000000):06d}"),
        ("kakaobank account", f"3333-{r(100):02d}-{r(10000000):07d}"),
        ("nonghyup account", f"3{r(10, 100)}-{r(10000):04d}-{r(10000):04d}-{r(100):02d}"),
        ("hana account", f"{r(100, 1000)}-{r(1000000):06d}-{r(100000):05d}"),
        ("account without separators", f"계좌 {r(10**12, 10**13)}"),
        ("card number", f"{r(4000, 5600)}-{r(10000):04d}-{r(10000):04d}-{r(10000):04d}"),
        ("card number", f"{r(4000, 5600)} {r(10000):04d} {r(10000):04d} {r(10000):04d}"),
        ("business registration", f"{r(100, 1000)}-{r(10, 100)}-{r(10000, 100000)}"),
        ("postal code", f"{r(10000, 64000):05d}"),
        ("corporate registration", f"{r(110000, 290000)}-0{r(1000000):06d}"),
        ("time", f"{r(0, 24):02d}:{r(60):02d}~{r(0, 24):02d}:{r(60):02d}"),
        ("invoice", f"송장번호 {r(10**11, 10**12)}"),
        ("13 digits, no context word", f"{r(10**12, 10**13)}"),
        ("13 digits, no context word", f"{r(10**12, 10**13)}"),
    ]


HAND_POSITIVES = [
    ("제 주민번호는 900101-1234568이에요", ["9001011234568"]),
    ("９００１０１－１２３４５６８", ["9001011234568"]),
    ("900101 1 234 568", ["9001011234568"]),
    ("외국인등록번호 901231-5123456", ["9012315123456"]),
    ("900101-1 234 568 이게 제 번호예요", ["9001011234568"]),
    ("주민번호 9001011234568 입니다", ["9001011234568"]),
    ("주민 9001011234560요", ["9001011234560"]),
    ("주민번호요? 850315–2345678", ["8503152345678"]),
    ("850315—2345678 본인입니다", ["8503152345678"]),
    ("제꺼 850315−2345678", ["8503152345678"]),
    ("850315_2345678 입력했는데 오류나요", ["8503152345678"]),
    ("850315.2345678", ["8503152345678"]),
    ("주민번호 앞자리 850315 뒷자리 2345678", ["8503152345678"]),
    ("아이 주민번호 2104153123456이요", ["2104153123456"]),
    ("아이 번호 2104153123456", ["2104153123456"]),
    ("RRN: 750505-1 23 45 67", ["7505051234567"]),
    (
        "저랑 남편 거 750505-1234567, 780808-2345678 둘 다 확인해주세요",
        ["7505051234567", "7808082345678"],
    ),
    ("연락처 010-1234-5678, 주민번호 900101-1234567", ["9001011234567"]),
    ("(900101-1234567)", ["9001011234567"]),
    ("번호는900101-1234567입니다", ["9001011234567"]),
    ("외국인 등록번호 ９５０７０７－６１２３４５６ 입니다", ["9507076123456"]),
    ("생년월일 000229-3123456", ["0002293123456"]),
    ("주민등록번호 뒷자리 포함 : 641120 - 1 534 211", ["6411201534211"]),
    ("주민번호 900101-1234567.", ["9001011234567"]),
]

HAND_NEGATIVES = [
    "제 전화번호는 010-1234-5678이에요",
    "+82 10 1234 5678 로 연락 주세요",
    "02-123-4567 번으로 전화했어요",
    "1588-1234 상담센터 번호 맞나요",
    "2026-11-30까지 신청하면 되나요",
    "2026.11.30 접수했어요",
    "접수번호 120-2026-000123 진행상황 알려주세요",
    "과태료 1,234,567원 나왔어요",
    "13000000원 입금했어요",
    "신한 110-123-456789로 환불해주세요",
    "국민은행 123456-01-123456 입니다",
    "우리은행 1002-123-456789",
    "계좌 1002123456789 로 보내주세요",
    "카드 1234-5678-9012-3456 결제 취소요",
    "사업자 123-45-67890",
    "우편번호 06236",
    "법인등록번호 110111-0012345",
    "주문번호 2026113012345 배송 언제 와요",
    "190101-1234567-01 계좌로 이체",
    "계좌번호 123-900101-1234567",
    "901301-1234567 이런 번호도 되나요",
    "900132-1234567",
    "900101-9234567",
    "900101-0234567",
    "310230-1234567",
    "9001011234",
    "90010112345678",
    "1 2 3 4 5 6 7 8 9 0 1 2 3",
    "전화 01012345678 입니다",
    "카카오뱅크 3333-01-1234567",
    "시간은 09:00~18:00 입니다",
    "면적 1,234.5678㎡",
    "운송장 6012345678901",
    "2026년 11월 30일 오후 3시",
    "민원번호 20261130-0001",
]


def main() -> None:
    rng = random.Random(120)
    rows = []
    for i in range(260):
        digits = registration_number(rng)
        style = STYLES[i % len(STYLES)]
        template = POSITIVE_TEMPLATES[rng.randrange(len(POSITIVE_TEMPLATES))]
        if style == "no separator" and "번호" not in template and "ARC" not in template:
            template = "주민번호 {n} 입니다"
        rows.append(
            {"text": template.format(n=written(digits, style)), "numbers": [digits], "kind": style}
        )
    for _round in range(10):
        for kind, number in negative_numbers(rng):
            template = NEGATIVE_TEMPLATES[rng.randrange(len(NEGATIVE_TEMPLATES))]
            rows.append({"text": template.format(n=number), "numbers": [], "kind": kind})
    rows += [{"text": t, "numbers": n, "kind": "hand-written"} for t, n in HAND_POSITIVES]
    rows += [{"text": t, "numbers": [], "kind": "hand-written"} for t in HAND_NEGATIVES]
    with OUT.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    positives = sum(1 for row in rows if row["numbers"])
    print(f"{OUT}: {positives} positives, {len(rows) - positives} negatives")


if __name__ == "__main__":
    main()
