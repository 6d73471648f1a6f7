"""Password rules shared by the admin, the commands and (later) the token endpoint."""

from django.core.exceptions import ValidationError

# Argon2 cost does not grow with length, but parsing and hashing a megabyte "password" is pointless
# work an attacker controls; 256 characters is far beyond any passphrase.
PASSWORD_MAX_LENGTH = 256


class MaximumLengthValidator:
    def validate(self, password: str, user=None) -> None:
        if len(password) > PASSWORD_MAX_LENGTH:
            raise ValidationError(
                f"This password is too long (at most {PASSWORD_MAX_LENGTH} characters).",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return f"Your password must contain at most {PASSWORD_MAX_LENGTH} characters."
