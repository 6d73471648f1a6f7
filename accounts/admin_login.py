"""The admin login's password step (issue 18 item 2): the token endpoint's defences, with counters of its own.

`/admin/login/` was an unthrottled password oracle. Now each attempt, in this order:
- counts against the per-IP quota `RATE_LIMIT_ADMIN_LOGIN_PER_5_MINUTES` (its own, not the token
  endpoint's; refused attempts are not recorded, so a flood does not become a flood of writes);
- is refused at once when smart lockout holds the name, in the admin namespace (lockout.NAMESPACE_ADMIN):
  an admin `alice` and a directory user `alice` never share a counter;
- runs its one Argon2 verification inside the hashing gate (busy: "try again", never a 500), against a
  dummy hash when no admin account has the name, so an unknown name takes as long as a wrong password;
- writes a sign-in event (grant type "admin"), success or failure with its reason, never the password.

The second factor (accounts/admin_mfa.py) and the pages (accounts/admin_login_views.py) come after.
"""

import logging
from dataclasses import dataclass
from enum import Enum

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import DatabaseError
from django.utils import timezone

from accounts import lockout
from accounts.authentication import _dummy_hash
from accounts.hashing_gate import HashingBusy, hashing_slot
from accounts.models import AdminAccount, User
from accounts.passwords import PASSWORD_MAX_LENGTH
from accounts.sign_in_names import normalize_sign_in_name
from audit.sign_in_buffer import ADMIN_GRANT_TYPE, SignInRecord, sign_in_events
from identity import ratelimit

logger = logging.getLogger(__name__)
NAMESPACE = lockout.NAMESPACE_ADMIN


class Refusal(Enum):
    """Why an admin sign-in step was refused: (Entra's AADSTS code, short error, reason for the log)."""

    UNKNOWN_NAME = ("AADSTS50034", "invalid_credentials", "Unknown admin name.")
    WRONG_PASSWORD = ("AADSTS50126", "invalid_credentials", "Wrong password.")
    TOO_LONG = ("AADSTS50126", "invalid_credentials", "Password longer than the maximum; not checked.")
    DISABLED = ("AADSTS50057", "account_disabled", "Admin account disabled (the password was right).")
    LOCKED = ("AADSTS50053", "account_locked", "Locked by smart lockout: too many wrong passwords.")
    BUSY = ("", "temporarily_unavailable", "Every password-hashing slot was busy; asked to try again.")
    RATE_LIMITED = ("", "rate_limited", "Too many attempts from this IP address.")
    WRONG_CODE = ("AADSTS500121", "invalid_code", "Wrong verification code.")
    CODE_THROTTLED = ("AADSTS500121", "code_throttled", "Verification code throttled after wrong codes.")

    def __init__(self, code: str, error: str, reason: str) -> None:
        self.code, self.error, self.reason = code, error, reason


@dataclass(frozen=True)
class PasswordCheck:
    """The password step's answer: the account when the password was right and it may sign in."""

    account: AdminAccount | None = None
    refusal: Refusal | None = None
    retry_after: int | None = None  # seconds, when rate limited


def quota_wait(ip: str | None) -> int | None:
    """Seconds to wait when this IP has used up the admin login's quota (counts this attempt), else None.
    Every POST of the login and of the verification step counts: each is a guess."""
    return ratelimit.admin_login_retry_after(ip)


def admin_account_by_name(username: str) -> AdminAccount | None:
    name = normalize_sign_in_name(username)
    return AdminAccount.objects.filter(username=name).first() if name else None


