"""`manage.py signins [--user U] [--app A] [--result success|failure] [--ip IP] [--since ISO] [--until ISO]
[--limit N]`.

The sign-in log, newest first, filtered as the admin's changelist is (audit.selectors). With --json:
`{"events": [...], "truncated": bool}`, each event in the shape of Microsoft Graph's signIn resource
(createdDateTime, userId, userPrincipalName, appId, appDisplayName, ipAddress, status {errorCode,
failureReason}) plus what B2C's token endpoint adds (grantType, policyId, status.error).
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandParser

from audit.models import SignInEvent
from audit.selectors import MOMENT_HELP, RESULTS, SignInFilter, sign_in_events, with_app
from identity.admin_display import moment_text
from identity.management.base import Output, TrustframeCommand, iso

DEFAULT_LIMIT = 100
MAX_LIMIT = 100_000  # the whole answer is held in memory: a longer log is read in time slices


def event_data(event: SignInEvent) -> dict[str, Any]:
    user = event.user
    return {
        "id": str(event.pk),
        "createdDateTime": iso(event.created_at),
        "result": "success" if event.succeeded else "failure",
        "userId": str(user.object_id) if user else None,
        "userPrincipalName": str(user) if user else None,
        "signInName": event.sign_in_name or None,
        "appId": event.client_id or None,
        "appDisplayName": event.app_name,
        "ipAddress": event.ip_address,
        "grantType": event.grant_type or None,
        "policyId": event.policy_id or None,
        "status": {
            "errorCode": event.result_code or None,
            "error": event.error or None,
            "failureReason": (event.failure_reason or event.error or None) if not event.succeeded else None,
        },
    }


def event_line(event: SignInEvent) -> str:
    who = str(event.user) if event.user else (event.sign_in_name or "-")
    app = event.app_name or event.client_id or "-"
    result = "success" if event.succeeded else f"failure {event.result_code or event.error}"
    when = moment_text(event.created_at)
    line = f"{when}  {result}  {who}  {app}  {event.grant_type or '-'}  {event.ip_address or '-'}"
    return f"{line}  {event.failure_reason}" if event.failure_reason else line


class Command(TrustframeCommand):
    help = "List sign-in events (token requests), newest first, filtered by user, app, result and time."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", default="", help="User name, email or object id.")
        parser.add_argument("--app", default="", help="Client id, App ID URI or app name.")
        parser.add_argument("--result", default="", help=" or ".join(RESULTS) + ".")
        parser.add_argument("--ip", default="", help="The client's IP address.")
        parser.add_argument("--since", default="", help=f"From this moment on (inclusive): {MOMENT_HELP}.")
        parser.add_argument("--until", default="", help="Before this moment (a bare date: to the end of that day).")
        parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT,
                            help=f"At most this many events (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}).")

    def run(self, **options: Any) -> Output:
        limit = options["limit"]
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError(f"--limit must be between 1 and {MAX_LIMIT} (got {limit}).")
        criteria = SignInFilter.parse(ip_address=options["ip"],
                                      **{k: options[k] for k in ("user", "app", "result", "since", "until")})
        found = list(with_app(sign_in_events(criteria)).select_related("user")[:limit + 1])
        events, truncated = found[:limit], len(found) > limit
        lines = [event_line(e) for e in events] or ["No sign-in events match."]
        if truncated:
            lines.append(f"(the newest {limit}; more match: narrow with --since/--until or raise --limit)")
        return Output({"events": [event_data(e) for e in events], "truncated": truncated}, lines)
