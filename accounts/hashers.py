"""Argon2id with parameters chosen in settings (SPEC §1), not Django's defaults."""

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    """Django's Argon2 hasher (argon2id), reading cost parameters from settings.

    It keeps the algorithm name "argon2", so hashes stay compatible; `must_update` compares the
    stored parameters with these, so a change takes effect as users sign in (rehash on verify).
    """

    @property
    def time_cost(self) -> int:  # type: ignore[override]
        return settings.ARGON2_TIME_COST

    @property
    def memory_cost(self) -> int:  # type: ignore[override]
        return settings.ARGON2_MEMORY_COST_KIB

    @property
    def parallelism(self) -> int:  # type: ignore[override]
        return settings.ARGON2_PARALLELISM
