"""Open311 API keys: the services, ``manage.py open311_key`` and the admin."""

import hashlib
from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command

from tests import factories
from tickets.models import Open311Key
from tickets.services import open311_key_create, open311_key_revoke, open311_key_verify

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("open311_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_new_key_is_stored_only_as_its_hash_and_prefix():
    key, raw_key = open311_key_create(name=" 시민앱 ")

    assert key.name == "시민앱"
    assert len(raw_key) >= 40
    assert key.prefix == raw_key[:8]
    assert key.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
    assert raw_key not in {key.name, key.prefix, key.key_hash}


def test_a_key_needs_a_name():
    with pytest.raises(ValueError):
        open311_key_create(name="  ")


def test_the_key_verifies_and_its_use_is_recorded():
    key, raw_key = open311_key_create(name="시민앱")

    assert open311_key_verify(raw_key) == key
    key.refresh_from_db()
    assert key.last_used_at is not None


@pytest.mark.parametrize("guess", ["", "short", "x" * 500])
def test_wrong_keys_do_not_verify(guess):
    open311_key_create(name="시민앱")

    assert open311_key_verify(guess) is None


def test_a_key_with_the_right_prefix_but_wrong_rest_does_not_verify():
    _key, raw_key = open311_key_create(name="시민앱")

    assert open311_key_verify(raw_key[:-1] + ("A" if raw_key[-1] != "A" else "B")) is None


def test_a_revoked_key_no_longer_verifies_and_keeps_its_first_revocation_time():
    key, raw_key = open311_key_create(name="시민앱")
    open311_key_revoke(key=key)
    first = key.revoked_at

    open311_key_revoke(key=key)

    assert open311_key_verify(raw_key) is None
    key.refresh_from_db()
    assert key.revoked_at == first
    assert key.last_used_at is None


def test_the_command_prints_the_new_key_alone_on_stdout():
    out, err = run("create", "서울 시민앱")

    raw_key = out.strip()
    assert "\n" not in raw_key
    key = Open311Key.objects.get()
    assert key.name == "서울 시민앱"
    assert open311_key_verify(raw_key) == key
    assert key.prefix in err
    assert "not" in err  # the key is not shown again


def test_the_command_refuses_a_blank_name():
    with pytest.raises(CommandError):
        run("create", " ")
    assert not Open311Key.objects.exists()


def test_the_command_lists_keys_without_revealing_them():
    first, first_raw = open311_key_create(name="앱 하나")
    second, _second_raw = open311_key_create(name="앱 둘")
    open311_key_revoke(key=second)

    out, _err = run("list")

    lines = out.strip().splitlines()
    assert len(lines) == 3
    assert first.prefix in lines[1] and "앱 하나" in lines[1]
    assert second.prefix in lines[2] and "앱 둘" in lines[2]
    assert first_raw not in out


def test_the_command_lists_nothing_clearly():
    out, _err = run("list")

    assert "No Open311 keys" in out


def test_the_command_revokes_by_id_or_by_prefix():
    first, first_raw = open311_key_create(name="앱 하나")
    second, second_raw = open311_key_create(name="앱 둘")

    run("revoke", str(first.pk))
    run("revoke", second.prefix)

    assert open311_key_verify(first_raw) is None
    assert open311_key_verify(second_raw) is None


def test_revoking_twice_says_so():
    key, _raw = open311_key_create(name="앱")
    run("revoke", str(key.pk))

    out, _err = run("revoke", str(key.pk))

    assert "already" in out


def test_the_command_refuses_an_unknown_key():
    open311_key_create(name="앱")

    with pytest.raises(CommandError):
        run("revoke", "nosuchkey")
    with pytest.raises(CommandError):
        run("revoke", "99999")
    assert Open311Key.objects.get().revoked_at is None


def test_the_command_refuses_an_ambiguous_prefix():
    first, _ = open311_key_create(name="하나")
    second, _ = open311_key_create(name="둘")
    Open311Key.objects.filter(pk=second.pk).update(prefix="abcd9999")
    Open311Key.objects.filter(pk=first.pk).update(prefix="abcd1111")

    with pytest.raises(CommandError):
        run("revoke", "abcd")
    assert not Open311Key.objects.filter(revoked_at__isnull=False).exists()


@pytest.fixture
def superuser(db):
    return factories.UserFactory(username="root", is_staff=True, is_superuser=True)


def test_adding_a_key_in_admin_asks_only_a_name_and_shows_the_key_once(client, superuser):
    client.force_login(superuser)

    form = client.get("/admin/tickets/open311key/add/")
    response = client.post("/admin/tickets/open311key/add/", {"name": "구청 앱"})

    assert 'name="name"' in form.content.decode()
    assert 'name="key_hash"' not in form.content.decode()
    assert response.status_code == 302
    key = Open311Key.objects.get()
    words = [word for m in get_messages(response.wsgi_request) for word in str(m).split()]
    [raw_key] = [word for word in words if word.startswith(key.prefix) and len(word) > 40]
    assert open311_key_verify(raw_key) == key
    assert raw_key in client.get(response["Location"]).content.decode()
    listing = client.get("/admin/tickets/open311key/").content.decode()
    assert raw_key not in listing
    assert key.prefix in listing


def test_the_admin_revoke_action_stops_the_selected_keys(client, superuser):
    key, raw_key = open311_key_create(name="구청 앱")
    kept, kept_raw = open311_key_create(name="다른 앱")
    client.force_login(superuser)

    client.post(
        "/admin/tickets/open311key/",
        {"action": "revoke", "_selected_action": [key.pk]},
    )

    assert open311_key_verify(raw_key) is None
    assert open311_key_verify(kept_raw) == kept


def test_the_category_admin_edits_service_attributes_inline(client, superuser):
    category = factories.CategoryFactory(name="포트홀", code="pothole")
    client.force_login(superuser)

    page = client.get(f"/admin/tickets/category/{category.pk}/change/").content.decode()

    assert "attributes-0-code" in page or "attributes-__prefix__-code" in page


def test_an_agent_cannot_reach_the_keys_admin(client, agent_user):
    client.force_login(agent_user)

    response = client.get("/admin/tickets/open311key/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_an_anonymous_visitor_cannot_reach_the_keys_admin(client):
    response = client.get("/admin/tickets/open311key/add/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def _category_form(category, **attribute) -> dict:
    return {
        "name": category.name,
        "code": category.code,
        "is_public": "on",
        "sort_order": "0",
        "attributes-TOTAL_FORMS": "1",
        "attributes-INITIAL_FORMS": "0",
        "attributes-MIN_NUM_FORMS": "0",
        "attributes-MAX_NUM_FORMS": "1000",
        "attributes-0-code": "SIZE",
        "attributes-0-variable": "on",
        "attributes-0-order": "1",
        "attributes-0-description": "크기는?",
        **{f"attributes-0-{name}": value for name, value in attribute.items()},
    }


def test_the_category_admin_saves_a_list_attribute_with_its_values(client, superuser):
    category = factories.CategoryFactory(name="포트홀", code="pothole")
    client.force_login(superuser)

    response = client.post(
        f"/admin/tickets/category/{category.pk}/change/",
        _category_form(
            category, datatype="singlevaluelist", values='[{"key": "s", "name": "작음"}]'
        ),
    )

    assert response.status_code == 302
    assert category.attributes.get().values == [{"key": "s", "name": "작음"}]


@pytest.mark.parametrize(
    ("datatype", "values"),
    [("singlevaluelist", '["작음", "큼"]'), ("multivaluelist", "[]"), ("string", '{"key": 1}')],
)
def test_the_category_admin_refuses_malformed_attribute_values(client, superuser, datatype, values):
    category = factories.CategoryFactory(name="포트홀", code="pothole")
    client.force_login(superuser)

    response = client.post(
        f"/admin/tickets/category/{category.pk}/change/",
        _category_form(category, datatype=datatype, values=values),
    )

    assert response.status_code == 200
    assert not category.attributes.exists()


def test_a_key_prefix_never_starts_with_a_dash_so_it_can_be_revoked_as_printed(monkeypatch):
    keys = iter(["-" + "a" * 42, "b" * 43])
    monkeypatch.setattr("tickets.services.open311.secrets.token_urlsafe", lambda n: next(keys))

    key, raw_key = open311_key_create(name="대시앱")
    run("revoke", key.prefix)

    assert raw_key == "b" * 43
    key.refresh_from_db()
    assert key.revoked_at is not None
