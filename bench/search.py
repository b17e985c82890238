"""Knowledge-base search benchmark: answer quality on the evaluation set, API latency at 10k.

    .venv/bin/python bench/search.py                  # everything, ~3 minutes on 2 cores
    .venv/bin/python bench/search.py --quality-only   # the quality table only (~20 s)
    .venv/bin/python bench/search.py --skip-postgres  # latency on SQLite only
    .venv/bin/python bench/search.py --eval dev       # the small built-in question set

Quality
    Loads knowledge/demo/articles.jsonl into a throwaway SQLite database
    (/tmp/kbbench.sqlite3) through knowledge.services.article_save and
    tickets.services.category_get_or_create_path, then asks every question of
    bench/data/kb_eval.jsonl ({"question", "external_id", "kind"}) as an anonymous caller.
    Prints recall@1, recall@5 and MRR (over the first 10 results) for two baselines and
    knowledge.search, overall and per kind:

    - LIKE: SQL icontains of each whitespace-separated query word in title, question or
      answer; ranked by how many words match (ties: lower id);
    - previous: the substring search article_search used before knowledge.search
      (weighted title/question/tags+synonyms/answer), copied here unchanged;
    - Kiwi BM25: plain Okapi BM25 over Kiwi's content morphemes of title, question, answer
      and tags (no dictionary, no synonyms);
    - Kiwi+bigram BM25: the same plus each word's character bigrams.

    Then the held-out set (--heldout test, the default; dev for tuning; none to skip): the
    new articles of bench/data/kb_heldout_articles.jsonl loaded beside the demo's, and the
    questions of bench/data/kb_heldout_questions.jsonl whose "split" is that half. The split
    was made once, before any tuning; only the test half's figures are reported.

Latency
    Generates 10,000 Korean articles by recombining the demo articles (district variants of
    titles and questions, shuffled answer sentences with sentences of related articles, a
    local contact line; 85 % published, 7 % drafts, 3 % in review, 5 % archived), builds
    the index with search_index_rebuild, then sends every evaluation question to GET
    /api/knowledge/search through django.test.Client, once anonymously and once as an
    agent, and prints p50/p95/p99/max per request (the whole Django request: view, search,
    snippet, SearchQueryLog insert, JSON). Runs on SQLite (/tmp/kbbench-10k.sqlite3) and on
    PostgreSQL (open120_kbbench on 127.0.0.1, created and dropped here).

Each database runs in its own child process (Django settings are per process).
"""

import argparse
import functools
import hashlib
import json
import operator
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEMO = BASE_DIR / "knowledge" / "demo" / "articles.jsonl"
EVAL = BASE_DIR / "bench" / "data" / "kb_eval.jsonl"
# The held-out set (issue 14): new articles and citizens' questions, split dev/test once
# (bench/data/kb_heldout_questions.jsonl, field "split"). Report the test half; tune on dev.
HELDOUT_ARTICLES = BASE_DIR / "bench" / "data" / "kb_heldout_articles.jsonl"
HELDOUT_QUESTIONS = BASE_DIR / "bench" / "data" / "kb_heldout_questions.jsonl"
SQLITE_QUALITY = Path(tempfile.gettempdir()) / "kbbench.sqlite3"
SQLITE_LATENCY = Path(tempfile.gettempdir()) / "kbbench-10k.sqlite3"
PG_DB = "open120_kbbench"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
RESULT = "RESULT "
TOP = 10

