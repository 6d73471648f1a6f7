"""`manage.py rotatekeys` (SPEC §3, §7): a new signing key; retired keys stay published until their tokens expire."""

from typing import Any

from identity.keys.selectors import published_keys
from identity.keys.services import signing_key_rotate
from identity.management.base import Output, TrustframeCommand, iso


class Command(TrustframeCommand):
    help = "Create a new active signing key; previous keys stay in the JWKS until the tokens they signed expire."

    def run(self, **options: Any) -> Output:
        key = signing_key_rotate(actor=self.actor)
        published = [
            {"kid": k.kid, "active": k.active, "published_until": iso(k.published_until)} for k in published_keys()
        ]
        data = {"kid": key.kid, "key_size": key.key_size, "published_kids": [k["kid"] for k in published],
                "published": published}
        lines = [f"New signing key: {key.kid} (RSA {key.key_size})", "Published keys:"]
        lines += [
            f"  {k['kid']} " + ("(active)" if k["active"] else f"(retired, published until {k['published_until']})")
            for k in published
        ]
        return Output(data, lines)