def admin_password_check(*, username: str, password: str, ip: str | None) -> PasswordCheck:
    """Check an admin's user name and password under quota, lockout and the hashing gate; refusals are
    recorded here, a success by `admin_sign_in_succeeded` once every step of the sign-in has passed."""
    wait = quota_wait(ip)
    if wait is not None:
        return PasswordCheck(refusal=Refusal.RATE_LIMITED, retry_after=wait)
    if lockout.known_locked(username, ip=ip, namespace=NAMESPACE):
        return _refused(username, None, ip, Refusal.LOCKED)
    if len(password) > PASSWORD_MAX_LENGTH:
        lockout.record_failure(username, password, ip=ip, namespace=NAMESPACE)
        return _refused(username, None, ip, Refusal.TOO_LONG)
    try:
        with hashing_slot():
            # The database's word on the lock, once a slot is held: attempts queued behind a burst see
            # every failure recorded before them, so a burst buys no more guesses than the threshold.
            state = lockout.lock_state(username, ip=ip, namespace=NAMESPACE)
            if state.locked_until is not None:
                return _refused(username, None, ip, Refusal.LOCKED)
            account = admin_account_by_name(username)
            if not _verify(account, password):
                lockout.record_failure(username, password, ip=ip, namespace=NAMESPACE)
                refusal = Refusal.UNKNOWN_NAME if account is None else Refusal.WRONG_PASSWORD
                return _refused(username, account, ip, refusal)
    except HashingBusy:
        return _refused(username, None, ip, Refusal.BUSY)
    if state.episode:
        lockout.record_success(username, ip=ip, namespace=NAMESPACE)
    if not account.is_active:
        return _refused(username, account, ip, Refusal.DISABLED)
    return PasswordCheck(account=account)


def _verify(account: User | None, password: str) -> bool:
    """One hash verification, against a dummy when there is no account or no usable password (equal time);
    a hash made with older parameters is replaced (Django's check_password setter)."""
    usable = account is not None and account.has_usable_password()
    if not usable:
        check_password(password, _dummy_hash(tuple(settings.PASSWORD_HASHERS)))
        return False

    def rehash(raw: str) -> None:
        account.set_password(raw)
        User.objects.filter(pk=account.pk).update(password=account.password)

    return check_password(password, account.password, setter=rehash)


def verify_current_password(*, account: User, password: str) -> Refusal | None:
    """The current password, asked again (changing it): inside the hashing gate and under the admin lockout,
    like the login; a wrong one counts as a failed sign-in. None when it is right."""
    name = account.username or ""
    if lockout.known_locked(name, namespace=NAMESPACE):
        return Refusal.LOCKED
    if len(password) > PASSWORD_MAX_LENGTH:
        return Refusal.TOO_LONG
    try:
        with hashing_slot():
            if lockout.locked_until(name, namespace=NAMESPACE) is not None:
                return Refusal.LOCKED
            if _verify(account, password):
                return None
            lockout.record_failure(name, password, namespace=NAMESPACE)
            return Refusal.WRONG_PASSWORD
    except HashingBusy:
        return Refusal.BUSY


def _refused(username: str, account: User | None, ip: str | None, refusal: Refusal) -> PasswordCheck:
    admin_sign_in_record(sign_in_name=username, account=account, ip=ip, refusal=refusal)
    return PasswordCheck(refusal=refusal)


def admin_sign_in_succeeded(*, account: User, ip: str | None) -> None:
    admin_sign_in_record(sign_in_name=account.username or "", account=account, ip=ip, refusal=None)


def admin_sign_in_record(*, sign_in_name: str, account: User | None, ip: str | None, refusal: Refusal | None) -> None:
    """One sign-in event of grant type "admin" (never a password or code). Like the token endpoint's, it
    never turns an outcome into an error: a failure to record is logged."""
    try:
        sign_in_events.add(SignInRecord(
            created_at=timezone.now(), user_id=account.pk if account is not None else None,
            sign_in_name=sign_in_name[:256], grant_type=ADMIN_GRANT_TYPE, ip_address=ip,
            succeeded=refusal is None, error=refusal.error if refusal else "",
            result_code=refusal.code if refusal else "", failure_reason=refusal.reason if refusal else "",
        ))
    except (DatabaseError, ValueError):
        logger.exception("could not record an admin sign-in event")
