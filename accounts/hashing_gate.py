"""A bound on concurrent password hashes per process (SPEC §1; issue "password hashing under pressure").

Each Argon2 verification holds ~19 MiB for ~20 ms. Without a bound, a burst of 200 sign-ins on one
process would hold ~4 GiB at once. Excess requests wait up to PASSWORD_HASH_WAIT_SECONDS for a slot,
then are told to come back (503 with Retry-After) instead of piling up.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

_semaphore: threading.BoundedSemaphore | None = None
_size = 0
_lock = threading.Lock()


class HashingBusy(Exception):
    """Every hashing slot stayed busy for the whole wait."""


def _gate() -> threading.BoundedSemaphore:
    global _semaphore, _size
    with _lock:
        if _semaphore is None or _size != settings.PASSWORD_HASH_CONCURRENCY:
            _size = settings.PASSWORD_HASH_CONCURRENCY
            _semaphore = threading.BoundedSemaphore(max(1, _size))
        return _semaphore


@contextmanager
def hashing_slot() -> Iterator[None]:
    gate = _gate()
    if not gate.acquire(timeout=settings.PASSWORD_HASH_WAIT_SECONDS):
        raise HashingBusy
    try:
        yield
    finally:
        gate.release()
