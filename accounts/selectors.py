"""Reads of the user directory."""

import uuid

from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.sign_in_names import is_email, normalize_sign_in_name


def user_get_by_sign_in_name(name: str) -> User | None:
    """The user a sign-in name (user name or email, any case) belongs to, or None."""
    normalized = normalize_sign_in_name(name)
    if not normalized:
        return None
    field = "email" if is_email(normalized) else "username"
    return User.objects.filter(**{field: normalized}).first()


def user_get(identifier: str) -> User:
    """A user by user name, email or object id; ValidationError if there is none."""
    try:
        object_id = uuid.UUID(identifier.strip())
    except ValueError:
        user = user_get_by_sign_in_name(identifier)
    else:
        user = User.objects.filter(object_id=object_id).first()
    if user is None:
        raise ValidationError(f"Unknown user '{identifier}'.", code="unknown_user")
    return user
