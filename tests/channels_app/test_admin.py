"""The outbox in the admin reads in the administrator's language."""

import pytest
from django.conf import settings
from django.urls import reverse

from channels_app.models import OutboundMessage

pytestmark = pytest.mark.django_db


def test_the_outbox_list_has_korean_headers_and_statuses(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "x" * 16)
    OutboundMessage.objects.create(
        channel="sms", to="+821012345678", body="답변드립니다.", backend="outbox"
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    client.force_login(root)
    page = client.get(reverse("admin:channels_app_outboundmessage_changelist")).text
    for header in ("생성 시각", "채널", "받는 사람", "상태", "발송 방식", "내용"):
        assert f">{header}<" in page, header
    assert "발송 대기" in page
    for english in (">Created at<", ">Backend<", ">Status<", ">Queued<"):
        assert english not in page
