"""Request quotas at the token endpoints (issue "hardening"; B2C's quotas as defaults; issue 18 item 3).

Fixed windows counted in the cache:

- per client IP per five minutes, before anything else is looked at (`retry_after`);
- per client per second, counted only once the client has authenticated (a public client: once it is known
  to exist), under the client id its app registration stores (`client_retry_after`). Counting the raw
  `client_id` before authentication let anyone who knows a daemon's (public) client id exhaust its quota
  with wrong secrets, and let the daemon multiply its own quota by spelling its id in other cases;
- per (client, IP) per five minutes for failed client authentications (`client_failure_retry_after`): a
  stranger's wrong secrets use up the stranger's budget only, never the client's quota. Past the budget
  the failures are answered 429 instead of 401, and are not written to the sign-in log. A correct secret
  is still served, even from that address: the budget counts failures, it does not lock the client out
  (client secrets are 240 random bits and certificates are signatures, so there is nothing to guess).

With Redis the counts are shared by every instance; without it each process counts alone. When the cache
is unreachable the limits are skipped (logged): lockout, which protects passwords, lives in the database
and does not depend on this.
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from identity.cache_guard import cache_call

IP_WINDOW_SECONDS = 300
CLIENT_WINDOW_SECONDS = 1
FAILURE_WINDOW_SECONDS = 300


def retry_after(*, client_id: str = "", ip: str | None = None) -> int | None:
    """Seconds to wait if the IP's quota is exhausted, else None. Counts this request.

    The token endpoint passes the IP only and counts the client after authentication. `client_id` is for
    callers with no client authentication step: it counts against that id's per-second quota as given.
    """
    wait = _count("ip", ip, settings.RATE_LIMIT_IP_PER_5_MINUTES, IP_WINDOW_SECONDS)
    if wait is None and client_id:
        wait = client_retry_after(client_id)
    return wait


def client_retry_after(client_id: str) -> int | None:
    """The authenticated client's per-second quota: seconds to wait, or None. Counts this request.

    `client_id` is the id as its app registration stores it (applications.selectors.application_find_cached
    resolves what the request spelled), so case and whitespace variants share one count.
    """
    return _count("client", client_id, settings.RATE_LIMIT_CLIENT_PER_SECOND, CLIENT_WINDOW_SECONDS)


def client_failure_retry_after(*, client_id: str, ip: str | None) -> int | None:
    """Count a failed client authentication against the (client, IP) budget: seconds to wait once it is
    exhausted, else None. `client_id` is normalised like the directory's ids (stripped, lower-case). A
    request that names no client (a malformed Authorization header) is left to the IP's quota."""
    client_id = client_id.strip().lower()
    if not client_id:
        return None
    subject = f"{client_id}|{ip or ''}"
    return _count("client-failure", subject, settings.RATE_LIMIT_CLIENT_AUTH_FAILURES_PER_5_MINUTES,
                  FAILURE_WINDOW_SECONDS)


def admin_login_retry_after(ip: str | None) -> int | None:
    """The admin login's own quota per client IP (accounts/admin_login.py): passwords and verification codes
    are each a guess. Seconds to wait once it is used up, else None. Counts this attempt."""
    return _count("admin_login", ip, settings.RATE_LIMIT_ADMIN_LOGIN_PER_5_MINUTES, IP_WINDOW_SECONDS)


def _count(name: str, subject: str | None, limit: int, window_seconds: int) -> int | None:
    if limit <= 0 or not subject:
        return None
    now = time.time()
    window = int(now // window_seconds)
    digest = hashlib.sha256(subject.encode("utf-8", "replace")).hexdigest()[:24]
    count = cache_call(_incr_or_start, f"rl:{name}:{digest}:{window}", window_seconds)
    if count is not None and count > limit:
        return max(1, math.ceil((window + 1) * window_seconds - now))
    return None


def _incr_or_start(key: str, window_seconds: int) -> int:
    """The window's count after this request (one round trip to Redis)."""
    redis = _redis_client(key)
    if redis is not None:
        # Django's RedisCache.incr is EXISTS then INCR (two round trips) and cannot start a window. INCR
        # creates the key; EXPIRE in the same pipeline bounds it (the key names its window, so renewing
        # the expiry on each request keeps it at most two windows).
        full_key = cache.make_and_validate_key(key)
        pipeline = redis.pipeline(transaction=False)
        pipeline.incr(full_key)
        pipeline.expire(full_key, window_seconds + 1)
        return pipeline.execute()[0]
    try:
        return cache.incr(key)
    except ValueError:  # first request of the window
        if cache.add(key, 1, timeout=window_seconds + 1):
            return 1
        return cache.incr(key)


def _redis_client(key: str):
    """The redis-py client behind Django's RedisCache, or None for any other cache backend."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    return backend._cache.get_client(key, write=True)  # Django's own client of the server (private API)
