"""Cache calls that degrade instead of stalling: after one failure, skip the cache for a few seconds.

Lockout and quotas use the cache only as a fast path (the database is the authority for lockout).
With Redis refusing, each call fails fast; with Redis hung, each call would wait out its socket
timeout, several times per request. The breaker makes that one timeout per process per interval.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)
BREAK_SECONDS = 5.0
_down_until = 0.0
_lock = threading.Lock()


def cache_call(call: Callable[..., Any], *args: Any, default: Any = None, **kwargs: Any) -> Any:
    global _down_until
    if time.monotonic() < _down_until:
        return default
    try:
        return call(*args, **kwargs)
    except Exception as exc:  # any cache failure: the callers have a path without it
        with _lock:
            _down_until = time.monotonic() + BREAK_SECONDS
        logger.warning("cache unavailable (%s); skipping it for %.0f s", type(exc).__name__, BREAK_SECONDS)
        return default


def reset() -> None:
    """Tests: forget a recorded outage."""
    global _down_until
    _down_until = 0.0
