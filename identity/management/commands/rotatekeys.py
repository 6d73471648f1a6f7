"""`manage.py rotatekeys [--retire-now KID]` (SPEC §3, §7).

Without options: a new active signing key; retired keys stay published until their tokens expire.
`--retire-now KID`, for a key that leaked: withdrawn from the JWKS at once (tokens it signed stop
validating), with a new active key when it was the active one; never leaves the tenant without one.
"""

from typing import Any

from django.core.management.base import CommandParser

from identity.keys.models import SigningKey
from identity.keys.selectors import published_keys
from identity.keys.services import signing_key_rotate, signing_key_withdraw
from identity.management.base import Output, TrustframeCommand, iso
from identity.views.jwks import JWKS_MAX_AGE


class Command(TrustframeCommand):
    help = ("Create a new active signing key; previous keys stay in the JWKS until the tokens they signed expire. "
            "--retire-now KID withdraws a compromised key from the JWKS at once.")

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--retire-now", metavar="KID", default=None,
            help="Emergency: remove this key from the JWKS now, so tokens it signed no longer validate (a new "
            "active key is made if it was the active one).",
        )

    def run(self, **options: Any) -> Output:
        if options["retire_now"] is not None:
            return self.withdraw(options["retire_now"])
        key = signing_key_rotate(actor=self.actor)
        published = published_list()
        data = {"kid": key.kid, "key_size": key.key_size, "published_kids": [k["kid"] for k in published],
                "published": published}
        return Output(data, [f"New signing key: {key.kid} (RSA {key.key_size})", *published_lines(published)])

    def withdraw(self, kid: str) -> Output:
        withdrawal = signing_key_withdraw(actor=self.actor, kid=kid)
        active = SigningKey.objects.filter(active=True).first()
        published = published_list()
        data = {
            "withdrawn_kid": withdrawal.withdrawn.kid, "changed": withdrawal.changed,
            "new_key": withdrawal.replacement is not None, "kid": active.kid if active else None,
            "key_size": active.key_size if active else None,
            "published_kids": [k["kid"] for k in published], "published": published,
        }
        if not withdrawal.changed:
            lines = [f"Signing key {withdrawal.withdrawn.kid} was no longer published: nothing changed."]
        else:
            lines = [f"Withdrew signing key {withdrawal.withdrawn.kid} from the JWKS: tokens it signed stop "
                     f"validating once a resource server refetches it (the JWKS may be cached {JWKS_MAX_AGE} s; "
                     "refresh resource servers that keep keys longer)."]
            if withdrawal.replacement is not None:
                lines.append(f"New signing key: {withdrawal.replacement.kid} (RSA {withdrawal.replacement.key_size})")
        return Output(data, [*lines, *published_lines(published)])


def published_list() -> list[dict[str, Any]]:
    return [{"kid": k.kid, "active": k.active, "published_until": iso(k.published_until)} for k in published_keys()]


def published_lines(published: list[dict[str, Any]]) -> list[str]:
    return ["Published keys:"] + [
        f"  {k['kid']} " + ("(active)" if k["active"] else f"(retired, published until {k['published_until']})")
        for k in published
    ]
