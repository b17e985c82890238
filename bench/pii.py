"""Registration-number detector: recall and precision on the test corpus, and its speed.

    .venv/bin/python bench/pii.py             # the figures
    .venv/bin/python bench/pii.py --misses    # and every sentence it gets wrong

Reads tests/callcenter/data/registration_numbers.jsonl (made by make_rrn_corpus.py there):
each line a sentence and the 13 digits of every registration number in it. A number counts
as found when callcenter.pii.find_registration_numbers returns it; anything else it returns
is a false positive. Also checks that mask_registration_numbers leaves none of a number's
last six digits in the sentence, times the masking of every sentence, and counts how often
random numbers of the same shape (13 bare digits; 6 digits, hyphen, 7 digits) are taken for
registration numbers.
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RANDOM_SAMPLES = 100_000
CORPUS = ROOT / "tests" / "callcenter" / "data" / "registration_numbers.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcenter.settings")
    os.environ.setdefault("DEBUG", "1")
    from callcenter.pii import find_registration_numbers, mask_registration_numbers

    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    true_pos = false_neg = false_pos = leaked = 0
    for row in rows:
        found = [number.digits for number in find_registration_numbers(row["text"])]
        expected = row["numbers"]
        hits = [digits for digits in expected if digits in found]
        true_pos += len(hits)
        false_neg += len(expected) - len(hits)
        false_pos += len([digits for digits in found if digits not in expected])
        masked = mask_registration_numbers(row["text"])
        leaked += sum(1 for digits in expected if digits[7:] in masked.replace(" ", ""))
        if args.misses and (len(hits) != len(expected) or len(found) != len(hits)):
            print(f"  {row['kind']:>28}: {row['text']!r} expected {expected} found {found}")
    started = time.perf_counter()
    for _ in range(10):
        for row in rows:
            mask_registration_numbers(row["text"])
    per_text = (time.perf_counter() - started) / (10 * len(rows))
    positives = sum(1 for row in rows if row["numbers"])
    print(
        f"corpus: {len(rows)} sentences, {positives} with numbers, {len(rows) - positives} without"
    )
    print(
        f"numbers: {true_pos + false_neg}; found {true_pos}, missed {false_neg},"
        f" false alarms {false_pos}"
    )
    print(f"recall    {true_pos / (true_pos + false_neg):.4f}")
    print(f"precision {true_pos / (true_pos + false_pos):.4f}")
    print(f"masked text still holding a number's last 6 digits: {leaked}")
    print(f"mask_registration_numbers: {per_text * 1e6:.1f} µs per sentence")
    # Numbers that look like registration numbers by shape alone: how many are taken for one.
    rng = random.Random(120)
    shapes = {
        "13 random digits, no word around": lambda: f"번호 {rng.randrange(10**12, 10**13)}",
        "random 6-7 digits with a hyphen": lambda: (
            f"{rng.randrange(10**5, 10**6)}-{rng.randrange(10**6, 10**7)}"
        ),
    }
    for name, make in shapes.items():
        alarms = sum(1 for _ in range(RANDOM_SAMPLES) if find_registration_numbers(make()))
        print(f"taken for a number: {alarms / RANDOM_SAMPLES:.2%} of {RANDOM_SAMPLES:,} {name}")


if __name__ == "__main__":
    main()
