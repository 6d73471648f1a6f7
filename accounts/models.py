"""The directory's users (SPEC §5): local accounts and federated identities."""

import uuid
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, Group, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.sign_in_names import EMAIL_MAX_LENGTH, USERNAME_MAX_LENGTH, normalize_sign_in_name


class UserManager(BaseUserManager["User"]):
    """Used by Django's `createsuperuser` and login; directory code calls `accounts.services.user_create`."""

    def _create(self, username: str | None, email: str | None, password: str | None, **extra) -> "User":
        user = self.model(
            username=normalize_sign_in_name(username) if username else None,
            email=normalize_sign_in_name(email) if email else None,
            **extra,
        )
        user.set_password(password)
        user.password_changed_at = timezone.now()
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, username=None, email=None, password=None, **extra) -> "User":
        return self._create(username, email, password, **extra)

    def create_superuser(self, username=None, email=None, password=None, **extra) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self._create(username, email, password, **extra)

    def get_by_natural_key(self, username: str) -> "User":
        # Django's login and `createsuperuser` look names up here: only admin accounts sign in to the
        # admin, and their names are a namespace apart from the directory's.
        return self.get(username=normalize_sign_in_name(username), is_staff=True)


class AdminAccountManager(UserManager):
    def get_queryset(self) -> models.QuerySet["User"]:
        return super().get_queryset().filter(is_staff=True)


def initial_refresh_tokens_valid_from() -> datetime:
    """One second before the account exists. No token predates the account, and JWTs carry `iat` in whole
    seconds: a token issued in the same second the account was created must not compare as "at or before"
    the cutoff, which is meant for revocations (SPEC §4.2)."""
    return timezone.now() - timedelta(seconds=1)


class User(AbstractBaseUser, PermissionsMixin):
    """A directory user (`is_staff` false) or an admin account (`is_staff` true), never both.

    As in B2C, the people who run the tenant are not its consumers: an admin account signs in to
    `/admin/` only and never gets a token from a policy; a directory user gets tokens and never reaches
    the admin. The two kinds share this table (Django's auth needs one user model) but not their
    sign-in names: each kind has its own unique names, and every lookup says which kind it wants.
    The kind is fixed when the account is created.
    """

    object_id = models.UUIDField("object id", default=uuid.uuid4, unique=True, editable=False)
    # NULL, not "": accounts without this kind of name must not collide under the unique constraints.
    username = models.CharField(  # noqa: DJ001
        "user name", max_length=USERNAME_MAX_LENGTH, null=True, blank=True,
        help_text="Sign-in name without '@'; stored case-folded.",
    )
    email = models.CharField(  # noqa: DJ001
        "email", max_length=EMAIL_MAX_LENGTH, null=True, blank=True,
        help_text="Email sign-in name; stored case-folded.",
    )
    display_name = models.CharField(max_length=256, blank=True)
    given_name = models.CharField(max_length=64, blank=True)
    surname = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField("enabled", default=True)
    is_staff = models.BooleanField(
        "admin account", default=False, editable=False,
        help_text="An admin account signs in to the admin site only; it is not a user of the directory.",
    )
    refresh_tokens_valid_from = models.DateTimeField(
        "refreshTokensValidFromDateTime", default=initial_refresh_tokens_valid_from,
        help_text="Refresh tokens issued at or before this instant are refused.",
    )
    password_changed_at = models.DateTimeField(null=True, blank=True)
    # Only the last password is kept: B2C's "Looks like you used an old password" checks one.
    previous_password = models.CharField(max_length=256, blank=True, editable=False)
    password_expired = models.BooleanField(
        default=False, help_text="The user must change the password before signing in again."
    )
    mfa_required = models.BooleanField("MFA required", default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            *(
                models.UniqueConstraint(
                    fields=[field], condition=Q(is_staff=staff), name=f"user_{field}_unique_{kind}",
                    violation_error_message=f"The sign-in name is already in use by another {kind} account.",
                )
                for field in ("username", "email") for staff, kind in ((False, "directory"), (True, "admin"))
            ),
            models.CheckConstraint(
                condition=Q(username__isnull=False) | Q(email__isnull=False), name="user_has_sign_in_name"
            ),
            models.CheckConstraint(
                condition=Q(username__isnull=True) | (~Q(username__contains="@") & ~Q(username="")),
                name="user_username_well_formed",
            ),
            models.CheckConstraint(
                condition=Q(email__isnull=True) | Q(email__regex=r"^[^@\s]+@[^@\s]+$"),
                name="user_email_well_formed",
            ),
        ]

    def __str__(self) -> str:
        return self.username or self.email or str(self.object_id)

    def get_full_name(self) -> str:
        return self.display_name or " ".join(p for p in (self.given_name, self.surname) if p)

    def get_short_name(self) -> str:
        return self.given_name or str(self)

    @property
    def sign_in_names(self) -> list[str]:
        return [n for n in (self.username, self.email) if n]


class AdminAccount(User):
    """The admin accounts (staff): who runs the tenant, with built-in roles (groups) as permissions."""

    objects = AdminAccountManager()

    class Meta:
        proxy = True
        verbose_name = "administrator"

    def save(self, *args, **kwargs) -> None:
        self.is_staff = True
        super().save(*args, **kwargs)


class AdminRole(Group):
    """A built-in admin role (accounts/roles.py), shown read-only as "Admin roles"."""

    class Meta:
        proxy = True
        verbose_name = "admin role"


class FederatedIdentity(models.Model):
    """A sign-in at an upstream identity provider linked to this user (issuer + subject)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="federated_identities")
    issuer = models.CharField(max_length=512)
    issuer_subject = models.CharField("subject", max_length=512)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "federated identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "issuer_subject"], name="federated_identity_unique"),
            models.CheckConstraint(
                condition=~Q(issuer="") & ~Q(issuer_subject=""), name="federated_identity_not_blank"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issuer} / {self.issuer_subject}"


class SignInThrottle(models.Model):
    """Smart-lockout state of one sign-in name at one location (SPEC §4.1; issue 18), whether or not such a
    user exists.

    A name has one row per network it was tried from (`location_key`) and one row, `location_key` "", that
    counts the attempts from every unfamiliar network together. A network is familiar to the name while
    `familiar_until` (set by a successful sign-in from it) is in the future; accounts/lockout.py has the
    rules. Keyed by HMACs of the normalised name and of the network, so neither the attempted names nor
    the addresses are stored. `recent_failures` holds short HMACs of the distinct wrong passwords since
    the last lock, so that repeating the same wrong password counts once.
    """

    name_key = models.CharField(max_length=64)
    location_key = models.CharField(max_length=64, default="", blank=True)
    failures = models.PositiveIntegerField(default=0)
    lockouts = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    recent_failures = models.JSONField(default=list, blank=True)
    familiar_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = "sign-in throttle"
        constraints = [
            models.UniqueConstraint(fields=["name_key", "location_key"], name="sign_in_throttle_name_location"),
        ]

    def __str__(self) -> str:
        where = f" at {self.location_key[:8]}…" if self.location_key else " from unfamiliar locations"
        return f"{self.name_key[:12]}…{where} ({self.failures} failures, {self.lockouts} lockouts)"
