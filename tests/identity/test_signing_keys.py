"""Signing keys (SPEC §3): RSA ≥ 2048 in the database, private part encrypted, rotation keeps old keys."""

from datetime import timedelta
from types import SimpleNamespace
from unittest.mock import patch

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEvent
from identity.directory_cache import DirectoryStamp
from identity.keys import crypto, selectors
from identity.keys.models import SigningKey
from identity.keys.services import (
    RETIRED_KEY_PUBLISHED_FOR,
    signing_key_ensure,
    signing_key_rotate,
    signing_key_withdraw,
)

pytestmark = pytest.mark.django_db


def test_rotation_creates_an_active_2048_bit_rsa_key(db):
    key = signing_key_rotate(actor="tests")
    kid, private_key = selectors.active_signing_key()
    assert kid == key.kid and isinstance(private_key, rsa.RSAPrivateKey) and private_key.key_size >= 2048
    assert key.public_jwk["kid"] == kid and key.public_jwk["alg"] == "RS256" and "d" not in key.public_jwk


def test_the_private_key_is_encrypted_at_rest(db):
    key = signing_key_rotate(actor="tests")
    stored = SigningKey.objects.values_list("private_key_encrypted", flat=True).get(pk=key.pk)
    assert "PRIVATE KEY" not in stored
    assert b"BEGIN PRIVATE KEY" in crypto.decrypt_private_pem(stored)


def test_a_changed_key_secret_cannot_read_the_key(settings, db):
    key = signing_key_rotate(actor="tests")
    settings.IDENTITY_KEY_SECRET = "another-secret"
    with pytest.raises(crypto.KeyDecryptionError, match="IDENTITY_KEY_SECRET"):
        crypto.decrypt_private_pem(key.private_key_encrypted)


def test_rotation_keeps_the_old_key_published_until_its_tokens_expire(db):
    old = signing_key_rotate(actor="tests")
    new = signing_key_rotate(actor="tests")
    old.refresh_from_db()
    assert not old.active and old.retired_at is not None
    assert old.published_until - old.retired_at == RETIRED_KEY_PUBLISHED_FOR >= timedelta(hours=24)
    assert [k["kid"] for k in selectors.jwks()["keys"]] == [new.kid, old.kid]
    # Its publication ends: time passes, with no admin change to tell the directory cache.
    with patch.object(timezone, "now", return_value=old.published_until + timedelta(seconds=1)):
        assert [k["kid"] for k in selectors.jwks()["keys"]] == [new.kid]


def test_only_one_key_is_active(db):
    key = signing_key_rotate(actor="tests")
    with pytest.raises(IntegrityError), transaction.atomic():
        SigningKey.objects.create(kid="x", key_size=2048, public_jwk={}, private_key_encrypted="x", active=True)
    assert signing_key_ensure(actor="tests") == key


def test_keys_smaller_than_2048_bits_are_refused(db):
    with pytest.raises(ValueError, match="2048"):
        crypto.generate_rsa_private_key(1024)
    with pytest.raises(IntegrityError), transaction.atomic():
        SigningKey.objects.create(kid="x", key_size=1024, public_jwk={}, private_key_encrypted="x")


def test_a_new_key_signs_only_once_every_process_can_be_publishing_it(db, settings, monkeypatch):
    """Other processes may serve their cached JWKS for DIRECTORY_CACHE_SECONDS after a rotation: until
    then tokens are signed with the key it replaced, which every cached JWKS lists."""
    settings.DIRECTORY_CACHE_SECONDS = 1
    old = signing_key_rotate(actor="tests")
    assert selectors.active_signing_key()[0] == old.kid  # the first key of all signs at once
    new = signing_key_rotate(actor="tests")
    assert selectors.active_signing_key()[0] == old.kid
    assert {k["kid"] for k in selectors.jwks()["keys"]} == {old.kid, new.kid}
    later = new.created_at + timedelta(seconds=2)
    monkeypatch.setattr(selectors, "timezone", SimpleNamespace(now=lambda: later))
    assert selectors.active_signing_key()[0] == new.kid


