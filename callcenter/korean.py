"""Korean particles (조사) chosen by the word they follow.

Whether a particle takes its consonant or vowel form depends on the last syllable of the
word before it: 번호를 / 기록을, 상태로 / 서울로 (ㄹ takes 로) / 부서으로 never. A translation
cannot know the word a placeholder holds, so the .po file writes both forms, "을(를)",
"이(가)", "(으)로", and ``josa_resolve`` picks one once the message is formatted.
"""

import re

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_RIEUL = 8  # the index of ㄹ among final consonants (jongseong)

# How the last digit of a number is read: 일 삼 육 칠 팔 end in a consonant (일 칠 팔 in ㄹ).
_DIGIT_FINAL = {
    "0": "other",  # 영
    "1": "rieul",  # 일
    "2": None,  # 이
    "3": "other",  # 삼
    "4": None,  # 사
    "5": None,  # 오
    "6": "other",  # 육
    "7": "rieul",  # 칠
    "8": "rieul",  # 팔
    "9": None,  # 구
}
# Round numbers are read by their unit: 십 백 천 만 (and 억) all end in a consonant.
_ZEROS_FINAL = {1: "other", 2: "other", 3: "other", 0: "other"}

# Latin letters read by name (acronyms): 엘 알 end in ㄹ, 엠 엔 in another consonant.
_LETTER_FINAL = {"L": "rieul", "R": "rieul", "M": "other", "N": "other"}
_VOWEL_LETTERS = set("aeiou")

# particle pairs: (after a consonant, after a vowel); 으로/로 also takes 로 after ㄹ.
PAIRS = {
    "을/를": ("을", "를"),
    "이/가": ("이", "가"),
    "은/는": ("은", "는"),
    "과/와": ("과", "와"),
    "으로/로": ("으로", "로"),
    "이나/나": ("이나", "나"),
    "이라/라": ("이라", "라"),
    "이랑/랑": ("이랑", "랑"),
    "아/야": ("아", "야"),
}
_ALIASES = {
    "를/을": "을/를",
    "가/이": "이/가",
    "는/은": "은/는",
    "와/과": "과/와",
    "로/으로": "으로/로",
}

# Both forms as a translation writes them, and the pair each stands for.
_MARKERS = {
    "을(를)": "을/를",
    "를(을)": "을/를",
    "이(가)": "이/가",
    "가(이)": "이/가",
    "은(는)": "은/는",
    "는(은)": "은/는",
    "과(와)": "과/와",
    "와(과)": "과/와",
    "(으)로": "으로/로",
    "(이)나": "이나/나",
    "(이)라": "이라/라",
    "(이)랑": "이랑/랑",
    "아(야)": "아/야",
}
_MARKER = re.compile("|".join(re.escape(marker) for marker in _MARKERS))
# Closing quotes and brackets and trailing blanks sit between a word and its particle.
_TRAILING = re.compile(r"[\s'\"’”)\]}>»」』〉》]+$")


def _final(word: str) -> str | None:
    """How ``word`` ends when read aloud: "rieul" (ㄹ), "other" consonant, None for a vowel,
    or "unknown" when there is nothing to read (symbols only)."""
    word = _TRAILING.sub("", word)
    if not word:
        return "unknown"
    last = word[-1]
    if _HANGUL_FIRST <= ord(last) <= _HANGUL_LAST:
        final = (ord(last) - _HANGUL_FIRST) % 28
        if final == 0:
            return None
        return "rieul" if final == _RIEUL else "other"
    if last.isdigit() and last.isascii():
        digits = re.search(r"[0-9]+$", word)[0]
        significant = digits.rstrip("0")
        if not significant:
            return "other"  # 영
        zeros = len(digits) - len(significant)
        if zeros:
            return _ZEROS_FINAL[zeros % 4]
        return _DIGIT_FINAL[last]
    if last.isascii() and last.isalpha():
        letters = re.search(r"[A-Za-z]+$", word)[0]
        if letters.isupper() and len(letters) <= 4:
            return _LETTER_FINAL.get(letters[-1])
        lower = letters.lower()
        if lower.endswith("l"):
            return "rieul"  # email → 이메일
        if lower.endswith(("m", "n", "ng")):
            return "other"  # team → 팀, open → 오픈, song → 송
        # book → 북, app → 앱, chat → 챗, web → 웹: a stop after a short vowel
        if lower[-1] in "bkpt" and len(lower) >= 2 and lower[-2] in _VOWEL_LETTERS:
            return "other"
        return None  # test → 테스트, kakao → 카카오, service → 서비스
    return "unknown"


def josa(word: str, pair: str) -> str:
    """The form of ``pair`` ("을/를", "이/가", "으로/로", …) that follows ``word``.

    josa("기록", "을/를") → "을"; josa("번호", "을/를") → "를"; josa("서울", "으로/로") → "로";
    josa("3", "을/를") → "을" (삼); josa("2", "을/를") → "를" (이). A word with nothing to read
    gets both forms, "을(를)".
    """
    key = _ALIASES.get(pair, pair)
    if key not in PAIRS:
        raise ValueError(f"Unknown particle pair {pair!r}.")
    after_consonant, after_vowel = PAIRS[key]
    final = _final(word)
    if final == "unknown":
        if after_consonant.startswith(after_vowel) or after_consonant.endswith(after_vowel):
            prefix = after_consonant[: len(after_consonant) - len(after_vowel)]
            return f"({prefix}){after_vowel}"
        return f"{after_consonant}({after_vowel})"
    if final is None:
        return after_vowel
    if key == "으로/로" and final == "rieul":
        return after_vowel
    return after_consonant


def with_josa(word: str, pair: str) -> str:
    """``word`` followed by the right form of ``pair``: with_josa("부서", "으로/로") → "부서로"."""
    return f"{word}{josa(word, pair)}"


def josa_resolve(text: str) -> str:
    """Every two-form particle in ``text`` ("을(를)", "(으)로", …) replaced by the form the
    word before it takes: "상담 기록 120-2026-000123을(를)" → "상담 기록 120-2026-000123을"."""
    if not text or "(" not in text:
        return text

    def choose(match: re.Match) -> str:
        before = text[: match.start()]
        if not before or before[-1].isspace():
            return match.group(0)
        return josa(before, _MARKERS[match.group(0)])

    return _MARKER.sub(choose, text)
