"""Issue 16 finding 5: 30 wrong admin passwords, then the right one logged in. Now django-axes
locks the (username, client) pair after LOGIN_FAILURE_LIMIT failures until the cool-off has
passed, and staff see the lockout in the admin."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from users.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "right-password-123"


@pytest.fixture
def staff_user():
    return User.objects.create_superuser("boss", "boss@example.com", PASSWORD)


def log_in(client, password, username="boss"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_after_the_failure_limit_the_right_password_is_refused_until_the_cool_off(client, staff_user, settings):
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_COOLOFF_TIME == timedelta(minutes=15)  # defaults
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "wrong").status_code == 200  # the form again, with its error
    assert log_in(client, "wrong").status_code == 429  # the fifth failure locks

    refused = log_in(client, PASSWORD)
    assert refused.status_code == 429
    # The admin's language (Russian by default, English when chosen).
    assert any(text in refused.content.decode() for text in ("too many login attempts", "слишком много попыток входа"))
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still sent to the login page

    # The cool-off passes (the attempts are dated back beyond it): the right password works again.
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    accepted = log_in(client, PASSWORD)
    assert accepted.status_code == 302 and accepted["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_lockout_is_listed_for_staff_in_the_admin(client, staff_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "wrong")
    other_admin = User.objects.create_superuser("ops", "ops@example.com", "ops-password-123")
    client.force_login(other_admin)

    listing = client.get("/admin/axes/accessattempt/")

    assert listing.status_code == 200
    text = listing.content.decode()
    assert "boss" in text and "127.0.0.1" in text
    assert AccessAttempt.objects.get(username="boss").failures_since_start == settings.AXES_FAILURE_LIMIT


def test_a_lockout_is_per_username_and_client(client, staff_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "wrong")
    assert log_in(client, PASSWORD).status_code == 429
    # The same account from another address is not locked out by a stranger's guesses.
    elsewhere = log_in(client.__class__(REMOTE_ADDR="203.0.113.9"), PASSWORD)
    assert elsewhere.status_code == 302


def test_behind_a_trusted_proxy_the_forwarded_client_address_is_counted(client, staff_user, settings):
    settings.TRUSTED_PROXY = True
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "boss", "password": "wrong"}, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert AccessAttempt.objects.get().ip_address == "198.51.100.7"
    # Another client behind the same proxy still logs in.
    response = client.post("/admin/login/?next=/admin/", {"username": "boss", "password": PASSWORD},
                           HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert response.status_code == 302
