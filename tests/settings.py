"""Test settings: production settings with test values for what production must configure.

The environment still wins (CI points DATABASE_URL at PostgreSQL and REDIS_URL at Redis).
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("IDENTITY_TENANT_NAME", "contoso.onmicrosoft.com")
os.environ.setdefault("IDENTITY_BASE_URL", "https://login.contoso.test")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
# Off by default so that tests sign in with force_login or a password; the two-step tests turn it on.
os.environ.setdefault("ADMIN_REQUIRE_MFA", "false")

from identity.settings import *  # noqa: F403

# A fast hasher first, except in tests that are about hashing (they ask for Argon2 explicitly).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
TESTING_FAST_HASHER = True
# Tests read sign-in events right after the request that made them; the batching writer has its own
# tests (tests/audit/test_sign_in_buffer.py), and the real-server tests run it as deployed.
SIGN_IN_EVENTS_FLUSH_SECONDS = 0
