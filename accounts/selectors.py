"""Reads of the user directory."""

import uuid

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.models.functions import Coalesce

from accounts.models import User
from accounts.sign_in_names import is_email, normalize_sign_in_name


def user_get_by_sign_in_name(name: str) -> User | None:
    """The user a sign-in name (user name or email, any case) belongs to, or None."""
    normalized = normalize_sign_in_name(name)
    if not normalized:
        return None
    field = "email" if is_email(normalized) else "username"
    return User.objects.filter(**{field: normalized}).first()


def directory_users() -> QuerySet[User]:
    """The tenant's directory users: every account but the admin accounts (staff), which run the tenant and
    are not its users (B2C keeps the two apart)."""
    return User.objects.filter(is_staff=False)


def directory_users_list() -> QuerySet[User]:
    """Directory users by sign-in name (the user name, else the email), the same order on every database."""
    return directory_users().order_by(Coalesce("username", "email"), "pk")


def user_get(identifier: str) -> User:
    """A directory user by user name, email or object id; ValidationError if there is none."""
    users = directory_users()
    try:
        object_id = uuid.UUID(identifier.strip())
    except ValueError:
        normalized = normalize_sign_in_name(identifier)
        field = "email" if is_email(normalized) else "username"
        user = users.filter(**{field: normalized}).first() if normalized else None
    else:
        user = users.filter(object_id=object_id).first()
    if user is None:
        raise ValidationError(
            f"Unknown user '{identifier}': no directory user has this user name, email or object id.",
            code="unknown_user",
        )
    return user
