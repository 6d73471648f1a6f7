"""Two-step verification for admin accounts (issue 18 item 2): TOTP (RFC 6238) with django-otp, backup
codes, and a reset by a Global administrator.

An admin account has at most one authenticator (a confirmed `TOTPDevice`) and, with it, ten one-time
backup codes (a `StaticDevice`). django-otp keeps static tokens as they are typed; ours are stored as a
keyed HMAC (IDENTITY_KEY_SECRET), so the database alone gives none away. The TOTP secret itself must be
readable to check codes and is stored as django-otp stores it: the second factor guards against a stolen
password, not against a stolen database and key. Wrong codes are throttled per device by django-otp
(exponential back-off: 1 s, 2 s, 4 s, ... after each wrong code) and per IP by the admin login's quota.

`ADMIN_REQUIRE_MFA` (on unless DEBUG) makes the second step mandatory: an admin without an authenticator
is sent to enrol before any admin page. Every enrolment, new set of backup codes and reset is audited.
"""

import hashlib
import hmac
import re
import secrets
from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime, timedelta

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from audit.services import Actor, audit_record

DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
BACKUP_CODE_COUNT = 10
_BACKUP_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32, lower case: nothing to confuse 0/O or 1/l
_BACKUP_LENGTH = 12  # 60 bits each
_TOTP_CODE = re.compile(r"^\d{6}$")


def mfa_required() -> bool:
    return settings.ADMIN_REQUIRE_MFA


def second_factor_satisfied(request: HttpRequest) -> bool:
    """The session passed the second step (django-otp's mark), or needs none: MFA is not required and the
    account has no authenticator. Asked by the admin site's has_permission, several times per page: the
    answer is kept on the request."""
    cached = getattr(request, "_trustframe_second_factor", None)
    if cached is None:
        user = request.user
        is_verified = getattr(user, "is_verified", None)
        cached = bool(is_verified and is_verified()) or (not mfa_required() and not has_authenticator(user))
        request._trustframe_second_factor = cached
    return cached


def authenticator(account: User) -> TOTPDevice | None:
    """The account's confirmed authenticator, if it has one."""
    return TOTPDevice.objects.filter(user=account, confirmed=True).first()


def has_authenticator(account: User) -> bool:
    return TOTPDevice.objects.filter(user=account, confirmed=True).exists()


def backup_codes_left(account: User) -> int:
    return StaticToken.objects.filter(device__user=account, device__confirmed=True).count()


@dataclass(frozen=True)
class TotpSetup:
    """What a person needs to add the account to an authenticator app."""

    uri: str  # otpauth://totp/...
    secret: str  # base32, in groups of four, to type by hand
    qr_svg: str  # the URI as an inline SVG QR code (made here: nothing leaves the server)


def totp_enrolment(account: User) -> TOTPDevice:
    """The account's pending (unconfirmed) authenticator, made at the first call; the same secret is shown
    until a code from it confirms it (totp_confirm)."""
    device = TOTPDevice.objects.filter(user=account, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=account, name=DEVICE_NAME, confirmed=False)


def totp_setup(device: TOTPDevice) -> TotpSetup:
    secret = b32encode(device.bin_key).decode().rstrip("=")
    uri = device.config_url
    return TotpSetup(
        uri=uri, secret=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        qr_svg=segno.make(uri, error="m").svg_inline(scale=5, title="QR code of the authenticator setup"),
    )


@transaction.atomic
def totp_confirm(*, account: User, device: TOTPDevice, code: str, actor: Actor) -> list[str] | None:
    """Confirm a pending authenticator with a code it shows; returns the new backup codes (shown once), or
    None when the code is wrong. Any earlier authenticator and backup codes of the account are replaced."""
    device = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=account, confirmed=False).first()
    if device is None:  # confirmed (or replaced) meanwhile, in another tab
        return None
    # Its secret is on the page: throttling its codes would protect nothing and make a typo cost a wait.
    device.throttle_reset(commit=False)
    if not _TOTP_CODE.match(_compact(code)) or not device.verify_token(_compact(code)):
        return None
    TOTPDevice.objects.filter(user=account).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _backup_codes_replace(account)
    audit_record(actor=actor, action="admin.mfa_enrol", target=account,
                 details={"device": DEVICE_NAME, "backup_codes": len(codes)})
    return codes


