"""`manage.py createpolicy POLICY_ID ...` (SPEC §7): create or update a policy; re-running is harmless."""

import argparse
from typing import Any

from django.core.management.base import CommandParser

from identity.management.base import Output, TrustframeCommand, split_list
from policies.models import Policy
from policies.services import policy_create_or_update


def policy_data(policy: Policy) -> dict[str, Any]:
    return {
        "policy_id": policy.policy_id,
        "kind": policy.kind,
        "enabled": policy.enabled,
        "access_token_lifetime_minutes": policy.access_token_lifetime_minutes,
        "id_token_lifetime_minutes": policy.id_token_lifetime_minutes,
        "refresh_token_lifetime_days": policy.refresh_token_lifetime_days,
        # null means B2C's "No expiry" of the sliding window.
        "rolling_refresh_token_lifetime_days": policy.rolling_refresh_token_lifetime_days,
        "issuer_pattern": policy.issuer_pattern,
        "subject_claim": policy.subject_claim,
        "policy_claim": policy.policy_claim,
        "distinct_credential_messages": policy.distinct_credential_messages,
        "output_claims": policy.output_claim_types(),
    }


class Command(TrustframeCommand):
    help = "Create a policy (user flow), or update the given settings of an existing one."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("policy_id", metavar="POLICY_ID", help="e.g. B2C_1_ROPC_Auth (case-insensitive).")
        parser.add_argument("--kind", default=None, help="ropc (default for new policies), signup_signin, custom.")
        parser.add_argument("--access-token-minutes", type=int, default=None, metavar="N", help="5 to 1440.")
        parser.add_argument("--id-token-minutes", type=int, default=None, metavar="N", help="5 to 1440.")
        parser.add_argument("--refresh-token-days", type=int, default=None, metavar="N", help="1 to 90.")
        sliding = parser.add_mutually_exclusive_group()
        sliding.add_argument(
            "--sliding-window-days", type=int, default=None, metavar="N",
            help="Refresh token sliding window, 1 to 365 and not below the refresh token lifetime.",
        )
        sliding.add_argument("--no-sliding-expiry", action="store_true", help="B2C's 'No expiry' sliding window.")
        parser.add_argument("--issuer-pattern", default=None, help="AuthorityAndTenantGuid or AuthorityWithTfp.")
        parser.add_argument("--subject-claim", default=None, help="ObjectID or NotSupported.")
        parser.add_argument("--policy-claim", default=None, help="tfp or acr.")
        parser.add_argument(
            "--output-claims", default=None, metavar="CLAIMS",
            help="Comma-separated claim types, e.g. objectId,displayName,givenName (replaces the list).",
        )
        enabled = parser.add_mutually_exclusive_group()
        enabled.add_argument("--enabled", dest="enabled", action="store_true", default=None)
        enabled.add_argument("--disabled", dest="enabled", action="store_false")
        parser.add_argument(
            "--distinct-credential-messages", action=argparse.BooleanOptionalAction, default=None,
            help="Tell unknown user and wrong password apart in error messages (off by default).",
        )

    def run(self, **options: Any) -> Output:
        output_claims = options["output_claims"]
        policy, created = policy_create_or_update(
            actor=self.actor,
            policy_id=options["policy_id"],
            output_claims=split_list(output_claims) if output_claims is not None else None,
            no_sliding_expiry=options["no_sliding_expiry"],
            kind=options["kind"],
            enabled=options["enabled"],
            access_token_lifetime_minutes=options["access_token_minutes"],
            id_token_lifetime_minutes=options["id_token_minutes"],
            refresh_token_lifetime_days=options["refresh_token_days"],
            rolling_refresh_token_lifetime_days=options["sliding_window_days"],
            issuer_pattern=options["issuer_pattern"],
            subject_claim=options["subject_claim"],
            policy_claim=options["policy_claim"],
            distinct_credential_messages=options["distinct_credential_messages"],
        )
        data = {**policy_data(policy), "created": created}
        sliding = data["rolling_refresh_token_lifetime_days"]
        return Output(data, [
            f"{'Created' if created else 'Updated'} policy {policy.policy_id} ({policy.kind}, "
            f"{'enabled' if policy.enabled else 'disabled'}).",
            f"  access token {policy.access_token_lifetime_minutes} min, id token {policy.id_token_lifetime_minutes} "
            f"min, refresh token {policy.refresh_token_lifetime_days} days, sliding window "
            f"{'no expiry' if sliding is None else f'{sliding} days'}",
            f"  issuer {policy.issuer_pattern}, sub {policy.subject_claim}, policy claim {policy.policy_claim}, "
            f"distinct credential messages {'on' if policy.distinct_credential_messages else 'off'}",
            f"  output claims: {', '.join(data['output_claims']) or '(none)'}",
        ])