# Our own questions, written before looking at the evaluation set (--eval dev).
DEV_QUESTIONS = [
    ("등본을 어디서 떼요", "kb-0001", "particle"),
    ("주민 등록 등본 발급", "kb-0001", "spacing"),
    ("등본 떼려면", "kb-0001", "colloquial"),
    ("주민등록등본 발급받으려면 뭐가 필요해요", "kb-0001", "particle"),
    ("둥본 발급", "kb-0001", "typo"),
    ("인감증명서를 대리로 뗄 수 있나요", "kb-0002", "particle"),
    ("인감 증명 서 발급", "kb-0002", "spacing"),
    ("인감증멍서", "kb-0002", "typo"),
    ("가족 관계 증명서 인터넷 발급", "kb-0003", "spacing"),
    ("가증 떼는 법", "kb-0003", "abbreviation"),
    ("여권 만료돼서 새로 만들려고요", "kb-0004", "paraphrase"),
    ("passport 재발급", "kb-0004", "english_mixed"),
    ("여권 제발급", "kb-0004", "typo"),
    ("이사 가서 주소 옮기려면", "kb-0005", "paraphrase"),
    ("전입싱고 기한", "kb-0005", "typo"),
    ("민원 답변이 너무 늦어요", "kb-0006", "paraphrase"),
    ("구청 예산 내역 공개 요청", "kb-0007", "paraphrase"),
    ("수화로 상담 가능한가요", "kb-0008", "colloquial"),
    ("차세 연납 신청", "kb-0009", "abbreviation"),
    ("자동차세를 미리 내면 할인되나요", "kb-0009", "particle"),
    ("자동차쎄 할인", "kb-0009", "typo"),
    ("재산세가 두번 나왔어요", "kb-0010", "colloquial"),
    ("밀린 세금 확인", "kb-0011", "colloquial"),
    ("주차딱지 이의신청", "kb-0012", "spacing"),
    ("parking ticket 이의신청", "kb-0012", "english_mixed"),
    ("거주자 우선 주차 신청", "kb-0013", "spacing"),
    ("소화전 앞 불법주차 신고", "kb-0014", "paraphrase"),
    ("버스 지하철 환승 몇분", "kb-0015", "colloquial"),
    ("한달 교통 정기권", "kb-0016", "spacing"),
    ("새벽에 다니는 버스", "kb-0017", "paraphrase"),
    ("올빼미 버스", "kb-0017", "spacing"),
    ("교통카드 잃어버렸어요 잔액", "kb-0018", "colloquial"),
    ("T-money 환불", "kb-0018", "english_mixed"),
    ("가로등이 꺼졌어요", "kb-0019", "particle"),
    ("도로에 구멍 패였어요", "kb-0020", "paraphrase"),
    ("포트 홀 신고", "kb-0020", "spacing"),
    ("소파 버리는 방법", "kb-0021", "paraphrase"),
    ("대형 폐기물 스티커", "kb-0021", "spacing"),
    ("음쓰 버리는 요일", "kb-0022", "abbreviation"),
    ("분리수거 방법", "kb-0023", "colloquial"),
    ("pet병 버리기", "kb-0023", "english_mixed"),
    ("쓰레기 몰래 버리는 사람 신고", "kb-0024", "colloquial"),
    ("노인연금 신청", "kb-0025", "abbreviation"),
    ("기초 연금 신청 나이", "kb-0025", "spacing"),
    ("노인 알바", "kb-0026", "colloquial"),
    ("아동 수당은 언제 신청해요", "kb-0027", "spacing"),
    ("장애인 활동보조 신청", "kb-0028", "paraphrase"),
    ("갑자기 실직해서 생활비 지원", "kb-0029", "paraphrase"),
    ("깡통전세 상담", "kb-0030", "abbreviation"),
    ("전세 보증금을 못 돌려받았어요", "kb-0030", "particle"),
    ("청년 월세 지원금", "kb-0031", "spacing"),
    ("건물대장 떼기", "kb-0032", "abbreviation"),
    ("옥상 불법 증축 신고", "kb-0033", "paraphrase"),
    ("독감 무료 접종 나이", "kb-0034", "paraphrase"),
    ("flu 백신", "kb-0034", "english_mixed"),
    ("코로나 걸렸을때 격리", "kb-0035", "colloquial"),
    ("보건증 발급", "kb-0036", "paraphrase"),
    ("보건소 건강 검진", "kb-0036", "spacing"),
    ("강아지 등록 꼭 해야돼요", "kb-0037", "colloquial"),
    ("이번주 축제", "kb-0038", "colloquial"),
    ("외국인 관광 통역 전화", "kb-0039", "paraphrase"),
    ("tourist 안내 1330", "kb-0039", "english_mixed"),
    ("문화 누리 카드", "kb-0040", "spacing"),
    ("문누리카드 재충전", "kb-0040", "abbreviation"),
]

