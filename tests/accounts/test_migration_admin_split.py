"""accounts.0004: an existing admin that was also a directory user is split in two (issue 17 item 1)."""

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = [pytest.mark.django_db(transaction=True)]

BEFORE = [("accounts", "0003_sign_in_throttle"), ("applications", "0005_refresh_token_checksum_unique"),
          ("audit", "0001_initial")]


def migrate(targets=None):
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def test_an_admin_with_tokens_is_split_and_an_admin_without_is_left_an_admin():
    apps = migrate(BEFORE)
    user_model = apps.get_model("accounts", "User")
    both = user_model.objects.create(
        username="root", email="root@contoso.test", password="argon2$hash", is_staff=True, is_superuser=True,
        display_name="Root", refresh_tokens_valid_from=timezone.now(),
    )
    plain = user_model.objects.create(username="ops", password="argon2$hash2", is_staff=True)
    member = user_model.objects.create(username="alice", password="x")
    app = apps.get_model("applications", "Application").objects.create(
        name="Native", client_id=str(uuid.uuid4()), client_type="public")
    token = apps.get_model("applications", "RefreshToken").objects.create(
        user=both, application=app, token="checksum-1", token_checksum="c" * 64)
    event = apps.get_model("audit", "SignInEvent").objects.create(user=both, succeeded=True)
    oid = both.object_id

    apps = migrate()
    user_model = apps.get_model("accounts", "User")
    admin = user_model.objects.get(pk=both.pk)
    directory_user = user_model.objects.get(username="root", is_staff=False)
    assert admin.is_staff and admin.is_superuser and admin.object_id != oid
    assert directory_user.object_id == oid and not directory_user.is_superuser
    assert (directory_user.email, directory_user.password, directory_user.display_name) == (
        "root@contoso.test", "argon2$hash", "Root")
    assert apps.get_model("applications", "RefreshToken").objects.get(pk=token.pk).user_id == directory_user.pk
    assert apps.get_model("audit", "SignInEvent").objects.get(pk=event.pk).user_id == directory_user.pk
    assert user_model.objects.filter(username="ops").count() == 1 and user_model.objects.get(pk=plain.pk).is_staff
    assert not user_model.objects.get(pk=member.pk).is_staff
    split = apps.get_model("audit", "AuditEvent").objects.get(action="user.split_admin")
    assert split.details["directory_user_object_id"] == str(oid)


def test_unapplying_the_split_is_refused_while_a_name_is_shared_by_both_kinds():
    from accounts.models import User

    User.objects.create(username="root", password="x", is_staff=True)
    User.objects.create(username="root", password="y")
    try:
        with pytest.raises(RuntimeError, match=r"Cannot unapply accounts\.0004: 1 sign-in name"):
            migrate(BEFORE)
    finally:
        migrate()
    assert User.objects.filter(username="root").count() == 2
