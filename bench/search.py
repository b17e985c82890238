"""Knowledge-base search benchmark: held-out quality beside baselines, latency and memory at
10k and 100k articles, and how learned evidence (agents' choices) moves a paraphrase's rank.

    .venv/bin/python bench/search.py                   # everything (~18 minutes on 2 cores)
    .venv/bin/python bench/search.py --quality-only    # the quality tables only (~1 minute)
    .venv/bin/python bench/search.py --quality-only --heldout dev   # tune on the dev half
    .venv/bin/python bench/search.py --latency-only --articles 10000 --skip-postgres
    .venv/bin/python bench/search.py --learning        # the learned-evidence figures only
    .venv/bin/python bench/search.py --eval dev        # the small built-in question set

Quality (SQLite: /tmp/kbbench.sqlite3 and /tmp/kbbench-heldout.sqlite3, side by side; anonymous)
    Loads knowledge/demo/articles.jsonl through knowledge.services.article_save, asks every
    question of bench/data/kb_eval.jsonl (the old set the engine was tuned on: a regression
    set), then does the same with the held-out set (--heldout test, the default; dev for
    tuning; none to skip): the articles of bench/data/kb_heldout_articles.jsonl loaded beside
    the demo's and the questions of bench/data/kb_heldout_questions.jsonl whose "split" is
    that half. The split was made once, before any tuning; report the test half only.
    Prints recall@1, recall@5 and MRR (over the first 10 results) and mean ms per query of
    each row, then recall@1/recall@5 per kind of question, then the ablation. Rows:

    - LIKE any word: SQL icontains of each whitespace-separated query word in title,
      question or answer; ranked by how many words match (ties: lower id);
    - previous search: the substring search article_search used before knowledge.search;
    - Kiwi BM25: bm25s.BM25 (Lucene BM25, k1 1.5, b 0.75) over Kiwi's content morphemes of
      title, question, answer and tags as one bag (no dictionary, no synonyms);
    - Kiwi+bigram BM25: the same plus each word's character bigrams;
    - bm25s core: the engine's own analysed terms (knowledge.search.analyse_articles: per
      field morphemes, noun compounds and "title~2"-style character bigrams) flattened into
      one bag per article, field weights applied by repetition (morphemes 2 × and bigrams
      1 × the field's weight: title 3, question 2, tags and synonyms 2, answer 1), ranked by
      bm25s over the engine's query terms (knowledge.search.query_terms) plus the query's
      bigrams at half weight (two bm25s score vectors added): "could bm25s replace our BM25F
      core?" (no synonyms, typos, expansions or matching rule: the core alone);
    - today's engine: knowledge.search with every switch of
      knowledge.search.analysis.FEATURES off (the engine as it was at commit 78110c0);
    - new engine: every switch on (similar words, English glossary, learned
      evidence; no choices are recorded here, so "learned" changes nothing in this part);
    - new − X (ablation): the new engine with the one switch X off.

Latency and memory (--articles 10000,100000, the default; SQLite and PostgreSQL)
    Generates that many Korean articles by recombining the demo articles (district variants
    of titles and questions, shuffled answer sentences with sentences of related articles, a
    local contact line; 85 % published, 7 % drafts, 3 % in review, 5 % archived), inserts
    them in bulk, builds the index with search_index_rebuild (progress on stderr), then asks
    every question of kb_eval.jsonl: knowledge.search.search_hits in process (the engine
    alone) and GET /api/knowledge/search through django.test.Client as an anonymous caller
    and as an agent (the whole Django request: view, search, snippet, SearchQueryLog
    insert, JSON). Prints p50/p95/p99 in ms against the issue's budget (p95 ≤ 50 ms at 10k,
    ≤ 150 ms at 100k), the insert and index build times, and the memory of a fresh serving
    process (VmRSS after django.setup, after Kiwi loaded, after the index loaded; VmHWM),
    measured in a child process of its own. SQLite at /tmp/kbbench-latency.sqlite3,
    PostgreSQL in open120_kbbench on 127.0.0.1 (created and dropped here). Above 10k
    articles PostgreSQL's run bulk-writes the SQLite run's SearchDocument terms
    (/tmp/kbbench-terms-N.jsonl) instead of analysing every article with Kiwi again (the
    analysis is the same on both; --postgres-rebuild analyses again).

Learned evidence (--learning, also in the full run; a fresh SQLite database)
    The held-out test half (--heldout dev to tune) against demo + held-out articles.
    Targets: the paraphrase, symptom and english questions whose article the new engine
    does not rank first with no choices recorded. For k = 0, 1, 2, 3, 5 distinct agents,
    each records one choice of the right article for each target question through
    knowledge.services.article_choice_record(source="search"); after each k prints recall@1,
    recall@5 and mean rank (over the first 50 results; a miss counts as 51) of (a) the
    targets asked again, (b) the other test questions of the targets' articles (a new
    phrasing), (c) every other test question (must not get worse). Then the abuse case:
    one user records 200 choices of one wrong article for 20 questions (10 each); prints how
    many of those questions' first results changed (should be 0).

Each database runs in its own child process (Django settings are per process).
"""

