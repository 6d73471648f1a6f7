"""Password hashing: Argon2id at the configured parameters, rehashed when they change (SPEC §1)."""

import pytest
from django.contrib.auth.hashers import make_password

from accounts.models import User

ARGON2_FIRST = ["accounts.hashers.Argon2idPasswordHasher", "applications.hashers.ClientSecretHasher"]


@pytest.fixture
def argon2(settings):
    settings.PASSWORD_HASHERS = ARGON2_FIRST
    return settings


def test_passwords_are_hashed_with_argon2id_at_owasp_parameters(argon2):
    encoded = make_password("Correct-Horse-9")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


@pytest.mark.django_db
def test_a_password_is_rehashed_on_sign_in_when_parameters_change(argon2):
    user = User.objects.create_user(username="bob", password="Correct-Horse-9")
    argon2.ARGON2_MEMORY_COST_KIB = 12288
    assert user.check_password("Correct-Horse-9")
    user.refresh_from_db()
    assert "m=12288,t=2,p=1" in user.password
    assert user.check_password("Correct-Horse-9")


def test_client_secrets_use_the_fast_hasher_not_argon2(argon2):
    encoded = make_password("s3cret-value", hasher="client_secret_sha256")
    assert encoded.startswith("client_secret_sha256$")
    from django.contrib.auth.hashers import check_password

    assert check_password("s3cret-value", encoded)
    assert not check_password("s3cret-valuE", encoded)
