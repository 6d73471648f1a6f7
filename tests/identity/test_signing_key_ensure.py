"""signing_key_ensure under a race (SPEC §3): the first key is created once, never rotated away."""

from unittest import mock

import pytest
from django.db import IntegrityError

from identity.keys.models import SigningKey
from identity.keys.services import signing_key_ensure, signing_key_rotate

pytestmark = pytest.mark.django_db


def test_losing_the_race_for_the_first_key_fails_instead_of_retiring_the_winners_key():
    winner = signing_key_rotate(actor="the other process")
    # As if our check ran just before the other process committed its key.
    with mock.patch.object(SigningKey.objects, "select_for_update", return_value=SigningKey.objects.none()):
        with pytest.raises(IntegrityError):
            signing_key_ensure(actor="tests")
    assert list(SigningKey.objects.values_list("kid", "active")) == [(winner.kid, True)]


def test_ensure_returns_the_active_key_and_creates_nothing():
    key = signing_key_ensure(actor="tests")
    assert signing_key_ensure(actor="tests") == key
    assert SigningKey.objects.count() == 1
