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

    # A stored hash carries its own cost parameters. One written with absurd ones (a tampered row, an
    # import) would make each verification take gigabytes or minutes: refuse anything over a ceiling.
    CEILING_FACTOR = 4

    def verify(self, password: str, encoded: str) -> bool:
        try:
            decoded = self.decode(encoded)
        except (ValueError, IndexError):
            return False
        if (
            decoded["memory_cost"] > self.memory_cost * self.CEILING_FACTOR
            or decoded["time_cost"] > self.time_cost * self.CEILING_FACTOR
            or decoded["parallelism"] > max(self.parallelism * self.CEILING_FACTOR, 4)
        ):
            return False
        return super().verify(password, encoded)
