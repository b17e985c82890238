import pytest

from knowledge.models import Article
from knowledge.services import article_save
from tickets.services import category_get_or_create_path

pytestmark = pytest.mark.django_db


def test_every_save_of_an_article_leaves_a_version(supervisor_user):
    category = category_get_or_create_path(path="일반행정/민원서류")
    article = article_save(
        title="주민등록등본 발급",
        question="등본 떼려면 어디로 가요?",
        answer="정부24 또는 가까운 주민센터에서 발급받을 수 있습니다.",
        category=category,
        author=supervisor_user,
    )
    article_save(
        article=article,
        title=article.title,
        question=article.question,
        answer="정부24(무료) 또는 주민센터 무인민원발급기에서 발급받을 수 있습니다.",
        category=category,
        status=Article.Status.PUBLISHED,
        author=supervisor_user,
    )
    versions = list(article.versions.order_by("number").values_list("number", "status", "answer"))
    assert [v[:2] for v in versions] == [(1, "draft"), (2, "published")]
    assert "무인민원발급기" in versions[1][2]
    article.refresh_from_db()
    assert article.published_at is not None


def test_category_paths_make_a_tree_once():
    leaf = category_get_or_create_path(path="세무/자동차세")
    again = category_get_or_create_path(path=" 세무 / 자동차세 ")
    assert leaf.pk == again.pk
    assert leaf.path == "세무/자동차세"
    assert leaf.parent.name == "세무"
    assert leaf.code.isascii() and leaf.code.startswith(leaf.parent.code)
