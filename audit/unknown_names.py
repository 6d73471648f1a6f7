"""Sign-in names that match no user, kept only as a keyed hash.

A refused password sign-in records the name it was attempted with, and a name that belongs to no
directory user is often a password typed into the user-name box, or someone's guess: storing it would put
credentials in the log. Such a name is stored as `unknown name #<16 hex digits>`, an HMAC-SHA256 of its
normal form (accounts.sign_in_names) under a key derived from SECRET_KEY, as smart lockout keys its
counters (accounts.lockout). Attempts on one unknown name still group under one `#…`, and an admin who
types a name into the sign-in log's search finds its attempts; what was typed is never stored. Names of
existing users stay readable. No sign-in name contains a space, so a stored hash is never taken for one.

Rotating SECRET_KEY starts new `#…` values: attempts before and after no longer group together.
"""

import hashlib
import hmac
import re
from functools import lru_cache

from django.conf import settings

from accounts.sign_in_names import normalize_sign_in_name

PREFIX = "unknown name #"
DIGITS = 16  # 64 bits: attempts on distinct names do not collide in any log this size
_HIDDEN = re.compile(rf"{re.escape(PREFIX)}[0-9a-f]{{{DIGITS}}}")


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return hashlib.sha256(f"trustframe sign-in log name {secret}".encode()).digest()


def hide_sign_in_name(name: str) -> str:
    """The stored form of a sign-in name that matches no user."""
    digest = hmac.new(_key(settings.SECRET_KEY), normalize_sign_in_name(name).encode(), hashlib.sha256)
    return PREFIX + digest.hexdigest()[:DIGITS]


def is_hidden(stored: str) -> bool:
    return _HIDDEN.fullmatch(stored) is not None


def short_form(stored: str) -> str:
    """For a narrow column: `unknown name #3fa2b1c0…` (the whole value on hover)."""
    return stored[:len(PREFIX) + 8] + "…" if is_hidden(stored) else stored