@transaction.atomic
def backup_codes_renew(*, account: User, actor: Actor) -> list[str]:
    """New backup codes for an account with an authenticator; the old ones stop working."""
    if not has_authenticator(account):
        raise ValidationError("Set up an authenticator app first: backup codes come with it.")
    codes = _backup_codes_replace(account)
    audit_record(actor=actor, action="admin.mfa_backup_codes", target=account, details={"backup_codes": len(codes)})
    return codes


def _backup_codes_replace(account: User) -> list[str]:
    # The device stays (only its codes change): a session verified with a backup code stays verified.
    device = StaticDevice.objects.filter(user=account).order_by("pk").first() or StaticDevice.objects.create(
        user=account, name=BACKUP_DEVICE_NAME, confirmed=True)
    StaticToken.objects.filter(device=device).delete()
    codes = ["".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(_BACKUP_LENGTH))
             for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=_backup_digest(c)) for c in codes])
    return ["-".join(code[i:i + 4] for i in range(0, _BACKUP_LENGTH, 4)) for code in codes]


def _backup_digest(code: str) -> str:
    # 64 bits of an HMAC fit django-otp's 16-character token column; the code itself has 60 bits of entropy.
    key = hashlib.sha256(f"trustframe admin backup codes {settings.IDENTITY_KEY_SECRET}".encode()).digest()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()[:16]


def _compact(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


@dataclass(frozen=True)
class CodeCheck:
    """A second-step answer: the device that accepted the code, or when the next try is allowed."""

    device: TOTPDevice | StaticDevice | None = None
    throttled_until: datetime | None = None


@transaction.atomic
def second_factor_check(*, account: User, code: str) -> CodeCheck:
    """Check a 6-digit authenticator code or a backup code against that one device only (django-otp's
    match_token would count a failure on every other device of the account). A used backup code is gone;
    a TOTP code is accepted once (django-otp remembers the last time step)."""
    compact = _compact(code)
    if _TOTP_CODE.match(compact):
        device, token = TOTPDevice.objects.select_for_update().filter(user=account, confirmed=True).first(), compact
    elif len(compact) == _BACKUP_LENGTH and set(compact) <= set(_BACKUP_ALPHABET):
        device = StaticDevice.objects.select_for_update().filter(user=account, confirmed=True).first()
        token = _backup_digest(compact)
    else:
        return CodeCheck()
    if device is None:
        return CodeCheck()
    allowed, info = device.verify_is_allowed()
    if not allowed:
        return CodeCheck(throttled_until=(info or {}).get("locked_until") or timezone.now() + timedelta(seconds=1))
    return CodeCheck(device=device) if device.verify_token(token) else CodeCheck()


def _may_reset(actor: Actor, account: User) -> None:
    if not isinstance(actor, User):
        return  # the command line: its operator runs the server
    if actor.pk == account.pk:
        raise ValidationError("You cannot reset your own two-step verification: another Global administrator "
                              "can, or `manage.py resetmfa` on the server.")
    if account.is_superuser and not actor.is_superuser:
        raise ValidationError("Only a superuser can reset a superuser's two-step verification.")
    if not actor.has_perm("accounts.change_adminaccount"):
        raise ValidationError("Only a Global administrator or a superuser can reset two-step verification.")


@transaction.atomic
def admin_mfa_reset(*, account: User, actor: Actor) -> int:
    """Remove the account's authenticator and backup codes (a lost phone). With ADMIN_REQUIRE_MFA its
    sessions are sent back to the login at their next request, and it enrols again after its password;
    without, it signs in with its password alone until it enrols. Returns how many devices were removed."""
    if not account.is_staff:
        raise ValidationError(f"'{account}' is a directory user, not an admin account.")
    _may_reset(actor, account)
    removed = TOTPDevice.objects.filter(user=account).delete()[1].get(TOTPDevice._meta.label, 0)
    removed += StaticDevice.objects.filter(user=account).delete()[1].get(StaticDevice._meta.label, 0)
    audit_record(actor=actor, action="admin.mfa_reset", target=account, details={"devices_removed": removed})
    return removed
