"""Reads of the user directory. Admin accounts (`is_staff`) are not in it: no lookup here finds one."""

import uuid

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.models.functions import Coalesce

from accounts.models import User
from accounts.sign_in_names import is_email, normalize_sign_in_name


def directory_users() -> QuerySet[User]:
    """The tenant's users: every account but the admin accounts."""
    return User.objects.filter(is_staff=False)


def directory_users_list() -> QuerySet[User]:
    """Directory users by sign-in name (the user name, else the email), the same order on every database."""
    return directory_users().order_by(Coalesce("username", "email"), "pk")


def user_get_by_sign_in_name(name: str) -> User | None:
    """The user a sign-in name (user name or email, any case) belongs to, or None."""
    normalized = normalize_sign_in_name(name)
    if not normalized:
        return None
    field = "email" if is_email(normalized) else "username"
    return directory_users().filter(**{field: normalized}).first()


def user_get(identifier: str) -> User:
    """A directory user by user name, email or object id; ValidationError if there is none."""
    try:
        object_id = uuid.UUID(identifier.strip())
    except ValueError:
        user = user_get_by_sign_in_name(identifier)
    else:
        user = directory_users().filter(object_id=object_id).first()
    if user is None:
        raise ValidationError(f"Unknown user '{identifier}'.", code="unknown_user")
    return user