DISTRICTS = [
    "종로구",
    "중구",
    "용산구",
    "성동구",
    "광진구",
    "동대문구",
    "중랑구",
    "성북구",
    "강북구",
    "도봉구",
    "노원구",
    "은평구",
    "서대문구",
    "마포구",
    "양천구",
    "강서구",
    "구로구",
    "금천구",
    "영등포구",
    "동작구",
    "관악구",
    "서초구",
    "강남구",
    "송파구",
    "강동구",
]


# --- the parent process ---------------------------------------------------------------------


def environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "callcenter.settings",
        "DEBUG": "1",
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def run_worker(kind: str, database_url: str, args) -> dict:
    env = environment(database_url)
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "-v0", "--noinput"], cwd=BASE_DIR, env=env, check=True
    )
    command = [PYTHON, __file__, "--worker", kind, "--eval", args.eval]
    command += ["--heldout", getattr(args, "heldout", "none")]
    command += ["--articles", str(args.articles)]
    process = subprocess.run(
        command, cwd=BASE_DIR, env=env, check=True, stdout=subprocess.PIPE, text=True
    )
    for line in process.stdout.splitlines():
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT) :])
        print(line)
    raise SystemExit(f"worker {kind} printed no result")


def _only(args, **changes):
    return argparse.Namespace(**{**vars(args), **changes})


def _heldout(args):
    """The held-out half's questions, asked of the demo articles plus the held-out ones."""
    return _only(args, eval=f"heldout:{args.heldout}")


