"""Sign-in names: one normal form for storage, lookup and (later) lockout counters.

B2C treats sign-in names case-insensitively. We store the normal form, so a unique index (one per
kind of account: directory users, admin accounts) is the whole uniqueness rule. A user name never
contains "@", an email always does, so the two kinds of name can never collide and the kind of a
presented name is known from its shape.
"""

import unicodedata

USERNAME_MAX_LENGTH = 64
EMAIL_MAX_LENGTH = 254


def normalize_sign_in_name(value: str) -> str:
    """NFKC, trimmed, case-folded: the form stored and compared everywhere."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def is_email(normalized: str) -> bool:
    return "@" in normalized
