"""Admin sign-ins in the sign-in log (issue 18 item 2): their own grant type, linked to the administrator's
page, never put on a directory user of the same name."""

import pytest
from django.utils import timezone

from accounts import admin_accounts
from accounts import services as accounts
from audit.models import SignInEvent
from audit.sign_in_buffer import ADMIN_GRANT_TYPE, SignInRecord, sign_in_events

pytestmark = pytest.mark.django_db

LIST = "/admin/audit/signinevent/"


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def test_admin_sign_ins_have_their_own_grant_filter_and_link_to_the_administrators_page(admin):
    helen = admin_accounts.admin_account_create(actor="tests", username="helen", password="Admin-Pass-123!")
    mine = SignInEvent.objects.create(grant_type=ADMIN_GRANT_TYPE, user=helen, sign_in_name="helen", succeeded=True)
    SignInEvent.objects.create(grant_type="password", sign_in_name="someone", succeeded=True)
    response = admin.get(LIST, {"grant": ADMIN_GRANT_TYPE})
    assert [e.pk for e in response.context["cl"].result_list] == [mine.pk]
    html = response.content.decode()
    assert "Admin sign-in" in html
    assert f'href="/admin/accounts/adminaccount/{helen.pk}/change/"' in html
    detail = admin.get(f"/admin/audit/signinevent/{mine.pk}/change/").content.decode()
    assert "Admin sign-in (admin)" in detail


def test_an_admin_sign_in_with_no_account_is_not_given_to_a_directory_user_of_that_name(db):
    bob = accounts.user_create(actor="tests", username="bob", password="Correct-Horse-9")
    sign_in_events.add(SignInRecord(created_at=timezone.now(), sign_in_name="bob", grant_type=ADMIN_GRANT_TYPE))
    sign_in_events.add(SignInRecord(created_at=timezone.now(), sign_in_name="bob", grant_type="password"))
    admin_event, token_event = SignInEvent.objects.order_by("id")
    assert (admin_event.user_id, token_event.user_id) == (None, bob.pk)
