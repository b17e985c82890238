"""The QA models in the administrator's screens (callcenter.admin imports admin_qa)."""

import pytest
from django.urls import reverse

from callcenter import admin_qa  # noqa: F401 - registers the QA models, as callcenter.admin does
from tests.factories_qa import EvaluationAnswerFactory, EvaluationTaskFactory

pytestmark = pytest.mark.django_db

QA_MODELS = [
    "evaluationform",
    "evaluationsection",
    "evaluation",
    "evaluationtask",
]


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "x" * 16)


@pytest.mark.parametrize("model", QA_MODELS)
def test_every_qa_admin_list_opens_and_searches(client, superuser, model):
    EvaluationAnswerFactory()
    EvaluationTaskFactory()
    client.force_login(superuser)
    url = reverse(f"admin:callcenter_{model}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "김민지"}).status_code == 200


def test_an_evaluation_opens_read_only_with_its_answers(client, superuser):
    answer = EvaluationAnswerFactory(comment="밝은 인사")
    client.force_login(superuser)
    url = reverse("admin:callcenter_evaluation_change", args=[answer.evaluation.pk])
    page = client.get(url).content.decode()
    assert "밝은 인사" in page
    assert 'name="score"' not in page
    assert client.get(reverse("admin:callcenter_evaluation_add")).status_code == 403