def sqlite_fresh(path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


def psql(*args: str) -> None:
    env = {**os.environ, "PGOPTIONS": "-c client_min_messages=warning"}
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", *args], check=True, env=env)


def print_quality(result: dict) -> None:
    methods = result["methods"]
    print()
    print(
        f"Quality: {result['questions']} questions of {result['source']} against "
        f"{result['articles']} published articles (anonymous caller, SQLite)"
    )
    header = f"{'kind':<14}{'n':>4}  " + "  ".join(f"{m:^22}" for m in methods)
    print(header)
    print(f"{'':<14}{'':>4}  " + "  ".join(f"{'R@1':>6}{'R@5':>7}{'MRR':>7}  " for _ in methods))
    for kind, n in result["kinds"]:
        cells = []
        for method in methods:
            m = result["metrics"][method][kind]
            cells.append(f"{m['r1']:>6.3f}{m['r5']:>7.3f}{m['mrr']:>7.3f}  ")
        print(f"{kind:<14}{n:>4}  " + "  ".join(cells))
    print(
        "mean ms/query  "
        + "  ".join(f"{result['ms'][m]:>10.2f}{'':12}" for m in methods)
        + f"  (in process, {result['articles']} articles)"
    )


def print_latency(results: list[dict]) -> None:
    print()
    first = results[0]
    print(
        f"Latency: GET /api/knowledge/search through django.test.Client, {first['articles']:,} "
        f"articles ({first['visible']:,} published), {first['queries']} questions per caller"
    )
    print(
        f"{'database':<11}{'caller':<11}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'max ms':>8}"
        f"{'mean ms':>9}{'took p95':>10}{'hits':>7}{'R@5':>7}"
    )
    for result in results:
        for caller, row in result["callers"].items():
            print(
                f"{result['database']:<11}{caller:<11}{row['p50']:>8.1f}{row['p95']:>8.1f}"
                f"{row['p99']:>8.1f}{row['max']:>8.1f}{row['mean']:>9.1f}"
                f"{row['took_p95']:>10.1f}{row['with_results']:>7.0%}{row['recall5']:>7.3f}"
            )
    print()
    print(
        f"{'database':<11}{'rebuild s':>10}{'Kiwi load s':>13}{'1st query s':>13}"
        f"{'1st query after an edit ms':>28}{'index MB':>10}"
    )
    for result in results:
        print(
            f"{result['database']:<11}{result['rebuild_s']:>10.1f}{result['kiwi_s']:>13.2f}"
            f"{result['cold_s']:>13.2f}{result['reload_ms']:>28.0f}{result['index_mb']:>10.1f}"
        )
    print(
        "p50…mean: wall time per request; took p95: the API's own took_ms; hits: questions with"
        " at least one result;\nR@5: an article generated from the expected demo article among"
        " the 5 results; rebuild: search_index_rebuild of every article;\n1st query: the first"
        " search of a process (loads the index from the database); after an edit: one article"
        " changed,\nthe next search reloads the index (only the changed document is decoded)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", choices=["quality", "latency"])
    parser.add_argument("--eval", default=str(EVAL), help="JSONL questions, or 'dev'")
    parser.add_argument(
        "--heldout",
        choices=["test", "dev", "none"],
        default="test",
        help="also measure the held-out set's half (new articles beside the demo's)",
    )
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--quality-only", action="store_true")
    parser.add_argument("--latency-only", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    if args.worker:
        sys.path.insert(0, str(BASE_DIR))
        import django

        django.setup()
        result = quality_worker(args) if args.worker == "quality" else latency_worker(args)
        print(RESULT + json.dumps(result, ensure_ascii=False))
        return

    started = time.perf_counter()
    quality = latency = None
    heldout = None
    if not args.latency_only:
        quality = run_worker("quality", sqlite_fresh(SQLITE_QUALITY), _only(args, heldout="none"))
        if args.heldout != "none":
            heldout = run_worker("quality", sqlite_fresh(SQLITE_QUALITY), _heldout(args))
    if not args.quality_only:
        latency = [run_worker("latency", sqlite_fresh(SQLITE_LATENCY), args)]
        latency[0]["database"] = "SQLite"
        if not args.skip_postgres:
            psql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", PG_DB], check=True)
            try:
                latency.append(run_worker("latency", PG_URL, args))
                latency[-1]["database"] = "PostgreSQL"
            finally:
                psql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    if quality:
        print_quality(quality)
    if heldout:
        print_quality(heldout)
    if latency:
        print_latency(latency)
    print(f"\nbench/search.py took {time.perf_counter() - started:.0f} s")


# --- shared by the workers ------------------------------------------------------------------


def load_questions(source: str) -> list[dict]:
    if source.startswith("heldout:"):
        half = source.split(":", 1)[1]
        return [q for q in _jsonl(HELDOUT_QUESTIONS) if q["split"] == half]
    if source == "dev":
        return [{"question": q, "external_id": e, "kind": k} for q, e, k in DEV_QUESTIONS]
    with open(source, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def demo_rows(source: str = "") -> list[dict]:
    """The demo articles, plus the held-out articles when the questions are held-out ones."""
    rows = _jsonl(DEMO)
    if source.startswith("heldout:"):
        rows += _jsonl(HELDOUT_ARTICLES)
    return rows


def department_for(name: str):
    from tickets.models import Department

    code = "d-" + hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:8]
    department, _ = Department.objects.get_or_create(name=name, defaults={"code": code})
    return department


# --- quality --------------------------------------------------------------------------------


def baseline_like(query: str) -> list[int]:
    from django.db.models import Case, IntegerField, Q, Sum, Value, When

    from knowledge.models import Article

    words = [w for w in re.split(r"\s+", query.strip()) if w][:8]
    if not words:
        return []
    matches = [
        Case(
            When(
                Q(title__icontains=w) | Q(question__icontains=w) | Q(answer__icontains=w),
                then=Value(1),
            ),
            default=Value(0),
            output_field=IntegerField(),
        )
        for w in words
    ]
    hits = Sum(functools.reduce(operator.add, matches))
    return list(
        Article.objects.filter(status=Article.Status.PUBLISHED)
        .annotate(hits=hits)
        .filter(hits__gt=0)
        .order_by("-hits", "pk")
        .values_list("pk", flat=True)[:TOP]
    )


def baseline_previous(query: str, articles: list) -> list[int]:
    """article_search as it was before knowledge.search (substring match, weighted)."""
    terms = [term for term in re.split(r"\s+", query.strip()) if term][:8]
    scored = []
    for article in articles:
        score = 0.0
        fields = (
            (article.title, 3.0),
            (article.question, 2.0),
            (" ".join(article.tags + article.synonyms), 2.0),
            (article.answer, 1.0),
        )
        for term in terms:
            for value, weight in fields:
                if term.lower() in value.lower():
                    score += weight
        if score > 0:
            scored.append((article, score))
    scored.sort(key=lambda pair: (-pair[1], pair[0].title))
    return [a.pk for a, _ in scored[:TOP]]


# --- plain BM25 baselines (the aim: the engine must beat them clearly on held-out questions) --
_KIWI = None
# Kiwi's tags kept as terms: nouns, verb and adjective stems, roots, foreign words, numbers.
CONTENT_TAGS = ("NN", "NR", "NP", "VV", "VA", "XR", "SL", "SN", "SH", "MAG")


def kiwi_terms(text: str) -> list[str]:
    """Kiwi's content morphemes (a plain analysis: no dictionary, no synonyms)."""
    global _KIWI
    if _KIWI is None:
        from kiwipiepy import Kiwi

        _KIWI = Kiwi()
    return [
        token.form.lower() for token in _KIWI.tokenize(text) if token.tag.startswith(CONTENT_TAGS)
    ]


def kiwi_bigram_terms(text: str) -> list[str]:
    """Kiwi's content morphemes plus the character bigrams of each word (spacing, typos)."""
    bigrams = []
    for word in re.findall(r"\w+", text.lower()):
        bigrams += [f"#{word[i : i + 2]}" for i in range(len(word) - 1)] or [f"#{word}"]
    return kiwi_terms(text) + bigrams


def article_text(article) -> str:
    return " ".join([article.title, article.question, article.answer, " ".join(article.tags or [])])


class BM25:
    """Okapi BM25 (k1 1.5, b 0.75) over ``analyse``'s terms, the whole text as one field."""

    def __init__(self, documents: list[tuple[int, str]], analyse, k1=1.5, b=0.75) -> None:
        from math import log

        self.analyse, self.k1, self.b = analyse, k1, b
        self.docs = [(pk, Counter(analyse(text))) for pk, text in documents]
        self.lengths = {pk: sum(terms.values()) for pk, terms in self.docs}
        self.average = sum(self.lengths.values()) / max(1, len(self.docs))
        df = Counter(term for _, terms in self.docs for term in terms)
        n = len(self.docs)
        self.idf = {t: log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def search(self, query: str) -> list[int]:
        terms = set(self.analyse(query))
        scores = []
        for pk, tf in self.docs:
            norm = self.k1 * (1 - self.b + self.b * self.lengths[pk] / self.average)
            score = sum(
                self.idf[t] * tf[t] * (self.k1 + 1) / (tf[t] + norm) for t in terms if t in tf
            )
            if score > 0:
                scores.append((-score, pk))
        return [pk for _, pk in sorted(scores)[:TOP]]


def metrics(ranks: list[int | None]) -> dict:
    n = len(ranks) or 1
    return {
        "r1": sum(1 for r in ranks if r == 1) / n,
        "r5": sum(1 for r in ranks if r is not None and r <= 5) / n,
        "mrr": sum(1 / r for r in ranks if r is not None) / n,
    }


def quality_worker(args) -> dict:
    from knowledge.models import Article
    from knowledge.search import search, search_document_update
    from knowledge.services import article_save
    from tickets.services import category_get_or_create_path

    rows = demo_rows(args.eval)
    for row in rows:
        article = article_save(
            external_id=row["external_id"],
            title=row["title"],
            question=row["question"],
            answer=row["answer"],
            category=category_get_or_create_path(path=row["category"]),
            department=department_for(row["department"]),
            tags=row.get("tags", []),
            synonyms=row.get("synonyms", []),
            status=row.get("status", Article.Status.PUBLISHED),
            author=None,
            note="bench",
        )
        search_document_update(article)  # harmless if article_save already does it
    published = list(Article.objects.filter(status=Article.Status.PUBLISHED).order_by("pk"))
    by_pk = {a.pk: a.external_id for a in published}
    questions = load_questions(args.eval)
    search(query="워밍업", limit=1)  # Kiwi and the index load outside the timings

    kiwi_bm25 = BM25([(a.pk, article_text(a)) for a in published], kiwi_terms)
    kiwi_bigram_bm25 = BM25([(a.pk, article_text(a)) for a in published], kiwi_bigram_terms)
    methods = {
        "LIKE any word": lambda q: baseline_like(q),
        "previous search": lambda q: baseline_previous(q, published),
        "Kiwi BM25": kiwi_bm25.search,
        "Kiwi+bigram BM25": kiwi_bigram_bm25.search,
        "knowledge.search": lambda q: [a.pk for a, _, _ in search(query=q, limit=TOP)],
    }
    ranks: dict[str, dict[str, list]] = {m: defaultdict(list) for m in methods}
    elapsed = dict.fromkeys(methods, 0.0)
    for item in questions:
        for name, method in methods.items():
            started = time.perf_counter()
            found = [by_pk.get(pk) for pk in method(item["question"])]
            elapsed[name] += time.perf_counter() - started
            rank = found.index(item["external_id"]) + 1 if item["external_id"] in found else None
            ranks[name]["all"].append(rank)
            ranks[name][item["kind"]].append(rank)
    kinds = sorted({q["kind"] for q in questions})
    counts = [("all", len(questions))] + [
        (k, sum(1 for q in questions if q["kind"] == k)) for k in kinds
    ]
    source = "the built-in dev set" if args.eval == "dev" else Path(args.eval).name
    if args.eval.startswith("heldout:"):
        source = f"the held-out set's {args.eval.split(':', 1)[1]} half"
    return {
        "source": source,
        "questions": len(questions),
        "articles": len(published),
        "methods": list(methods),
        "kinds": counts,
        "metrics": {m: {kind: metrics(ranks[m][kind]) for kind, _ in counts} for m in methods},
        "ms": {m: elapsed[m] * 1000 / max(1, len(questions)) for m in methods},
    }


# --- latency --------------------------------------------------------------------------------


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [p.strip() for p in parts if p.strip()]


def generate_articles(count: int, rng: random.Random) -> list[dict]:
    """``count`` realistic articles: district variants of the demo articles."""
    rows = demo_rows()
    by_top = defaultdict(list)
    for row in rows:
        by_top[row["category"].split("/")[0]].append(row)
    titles = [
        "{title}",
        "[{district}] {title}",
        "{title} ({district})",
        "{district} {title} 안내",
        "{title} - 자주 묻는 질문",
        "{title} {year}년 변경 사항",
        "{district} 주민을 위한 {title}",
    ]
    questions = [
        "{question}",
        "{district}에 사는데요, {question}",
        "{question} {district}도 똑같나요?",
        "저희 어머니 대신 여쭤봐요. {question}",
    ]
    statuses = ["published"] * 85 + ["draft"] * 7 + ["in_review"] * 3 + ["archived"] * 5
    out = []
    for i in range(count):
        base = rows[i % len(rows)]
        donor = rng.choice(by_top[base["category"].split("/")[0]])
        district, year = rng.choice(DISTRICTS), rng.choice([2024, 2025, 2026])
        values = {"title": base["title"], "question": base["question"]}
        values.update(district=district, year=year)
        own = _sentences(base["answer"])
        kept = [s for s in own if rng.random() > 0.2] or own[:1]
        donor_sentences = _sentences(donor["answer"])
        borrowed = rng.sample(donor_sentences, k=min(2, len(donor_sentences)))
        answer = kept[:1] + rng.sample(kept[1:], k=len(kept[1:])) + borrowed
        answer.append(
            f"{district} 주민은 {district}청 {base['department']}"
            f"(☎ 02-{rng.randint(2000, 3999)}-{rng.randint(1000, 9999)})로 문의하시면 됩니다."
        )
        out.append(
            {
                "external_id": f"gen-{i:05d}",
                "base": base["external_id"],
                "title": rng.choice(titles).format(**values)[:200],
                "question": rng.choice(questions).format(**values),
                "answer": "\n".join(answer),
                "category": base["category"],
                "department": base["department"],
                "tags": rng.sample(base["tags"], k=max(1, len(base["tags"]) - 1)) + [district],
                "synonyms": rng.sample(base["synonyms"], k=max(1, len(base["synonyms"]) - 1)),
                "status": rng.choice(statuses),
            }
        )
    return out


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def latency_worker(args) -> dict:
    from django.contrib.auth.models import Group
    from django.db import connection, reset_queries
    from django.test import Client

    from callcenter.models import User
    from knowledge import search as engine
    from knowledge.models import Article
    from knowledge.search import analysis
    from knowledge.search import index as search_index
    from tickets.services import category_get_or_create_path

    rng = random.Random(120)
    generated = generate_articles(args.articles, rng)
    categories = {
        path: category_get_or_create_path(path=path) for path in {g["category"] for g in generated}
    }
    departments = {name: department_for(name) for name in {g["department"] for g in generated}}
    Article.objects.bulk_create(
        [
            Article(
                external_id=g["external_id"],
                title=g["title"],
                question=g["question"],
                answer=g["answer"],
                category=categories[g["category"]],
                department=departments[g["department"]],
                tags=g["tags"],
                synonyms=g["synonyms"],
                status=g["status"],
            )
            for g in generated
        ],
        batch_size=500,
    )
    started = time.perf_counter()
    engine.search_index_rebuild(batch_size=200)
    rebuild_s = time.perf_counter() - started

    items = load_questions(args.eval)
    anonymous = Client(SERVER_NAME="127.0.0.1")
    agent = Client(SERVER_NAME="127.0.0.1")
    user = User.objects.create_user("kbbench-agent")
    user.groups.add(Group.objects.get(name="agent"))
    agent.force_login(user)

    # A fresh process: no Kiwi, no index. Time both loads, then the first query alone.
    engine.search_index_reset()
    analysis._kiwi = None  # the package split moved the analyser into knowledge.search.analysis
    started = time.perf_counter()
    engine.kiwi()
    kiwi_s = time.perf_counter() - started
    started = time.perf_counter()
    assert anonymous.get("/api/knowledge/search", {"q": "등본 떼려면"}).status_code == 200
    cold_s = time.perf_counter() - started

    # A generated article answers the question of its demo article (gen-i ← demo i % 40).
    base_of = {g["external_id"]: g["base"] for g in generated}
    callers = {}
    for name, client in (("anonymous", anonymous), ("agent", agent)):
        wall, took, hits, right = [], [], 0, 0
        for item in items:
            reset_queries()
            t0 = time.perf_counter()
            response = client.get("/api/knowledge/search", {"q": item["question"][:200]})
            wall.append((time.perf_counter() - t0) * 1000)
            body = response.json()
            took.append(body["took_ms"])
            hits += bool(body["results"])
            found = {base_of.get(r["external_id"]) for r in body["results"]}
            right += item["external_id"] in found
        callers[name] = {
            "p50": percentile(wall, 50),
            "p95": percentile(wall, 95),
            "p99": percentile(wall, 99),
            "max": max(wall),
            "mean": statistics.fmean(wall),
            "took_p95": percentile(took, 95),
            "with_results": hits / len(items),
            "recall5": right / len(items),
        }

    # One edit, then the first search afterwards: the incremental reload.
    article = Article.objects.filter(status="published").order_by("pk").first()
    article.answer += "\n블루베리 농장 체험 안내도 함께 확인하세요."
    article.save()
    engine.search_document_update(article)
    started = time.perf_counter()
    found = anonymous.get("/api/knowledge/search", {"q": "블루베리 농장"}).json()["results"]
    reload_ms = (time.perf_counter() - started) * 1000
    assert found and found[0]["id"] == article.pk, found

    index = search_index._engine.index()
    index_mb = (
        sum(a.nbytes for a in (index.docs, index.weights, index.offsets, index.document_frequency))
        / 1e6
    )
    return {
        "database": connection.vendor,
        "articles": Article.objects.count(),
        "visible": Article.objects.filter(status="published").count(),
        "queries": len(items),
        "callers": callers,
        "rebuild_s": rebuild_s,
        "cold_s": cold_s,
        "kiwi_s": kiwi_s,
        "reload_ms": reload_ms,
        "index_mb": index_mb,
    }


if __name__ == "__main__":
    main()