import argparse
import contextlib
import functools
import hashlib
import importlib
import json
import logging
import operator
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
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
SQLITE_HELDOUT = Path(tempfile.gettempdir()) / "kbbench-heldout.sqlite3"
SQLITE_LATENCY = Path(tempfile.gettempdir()) / "kbbench-latency.sqlite3"
SQLITE_LEARNING = Path(tempfile.gettempdir()) / "kbbench-learning.sqlite3"
PG_DB = "open120_kbbench"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
RESULT = "RESULT "
TOP = 10
DEEP = 50  # the learned-evidence figures rank over this many results
BUDGET_P95_MS = {10_000: 50.0, 100_000: 150.0}  # the latency budget
SWITCHES = ("similar", "glossary", "learned")
LEARNING_KINDS = ("paraphrase", "symptom", "english")
AGENT_COUNTS = (0, 1, 2, 3, 5)

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


def run_worker(kind: str, database_url: str, args, *, migrate: bool = True) -> dict:
    env = environment(database_url)
    if migrate:
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "-v0", "--noinput"],
            cwd=BASE_DIR,
            env=env,
            check=True,
        )
    command = [PYTHON, __file__, "--worker", kind, "--eval", args.eval]
    command += ["--heldout", getattr(args, "heldout", "none")]
    command += ["--articles", str(args.articles)]
    if getattr(args, "terms_from", False):
        command += ["--terms-from"]
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


