"""Request quotas at the token endpoints (issue "hardening"; B2C's quotas as defaults).

Fixed windows counted in the cache: per client id per second, per client IP per five minutes. With
Redis the counts are shared by every instance; without it each process counts alone. When the
cache is unreachable the limits are skipped (logged): lockout, which protects passwords, lives in
the database and does not depend on this.
"""

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from identity.cache_guard import cache_call


@dataclass(frozen=True)
class Quota:
    name: str
    limit: int
    window_seconds: int


def _quotas() -> tuple[Quota, Quota]:
    return (
        Quota("client", settings.RATE_LIMIT_CLIENT_PER_SECOND, 1),
        Quota("ip", settings.RATE_LIMIT_IP_PER_5_MINUTES, 300),
    )


def retry_after(*, client_id: str, ip: str | None) -> int | None:
    """Seconds to wait if a quota is exhausted, else None. Counts this request."""
    now = time.time()
    for quota, subject in zip(_quotas(), (client_id, ip), strict=True):
        wait = quota_retry_after(quota, subject, now)
        if wait is not None:
            return wait
    return None


def quota_retry_after(quota: Quota, subject: str | None, now: float | None = None) -> int | None:
    """Seconds to wait if `subject` has used up `quota` in this window, else None. Counts this request.
    Any quota by its own name (the token endpoint's above, the admin login's in accounts/admin_login.py)."""
    if quota.limit <= 0 or not subject:
        return None
    now = time.time() if now is None else now
    window = int(now // quota.window_seconds)
    digest = hashlib.sha256(subject.encode("utf-8", "replace")).hexdigest()[:24]
    count = _increment(f"rl:{quota.name}:{digest}:{window}", quota.window_seconds)
    if count is not None and count > quota.limit:
        return max(1, math.ceil((window + 1) * quota.window_seconds - now))
    return None


def _increment(key: str, window_seconds: int) -> int | None:
    """The window's count after this request, or None when the cache is unavailable (quota skipped)."""
    return cache_call(_incr_or_start, key, window_seconds)


def _incr_or_start(key: str, window_seconds: int) -> int:
    try:
        return cache.incr(key)
    except ValueError:  # first request of the window
        if cache.add(key, 1, timeout=window_seconds + 1):
            return 1
        return cache.incr(key)
