"""Writes to the user directory (SPEC §4.2, §5): one code path for admin, commands and API."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.sign_in_names import EMAIL_MAX_LENGTH, USERNAME_MAX_LENGTH, is_email, normalize_sign_in_name
from audit.services import Actor, audit_record


def username_validate(username: str | None, *, staff: bool = False) -> str | None:
    """The normal form of a new user name, or ValidationError (malformed or taken).

    Taken means taken by an account of the same kind: admin accounts (`staff`) have names of their own.
    """
    if username is None or not username.strip():
        return None
    normalized = normalize_sign_in_name(username)
    if is_email(normalized):
        raise ValidationError(
            f"A user name cannot contain '@' (got '{username.strip()}'); an email address is the email sign-in "
            "name, so give it there."
        )
    if len(normalized) > USERNAME_MAX_LENGTH or any(c.isspace() or not c.isprintable() for c in normalized):
        raise ValidationError(
            f"Invalid user name '{username}': at most {USERNAME_MAX_LENGTH} characters, without spaces or control "
            "characters."
        )
    if User.objects.filter(username=normalized, is_staff=staff).exists():
        raise ValidationError(f"The sign-in name '{normalized}' is already in use.", code="duplicate")
    return normalized


def email_validate(email: str | None, *, staff: bool = False) -> str | None:
    """The normal form of a new email sign-in name, or ValidationError (malformed or taken)."""
    if email is None or not email.strip():
        return None
    normalized = normalize_sign_in_name(email)
    local, at, domain = normalized.partition("@")
    if not (local and at and domain and "@" not in domain and len(normalized) <= EMAIL_MAX_LENGTH) or any(
        c.isspace() for c in normalized
    ):
        raise ValidationError(
            f"Invalid email address '{email}': an email sign-in name looks like name@contoso.com (no spaces, at "
            f"most {EMAIL_MAX_LENGTH} characters)."
        )
    if User.objects.filter(email=normalized, is_staff=staff).exists():
        raise ValidationError(f"The sign-in name '{normalized}' is already in use.", code="duplicate")
    return normalized


def _full_clean(user: User) -> None:
    """The model's own checks (field lengths), each message naming its field: a command prints them all
    on one line, where "Ensure this value has at most 64 characters" alone would not say which."""
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise ValidationError([
            message if field == "__all__" else f"{User._meta.get_field(field).verbose_name.capitalize()}: {message}"
            for field, messages in exc.message_dict.items() for message in messages
        ]) from None


@transaction.atomic
def user_create(
    *,
    actor: Actor,
    username: str | None = None,
    email: str | None = None,
    password: str | None = None,
    display_name: str = "",
    given_name: str = "",
    surname: str = "",
    enabled: bool = True,
    mfa_required: bool = False,
    password_expired: bool = False,
) -> User:
    """Create a local account. Without a password the account cannot sign in with ROPC."""
    user = User(
        username=username_validate(username),
        email=email_validate(email),
        display_name=display_name.strip(),
        given_name=given_name.strip(),
        surname=surname.strip(),
        is_active=enabled,
        mfa_required=mfa_required,
        password_expired=password_expired,
    )
    if user.username is None and user.email is None:
        raise ValidationError("A user needs a user name or an email address to sign in with.")
    if password is not None:
        validate_password(password, user)
        user.set_password(password)
        user.password_changed_at = timezone.now()
    else:
        user.set_unusable_password()
    _full_clean(user)
    user.save()
    audit_record(actor=actor, action="user.create", target=user, details={"object_id": str(user.object_id)})
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str, actor: Actor, force_change: bool = False) -> User:
    """Reset a password: keeps the previous hash, and revokes refresh tokens (SPEC §4.2)."""
    validate_password(password, user)
    now = timezone.now()
    user.previous_password = user.password if user.has_usable_password() else ""
    user.set_password(password)
    user.password_changed_at = now
    user.password_expired = force_change
    user.refresh_tokens_valid_from = now
    user.save(update_fields=[
        "password", "previous_password", "password_changed_at", "password_expired", "refresh_tokens_valid_from",
    ])
    audit_record(actor=actor, action="user.set_password", target=user, details={"force_change": force_change})
    return user


@transaction.atomic
def user_revoke_sessions(*, user: User, actor: Actor) -> User:
    """B2C's revokeSignInSessions: refresh tokens issued until now stop working."""
    user.refresh_tokens_valid_from = timezone.now()
    user.save(update_fields=["refresh_tokens_valid_from"])
    audit_record(
        actor=actor, action="user.revoke_sessions", target=user,
        details={"refresh_tokens_valid_from": user.refresh_tokens_valid_from.isoformat()},
    )
    return user


def _revoke_on_disable(user: User) -> None:
    """A disabled user's refresh tokens stop working (SPEC §4.2): the one place that rule lives."""
    user.refresh_tokens_valid_from = timezone.now()
    user.save(update_fields=["refresh_tokens_valid_from"])


@transaction.atomic
def user_set_enabled(*, user: User, enabled: bool, actor: Actor) -> User:
    """Enable or disable; disabling also revokes refresh tokens (SPEC §4.2)."""
    user.is_active = enabled
    user.save(update_fields=["is_active"])
    if not enabled:
        _revoke_on_disable(user)
    audit_record(actor=actor, action="user.enable" if enabled else "user.disable", target=user)
    return user


@transaction.atomic
def user_record_edit(*, user: User, changed: list[str], actor: Actor, was_active: bool) -> User:
    """Side effects and audit of a direct edit (the admin change form saves the fields itself)."""
    if was_active and not user.is_active:
        _revoke_on_disable(user)
    audit_record(actor=actor, action="user.update", target=user, details={"changed": sorted(changed)})
    return user


@transaction.atomic
def user_delete(*, user: User, actor: Actor) -> None:
    """Delete a user. Its refresh tokens outlive it so a later refresh is told AADB2C90128."""
    audit_record(actor=actor, action="user.delete", target=user, details={"object_id": str(user.object_id)})
    user.delete()