def sqlite_fresh(path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


def psql(*args: str) -> None:
    env = {**os.environ, "PGOPTIONS": "-c client_min_messages=warning"}
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", *args], check=True, env=env)


@contextlib.contextmanager
def postgres_fresh():
    psql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", PG_DB], check=True)
    try:
        yield PG_URL
    finally:
        psql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


def _cells(m: dict) -> str:
    return f"{m['r1']:>7.3f}{m['r5']:>7.3f}{m['mrr']:>7.3f}"


def print_quality(result: dict) -> None:
    methods, metrics_ = result["methods"], result["metrics"]
    print()
    print(
        f"Quality: {result['questions']} questions of {result['source']} against "
        f"{result['articles']} published articles (anonymous caller, SQLite)"
    )
    print(f"{'':<22}{'R@1':>7}{'R@5':>7}{'MRR':>7}{'ms/query':>10}")
    for method in methods:
        if method in result["ablation"]:
            continue
        row = metrics_[method]["all"]
        print(f"{method:<22}{_cells(row)}{result['ms'][method]:>10.2f}")
    if result["ablation"]:
        print("ablation (the new engine with one switch off):")
        for method in result["ablation"]:
            row = metrics_[method]["all"]
            print(f"{method:<22}{_cells(row)}{result['ms'][method]:>10.2f}")
    if not result["features"]:
        print(
            "(knowledge.search.analysis.FEATURES is missing: today's and new engine are the same)"
        )

    shown = [m for m in methods if m not in result["ablation"]]
    short = {m: result["short"][m] for m in methods}

    def per_kind(title: str, columns: list[str]) -> None:
        print()
        print(title)
        print(f"{'kind':<13}{'n':>4} " + "".join(f"{short[m]:>12}" for m in columns))
        for kind, n in result["kinds"]:
            cells = "".join(
                f"{metrics_[m][kind]['r1']:>6.2f}/{metrics_[m][kind]['r5']:<5.2f}" for m in columns
            )
            print(f"{kind:<13}{n:>4} {cells}")

    per_kind("recall@1 / recall@5 per kind", shown)
    if result["ablation"]:
        per_kind("ablation per kind, recall@1 / recall@5", ["new engine", *result["ablation"]])


def print_latency(results: list[dict]) -> None:
    print()
    print(
        "Latency in ms: knowledge.search.search_hits in process (engine) and GET"
        " /api/knowledge/search through django.test.Client (anonymous, agent)"
    )
    print(
        f"{'database':<11}{'articles':>9}  {'caller':<10}{'p50':>7}{'p95':>7}{'p99':>7}"
        f"{'max':>7}{'hits':>6}{'R@5':>7}  budget p95"
    )
    for result in results:
        budget = BUDGET_P95_MS.get(result["articles"])
        for caller, row in result["callers"].items():
            verdict = ""
            if budget:
                verdict = f"≤ {budget:.0f}: {'yes' if row['p95'] <= budget else 'NO'}"
            print(
                f"{result['database']:<11}{result['articles']:>9,}  {caller:<10}"
                f"{row['p50']:>7.1f}{row['p95']:>7.1f}{row['p99']:>7.1f}{row['max']:>7.1f}"
                f"{row['with_results']:>6.0%}{row['recall5']:>7.3f}  {verdict}"
            )
    print()
    print(
        f"{'database':<11}{'articles':>9}{'insert s':>10}{'index s':>9}{'1st q s':>9}"
        f"{'edit ms':>9}{'index MB':>10}   RSS MB: {'setup':>6}{'+Kiwi':>7}{'+index':>8}"
        f"{'peak':>7}"
    )
    for result in results:
        memory = result["memory"]
        rebuilt = f"{result['rebuild_s']:>8.1f}" + ("*" if result.get("copied") else " ")
        print(
            f"{result['database']:<11}{result['articles']:>9,}{result['insert_s']:>10.1f}"
            f"{rebuilt}{result['cold_s']:>9.2f}{result['reload_ms']:>9.0f}"
            f"{result['index_mb']:>10.1f}           {memory['setup']:>6.0f}{memory['kiwi']:>7.0f}"
            f"{memory['index']:>8.0f}{memory['peak']:>7.0f}"
        )
    print(
        "hits: questions with at least one result; R@5: an article generated from the expected"
        " demo article\namong the first 5 (engine, anonymous); insert: bulk insert of the"
        " generated articles; index: search_index_rebuild;\n1st q: the first search of a fresh"
        " process (loads the index); edit: the first search after one article changed;\n"
        "index MB: the numpy arrays of the in-process index; RSS: a fresh process's VmRSS after"
        " django.setup,\nafter Kiwi loaded, after its first search loaded the index; peak: its"
        " VmHWM.\n* the SQLite run's SearchDocument terms bulk-written (the same rows"
        " search_index_rebuild writes),\nnot analysed again: Kiwi's analysis is the same on both"
        " databases (--postgres-rebuild analyses again)."
    )


def _learning_cells(m: dict) -> str:
    return f"{m['n']:>4}{m['r1']:>7.3f}{m['r5']:>7.3f}{m['mean_rank']:>7.1f}"


def print_learning(result: dict) -> None:
    print()
    if "missing" in result:
        print(f"Learned evidence: skipped ({result['missing']})")
        return
    print(
        f"Learned evidence: {result['targets']} {'/'.join(LEARNING_KINDS)} questions of the"
        f" held-out {result.get('half', 'test')} half that the new engine does not rank first"
        f" (of {result['asked']}"
        " such questions);\nk agents each record a choice of the right article for each of"
        " them (source 'search')"
    )
    groups = (
        ("targets", "(a) asked again"),
        ("siblings", "(b) same articles, other phrasing"),
        ("others", "(c) all other test questions"),
    )
    print(f"{'k':>3}  " + "".join(f"{title:^30}" for _, title in groups))
    print(f"{'':>3}  " + "".join(f"{'n':>4}{'R@1':>7}{'R@5':>7}{'rank':>7}    " for _ in groups))
    for row in result["rows"]:
        print(f"{row['k']:>3}  " + "".join(_learning_cells(row[g]) + "    " for g, _ in groups))
    print(f"(rank: mean rank over the first {DEEP} results, a miss counts as {DEEP + 1})")
    abuse = result["abuse"]
    print(
        f"Abuse: one user recorded {abuse['choices']} choices of one wrong article for"
        f" {abuse['questions']} questions: {abuse['changed']} of those questions' first results"
        f" changed; the wrong article entered the first 5 of {abuse['entered_top5']}"
        f" (it was there before for {abuse['top5_before']}); {abuse['stored']} choices stored,"
        f" {abuse['refused']} refused."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", choices=["quality", "latency", "memory", "learning"])
    parser.add_argument("--eval", default=str(EVAL), help="JSONL questions, or 'dev'")
    parser.add_argument(
        "--heldout",
        choices=["test", "dev", "none"],
        default="test",
        help="also measure the held-out set's half (new articles beside the demo's)",
    )
    parser.add_argument(
        "--articles", default="10000,100000", help="generated articles for latency, comma list"
    )
    parser.add_argument("--quality-only", action="store_true")
    parser.add_argument("--latency-only", action="store_true")
    parser.add_argument("--learning", action="store_true", help="the learned-evidence part only")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--postgres-rebuild",
        action="store_true",
        help="rebuild PostgreSQL's index above 10k articles too (else the SQLite run's is copied)",
    )
    parser.add_argument("--terms-from", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        sys.path.insert(0, str(BASE_DIR))
        import django

        django.setup()
        workers = {
            "quality": quality_worker,
            "latency": latency_worker,
            "memory": memory_worker,
            "learning": learning_worker,
        }
        result = workers[args.worker](args)
        print(RESULT + json.dumps(result, ensure_ascii=False))
        return

    started = time.perf_counter()
    only = args.quality_only or args.latency_only or args.learning
    quality = heldout = latency = learning = None
    if args.quality_only or not only:
        # The regression set and the held-out half at once, each in its own database.
        with ThreadPoolExecutor(max_workers=2) as pool:
            regression = pool.submit(
                run_worker, "quality", sqlite_fresh(SQLITE_QUALITY), _only(args, heldout="none")
            )
            if args.heldout != "none":
                heldout = pool.submit(
                    run_worker,
                    "quality",
                    sqlite_fresh(SQLITE_HELDOUT),
                    _only(args, eval=f"heldout:{args.heldout}"),
                )
            quality = regression.result()
            heldout = heldout.result() if heldout else None
    if args.learning or not only:
        learning = run_worker("learning", sqlite_fresh(SQLITE_LEARNING), args)
    if args.latency_only or not only:
        latency = []
        for size in [int(n) for n in str(args.articles).split(",") if n.strip()]:
            sized = _only(args, articles=size)
            print(f"latency: {size:,} articles on SQLite…", file=sys.stderr)
            latency.append(run_worker("latency", sqlite_fresh(SQLITE_LATENCY), sized))
            if not args.skip_postgres:
                print(f"latency: {size:,} articles on PostgreSQL…", file=sys.stderr)
                copy = size > 10_000 and not args.postgres_rebuild
                with postgres_fresh() as url:
                    latency.append(run_worker("latency", url, _only(sized, terms_from=copy)))
    if quality:
        print_quality(quality)
    if heldout:
        print_quality(heldout)
    if learning:
        print_learning(learning)
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


def load_articles(source: str) -> list:
    """Save the articles through article_save (as an import would); the published ones."""
    from knowledge.models import Article
    from knowledge.search import search_document_update
    from knowledge.services import article_save
    from tickets.services import category_get_or_create_path

    for row in demo_rows(source):
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
    return list(Article.objects.filter(status=Article.Status.PUBLISHED).order_by("pk"))


def memory_mb() -> dict[str, float]:
    """This process's resident memory now (VmRSS) and at its peak (VmHWM), in MB."""
    values = {}
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return {"rss": values.get("VmRSS", 0.0), "peak": values.get("VmHWM", 0.0)}


# --- the engine and its switches ------------------------------------------------------------


def engine_ids(query: str, limit: int = TOP, staff: bool = False) -> list[int]:
    """Article ids knowledge.search ranks for ``query`` (search_hits, or search before it)."""
    from knowledge import search as engine

    search_hits = getattr(engine, "search_hits", None)
    if search_hits is not None:
        return [hit.article.pk for hit in search_hits(query=query, limit=limit, staff=staff)]
    return [article.pk for article, _, _ in engine.search(query=query, limit=limit, staff=staff)]


def engine_features() -> dict | None:
    from knowledge.search import analysis

    return getattr(analysis, "FEATURES", None)


@contextlib.contextmanager
def switches(**values: bool):
    """The engine with FEATURES set to ``values`` (unnamed switches unchanged)."""
    features = engine_features()
    if features is None:
        yield
        return
    saved = dict(features)
    features.update({k: v for k, v in values.items() if k in features})
    try:
        yield
    finally:
        features.clear()
        features.update(saved)


def query_terms(text: str) -> list[str]:
    """The engine's analysed terms of a query (knowledge.search.query_terms when present)."""
    from knowledge import search as engine
    from knowledge.search import analysis

    own = getattr(engine, "query_terms", None)
    if own is not None:
        return list(own(text))
    text = analysis.normalise(text)[: analysis.MAX_QUERY_CHARS]
    if not text.strip():
        return []
    return list(dict.fromkeys(m.term for m in analysis._morphemes(analysis._tokenize([text])[0])))


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


# --- BM25 baselines through bm25s (the engine must beat them clearly on held-out questions) --
_KIWI = None
# Kiwi's tags kept as terms: nouns, verb and adjective stems, roots, foreign words, numbers.
CONTENT_TAGS = ("NN", "NR", "NP", "VV", "VA", "XR", "SL", "SN", "SH", "MAG")
# The bm25s core row: a field's morphemes are repeated 2 × its weight, its bigrams 1 ×.
CORE_REPEAT = {"title": 3, "question": 2, "tags": 2, "synonyms": 2, "answer": 1}


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


class Bm25s:
    """bm25s.BM25 (Lucene variant, k1 1.5, b 0.75) over pre-tokenised bags of terms."""

    def __init__(self, documents: list[tuple[int, list[str]]], query_terms) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)

        self.ids = [pk for pk, _ in documents]
        self.query_terms = query_terms
        self.model = bm25s.BM25(k1=1.5, b=0.75)
        self.model.index([terms or ["\x01empty"] for _, terms in documents], show_progress=False)

    def search(self, query: str) -> list[int]:
        terms = self.query_terms(query)  # a list, or term → weight
        weights = terms if isinstance(terms, dict) else dict.fromkeys(terms, 1.0)
        scores = None
        for weight in set(weights.values()):
            known = [t for t, w in weights.items() if w == weight and t in self.model.vocab_dict]
            if known:
                part = weight * self.model.get_scores(known)
                scores = part if scores is None else scores + part
        if scores is None:
            return []
        top = sorted((-float(scores[i]), self.ids[i]) for i in scores.nonzero()[0])
        return [pk for _, pk in top[:TOP]]


def core_bag(terms: dict[str, list[str]]) -> list[str]:
    """The engine's analysed fields of one article as one bag, weighted by repetition."""
    from knowledge.search.analysis import NGRAM_FIELDS, NGRAM_SUFFIX

    bag: list[str] = []
    for field, repeat in CORE_REPEAT.items():
        bag += terms.get(field, []) * (2 * repeat)
        if field in NGRAM_FIELDS:
            bag += ["\x00" + gram for gram in terms.get(field + NGRAM_SUFFIX, [])] * repeat
    return bag


def core_query(text: str) -> dict[str, float]:
    """The engine's query terms, and the query's bigrams at half weight (NGRAM_WEIGHT)."""
    from knowledge.search.analysis import NGRAM_WEIGHT, bigrams

    grams = dict.fromkeys(("\x00" + gram for gram in bigrams(text)), NGRAM_WEIGHT)
    return {**grams, **dict.fromkeys(query_terms(text), 1.0)}


def metrics(ranks: list[int | None]) -> dict:
    n = len(ranks) or 1
    return {
        "r1": sum(1 for r in ranks if r == 1) / n,
        "r5": sum(1 for r in ranks if r is not None and r <= 5) / n,
        "mrr": sum(1 / r for r in ranks if r is not None) / n,
    }


def quality_worker(args) -> dict:
    from knowledge.search import analyse_articles

    published = load_articles(args.eval)
    by_pk = {a.pk: a.external_id for a in published}
    questions = load_questions(args.eval)
    engine_ids("워밍업", limit=1)  # Kiwi and the index load outside the timings

    kiwi_bm25 = Bm25s([(a.pk, kiwi_terms(article_text(a))) for a in published], kiwi_terms)
    kiwi_bigram_bm25 = Bm25s(
        [(a.pk, kiwi_bigram_terms(article_text(a))) for a in published], kiwi_bigram_terms
    )
    analysed = analyse_articles(published)
    core = Bm25s(
        [(a.pk, core_bag(terms)) for a, terms in zip(published, analysed, strict=True)], core_query
    )
    features = engine_features()
    off = dict.fromkeys(SWITCHES, False)
    on = dict.fromkeys(SWITCHES, True)
    short = {
        "LIKE any word": "LIKE",
        "previous search": "previous",
        "Kiwi BM25": "Kiwi BM25",
        "Kiwi+bigram BM25": "Kiwi+bigram",
        "bm25s core": "bm25s core",
        "today's engine": "today's",
        "new engine": "new",
    }
    methods = {
        "LIKE any word": baseline_like,
        "previous search": lambda q: baseline_previous(q, published),
        "Kiwi BM25": kiwi_bm25.search,
        "Kiwi+bigram BM25": kiwi_bigram_bm25.search,
        "bm25s core": core.search,
        "today's engine": (off, engine_ids),
        "new engine": (on, engine_ids),
    }
    ablation = []
    if features is not None:
        for name in SWITCHES:
            label = f"new − {name}"
            methods[label] = ({**on, name: False}, engine_ids)
            short[label] = f"− {name}"
            ablation.append(label)
    ranks: dict[str, dict[str, list]] = {m: defaultdict(list) for m in methods}
    elapsed = dict.fromkeys(methods, 0.0)
    for name, method in methods.items():
        settings, function = method if isinstance(method, tuple) else ({}, method)
        with switches(**settings):
            function("워밍업")  # whatever a switch loads lazily loads outside the timings
            for item in questions:
                started = time.perf_counter()
                found = [by_pk.get(pk) for pk in function(item["question"])]
                elapsed[name] += time.perf_counter() - started
                rank = (
                    found.index(item["external_id"]) + 1 if item["external_id"] in found else None
                )
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
        "short": short,
        "ablation": ablation,
        "features": features is not None,
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


def terms_path(size: int) -> Path:
    """The SQLite run's analysed terms of ``size`` generated articles, for PostgreSQL's run."""
    return Path(tempfile.gettempdir()) / f"kbbench-terms-{size}.jsonl"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def _timings(wall: list[float], hits: int, right: int, n: int) -> dict:
    return {
        "p50": percentile(wall, 50),
        "p95": percentile(wall, 95),
        "p99": percentile(wall, 99),
        "max": max(wall),
        "mean": statistics.fmean(wall),
        "with_results": hits / n,
        "recall5": right / n,
    }


def _progress(label: str, total: int):
    done = [0]
    step = max(1000, total // 10)

    def report(count: int) -> None:
        before, done[0] = done[0], done[0] + count
        if done[0] // step != before // step or done[0] == total:
            print(f"  {label}: {done[0]:,}/{total:,}", file=sys.stderr, flush=True)

    return report


def latency_worker(args) -> dict:
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client

    from callcenter.models import User
    from knowledge import search as engine
    from knowledge.models import Article, SearchDocument
    from knowledge.search import documents
    from knowledge.search import index as search_index
    from tickets.services import category_get_or_create_path

    size = int(args.articles)
    rng = random.Random(120)
    started = time.perf_counter()
    generated = generate_articles(size, rng)
    categories = {
        path: category_get_or_create_path(path=path) for path in {g["category"] for g in generated}
    }
    departments = {name: department_for(name) for name in {g["department"] for g in generated}}
    inserted = _progress(f"insert ({connection.vendor})", size)
    for start in range(0, size, 5000):
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
                for g in generated[start : start + 5000]
            ],
            batch_size=500,
        )
        inserted(len(generated[start : start + 5000]))
    insert_s = time.perf_counter() - started
    indexable = Article.objects.exclude(status=Article.Status.ARCHIVED).count()
    started = time.perf_counter()
    terms_file = terms_path(size)
    if args.terms_from:  # the SQLite run's analysis, written as search_index_rebuild would
        pk_of = dict(Article.objects.values_list("external_id", "pk"))
        copied = _progress(f"documents copied ({connection.vendor})", indexable)
        with open(terms_file, encoding="utf-8") as handle:
            batch = []
            for line in handle:
                external_id, terms = json.loads(line)
                batch.append((pk_of[external_id], terms))
                if len(batch) == 2000:
                    documents._documents_write(batch)
                    copied(len(batch))
                    batch = []
            documents._documents_write(batch)
            copied(len(batch))
    else:
        engine.search_index_rebuild(
            batch_size=500, progress=_progress(f"index ({connection.vendor})", indexable)
        )
        with open(terms_file, "w", encoding="utf-8") as handle:
            for row in SearchDocument.objects.values_list("article__external_id", "terms"):
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    rebuild_s = time.perf_counter() - started

    items = load_questions(args.eval)
    anonymous = Client(SERVER_NAME="127.0.0.1")
    agent = Client(SERVER_NAME="127.0.0.1")
    user = User.objects.create_user("kbbench-agent")
    user.groups.add(Group.objects.get(name="agent"))
    agent.force_login(user)

    # The first query of a process loads the index from the database (Kiwi is loaded).
    engine.kiwi()
    engine.search_index_reset()
    started = time.perf_counter()
    assert anonymous.get("/api/knowledge/search", {"q": "등본 떼려면"}).status_code == 200
    cold_s = time.perf_counter() - started

    # A generated article answers the question of its demo article (gen-i ← demo i % 40).
    base_of = {g["external_id"]: g["base"] for g in generated}
    external = dict(Article.objects.values_list("pk", "external_id"))
    callers = {}
    wall, hits, right = [], 0, 0
    for item in items:
        t0 = time.perf_counter()
        found = engine_ids(item["question"][:200], limit=5)
        wall.append((time.perf_counter() - t0) * 1000)
        hits += bool(found)
        right += item["external_id"] in {base_of.get(external.get(pk)) for pk in found}
    callers["engine"] = _timings(wall, hits, right, len(items))
    for name, client in (("anonymous", anonymous), ("agent", agent)):
        wall, hits, right = [], 0, 0
        for item in items:
            t0 = time.perf_counter()
            response = client.get("/api/knowledge/search", {"q": item["question"][:200]})
            wall.append((time.perf_counter() - t0) * 1000)
            body = response.json()
            hits += bool(body["results"])
            right += item["external_id"] in {base_of.get(r["external_id"]) for r in body["results"]}
        callers[name] = _timings(wall, hits, right, len(items))

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
    index_mb = sum(value.nbytes for value in vars(index).values() if hasattr(value, "nbytes")) / 1e6
    memory = subprocess.run(
        [PYTHON, __file__, "--worker", "memory", "--eval", args.eval],
        cwd=BASE_DIR,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return {
        "database": {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[connection.vendor],
        "articles": Article.objects.count(),
        "visible": Article.objects.filter(status="published").count(),
        "queries": len(items),
        "callers": callers,
        "insert_s": insert_s,
        "rebuild_s": rebuild_s,
        "cold_s": cold_s,
        "reload_ms": reload_ms,
        "index_mb": index_mb,
        "copied": bool(args.terms_from),
        "memory": next(
            json.loads(line[len(RESULT) :])
            for line in memory.splitlines()
            if line.startswith(RESULT)
        ),
    }


def memory_worker(args) -> dict:
    """A fresh serving process: its memory after setup, after Kiwi, after the index."""
    from knowledge import search as engine

    setup = memory_mb()["rss"]
    engine.kiwi()
    kiwi = memory_mb()["rss"]
    for item in load_questions(args.eval)[:50]:  # loads the index and whatever is lazy
        engine_ids(item["question"], limit=5)
    after = memory_mb()
    return {"setup": setup, "kiwi": kiwi, "index": after["rss"], "peak": after["peak"]}


# --- learned evidence -----------------------------------------------------------------------


def _rank(question: dict, external: dict[int, str]) -> int | None:
    found = [external.get(pk) for pk in engine_ids(question["question"], limit=DEEP)]
    return found.index(question["external_id"]) + 1 if question["external_id"] in found else None


def _group_figures(ranks: list[int | None]) -> dict:
    return {
        "n": len(ranks),
        **metrics(ranks),
        "mean_rank": statistics.fmean(r or DEEP + 1 for r in ranks) if ranks else 0.0,
    }


def learning_worker(args) -> dict:
    from django.contrib.auth.models import Group

    from callcenter.models import User
    from knowledge import services
    from knowledge.models import Article

    record = getattr(services, "article_choice_record", None)
    if record is None:
        return {"missing": "knowledge.services.article_choice_record is not there yet"}
    source = f"heldout:{args.heldout if args.heldout != 'none' else 'test'}"  # dev to tune
    published = load_articles(source)
    external = {a.pk: a.external_id for a in published}
    by_external = {a.external_id: a for a in published}
    questions = load_questions(source)
    agents = []
    for number in range(max(AGENT_COUNTS)):
        agent = User.objects.create_user(f"kbbench-agent-{number}")
        agent.groups.add(Group.objects.get(name="agent"))
        agents.append(agent)

    with switches(**dict.fromkeys(SWITCHES, True)):
        first = [_rank(q, external) for q in questions]
        asked = [i for i, q in enumerate(questions) if q["kind"] in LEARNING_KINDS]
        targets = [i for i in asked if first[i] != 1]
        target_articles = {questions[i]["external_id"] for i in targets}
        siblings = [
            i
            for i, q in enumerate(questions)
            if i not in targets and q["external_id"] in target_articles
        ]
        others = [i for i in range(len(questions)) if i not in targets and i not in siblings]
        rows, recorded = [], 0
        for k in AGENT_COUNTS:
            while recorded < k:
                for i in targets:
                    record(
                        article=by_external[questions[i]["external_id"]],
                        query=questions[i]["question"][:200],
                        source="search",
                        user=agents[recorded],
                    )
                recorded += 1
            ranks = [_rank(q, external) for q in questions] if k else first
            rows.append(
                {
                    "k": k,
                    **{
                        name: _group_figures([ranks[i] for i in group])
                        for name, group in (
                            ("targets", targets),
                            ("siblings", siblings),
                            ("others", others),
                        )
                    },
                }
            )

        # Abuse: one user, 200 choices of one wrong article for 20 questions.
        from knowledge.models import ArticleChoice

        ArticleChoice.objects.all().delete()
        learned = importlib.import_module("knowledge.search.learned")
        if hasattr(learned, "learned_changed"):
            learned.learned_changed()  # a bulk delete does not tell the engine by itself
        rng = random.Random(14)
        chosen = rng.sample(range(len(questions)), 20)
        wrong = rng.choice(
            [
                a
                for a in published
                if a.external_id not in {questions[i]["external_id"] for i in chosen}
            ]
        )
        abuser = User.objects.create_user("kbbench-abuser")
        abuser.groups.add(Group.objects.get(name="agent"))
        before = {i: engine_ids(questions[i]["question"], limit=5) for i in chosen}
        refused = 0
        for _ in range(10):
            for i in chosen:
                try:
                    record(
                        article=wrong,
                        query=questions[i]["question"][:200],
                        source="search",
                        user=abuser,
                    )
                except Exception:  # a refusal is the point; count it
                    refused += 1
        after = {i: engine_ids(questions[i]["question"], limit=5) for i in chosen}
    return {
        "half": source.split(":", 1)[1],
        "asked": len(asked),
        "targets": len(targets),
        "rows": rows,
        "abuse": {
            "choices": 200,
            "refused": refused,
            "stored": ArticleChoice.objects.filter(user=abuser).count(),
            "questions": len(chosen),
            "changed": sum(1 for i in chosen if before[i][:1] != after[i][:1]),
            "entered_top5": sum(1 for i in chosen if wrong.pk in after[i]),
            "top5_before": sum(1 for i in chosen if wrong.pk in before[i]),
        },
        "articles": Article.objects.filter(status=Article.Status.PUBLISHED).count(),
    }


if __name__ == "__main__":
    main()
