"""Database constraints on users: what must be unique or well-formed holds even past the services."""

import pytest
from django.db import IntegrityError, transaction

from accounts.models import FederatedIdentity, User

pytestmark = pytest.mark.django_db


def _insert(**fields) -> None:
    with transaction.atomic():
        User.objects.create(**fields)


def test_a_user_name_cannot_contain_an_at_sign():
    with pytest.raises(IntegrityError):
        _insert(username="bob@contoso.test")


def test_a_user_needs_a_sign_in_name():
    with pytest.raises(IntegrityError):
        _insert(display_name="nobody")


def test_an_email_must_look_like_one():
    with pytest.raises(IntegrityError):
        _insert(email="not an email")


def test_sign_in_names_are_unique():
    _insert(username="bob")
    with pytest.raises(IntegrityError):
        _insert(username="bob")


def test_a_federated_identity_links_to_one_user_only(user):
    FederatedIdentity.objects.create(user=user, issuer="https://accounts.google.com", issuer_subject="123")
    other = User.objects.create(username="carol")
    with pytest.raises(IntegrityError), transaction.atomic():
        FederatedIdentity.objects.create(user=other, issuer="https://accounts.google.com", issuer_subject="123")


def test_object_ids_are_generated_and_distinct(user):
    other = User.objects.create(username="carol")
    assert user.object_id and other.object_id and user.object_id != other.object_id