def test_with_no_cache_window_a_new_key_signs_at_once(db, settings):
    settings.DIRECTORY_CACHE_SECONDS = 0
    signing_key_rotate(actor="tests")
    new = signing_key_rotate(actor="tests")
    assert selectors.active_signing_key()[0] == new.kid


# --- emergency withdrawal (rotatekeys --retire-now) ---------------------------------------------------------


def published_kids() -> set[str]:
    return {k["kid"] for k in selectors.jwks()["keys"]}


def test_withdrawing_the_active_key_removes_it_from_the_jwks_and_makes_a_new_active_key(db):
    compromised = signing_key_rotate(actor="tests")
    assert published_kids() == {compromised.kid}  # cached by the directory cache from here on
    withdrawal = signing_key_withdraw(actor="tests", kid=compromised.kid)
    compromised.refresh_from_db()
    assert withdrawal.changed and withdrawal.replacement is not None
    assert not compromised.active and not compromised.is_published
    assert published_kids() == {withdrawal.replacement.kid}
    assert selectors.active_signing_key()[0] == withdrawal.replacement.kid
    event = AuditEvent.objects.get(action="signing_key.withdraw")
    assert event.details == {"kid": compromised.kid, "was_active": True,
                             "new_active_kid": withdrawal.replacement.kid}


def test_a_withdrawn_key_never_signs_again_even_in_the_window_after_a_rotation(db, settings):
    """A rotation signs with the key it replaced for DIRECTORY_CACHE_SECONDS; not if that key was withdrawn."""
    settings.DIRECTORY_CACHE_SECONDS = 1
    old = signing_key_rotate(actor="tests")
    new = signing_key_rotate(actor="tests")
    assert selectors.active_signing_key()[0] == old.kid  # the ordinary window
    withdrawal = signing_key_withdraw(actor="tests", kid=old.kid)
    assert withdrawal.replacement is None  # it was not the active key: the active one stays
    assert selectors.active_signing_key()[0] == new.kid
    assert published_kids() == {new.kid}


def test_withdrawing_a_retired_key_keeps_the_active_one_and_stamps_the_directory(db):
    old = signing_key_rotate(actor="tests")
    active = signing_key_rotate(actor="tests")
    stamp = DirectoryStamp.objects.get().stamp
    signing_key_withdraw(actor="tests", kid=f" {old.kid} ")
    assert DirectoryStamp.objects.get().stamp != stamp  # other processes drop their cached JWKS
    assert list(SigningKey.objects.filter(active=True)) == [active]
    assert published_kids() == {active.kid}


def test_withdrawing_a_key_no_longer_published_changes_nothing(db):
    key = signing_key_rotate(actor="tests")
    signing_key_withdraw(actor="tests", kid=key.kid)
    keys, events = SigningKey.objects.count(), AuditEvent.objects.count()
    again = signing_key_withdraw(actor="tests", kid=key.kid)
    assert not again.changed and again.replacement is None
    assert (SigningKey.objects.count(), AuditEvent.objects.count()) == (keys, events)


def test_an_unknown_kid_is_refused(db):
    signing_key_rotate(actor="tests")
    with pytest.raises(ValidationError, match="No signing key has the kid 'nope'"):
        signing_key_withdraw(actor="tests", kid="nope")


def test_withdrawal_never_leaves_the_tenant_without_an_active_key(db):
    old = signing_key_rotate(actor="tests")
    signing_key_rotate(actor="tests")
    SigningKey.objects.filter(active=True).delete()  # a damaged tenant: only the retired key is left
    with pytest.raises(ValidationError, match="would leave the tenant without an active signing key"):
        signing_key_withdraw(actor="tests", kid=old.kid)
    old.refresh_from_db()
    assert old.is_published
