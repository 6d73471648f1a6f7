"""Shared shape of Trustframe's operations commands (SPEC §7).

Every command: `--json` prints one JSON object on stdout and nothing else; without it, a few lines
for a person. Bad input (a `ValidationError` from a service or selector) becomes a `CommandError`
with a one-line message, so `manage.py` prints it on stderr and exits 1. The work runs in one
transaction, so a command that calls several services writes all of it or none of it.
"""

import json
import sys
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction


@dataclass(frozen=True)
class Output:
    """What a command reports: `data` for --json, `lines` for a person."""

    data: dict[str, Any]
    lines: list[str] = field(default_factory=list)


def one_line(exc: ValidationError) -> str:
    """All messages of a ValidationError joined into one line (CommandError prints one line)."""
    messages = [m for ms in exc.message_dict.values() for m in ms] if hasattr(exc, "error_dict") else exc.messages
    return " ".join(" ".join(str(m).split()) for m in messages) or "Invalid input."


def iso(moment: datetime | None) -> str | None:
    """UTC timestamps as Microsoft Graph writes them (…Z)."""
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def split_list(value: str) -> list[str]:
    """A comma-separated option ("displayName,givenName") as a list, blanks dropped."""
    return [item.strip() for item in value.split(",") if item.strip()]


def read_secret_line(stream: TextIO, prompt: str = "Password: ") -> str:
    """One line from stdin without its line ending; on a terminal, asked for without echo."""
    if stream is sys.stdin and stream.isatty():
        import getpass

        return getpass.getpass(prompt)  # prompts on the terminal, not on stdout
    line = stream.readline()
    return line[:-1] if line.endswith("\n") else line  # keep other whitespace: it may be part of it


class TrustframeCommand(BaseCommand):
    """Base for the SPEC §7 commands: subclasses define `add_command_arguments` and `run`."""

    # call_command(..., stdin=StringIO(...)) in tests, like Django's createsuperuser.
    stealth_options = ("stdin",)
    # False for a command that touches no database: it then needs none to be reachable (or to exist yet).
    atomic = True

    @property
    def command_name(self) -> str:
        return type(self).__module__.rsplit(".", 1)[-1]

    @property
    def actor(self) -> str:
        """The audit label of every write this command makes."""
        return f"manage.py {self.command_name}"

    def add_arguments(self, parser: CommandParser) -> None:
        self.add_command_arguments(parser)
        parser.add_argument("--json", action="store_true", help="Print one JSON object on stdout.")

    def add_command_arguments(self, parser: CommandParser) -> None:
        """The command's own arguments."""

    def run(self, **options: Any) -> Output:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic() if self.atomic else nullcontext():
                output = self.run(**options)
        except ValidationError as exc:
            raise CommandError(one_line(exc)) from None
        except IntegrityError:
            # Services validate first; this only happens when a concurrent write won the race.
            raise CommandError("The change conflicts with existing data; nothing was written.") from None
        if options["json"]:
            self.stdout.write(json.dumps(output.data, indent=2))
        else:
            self.stdout.write("\n".join(output.lines))

    @staticmethod
    def stdin(options: dict[str, Any]) -> TextIO:
        return options.get("stdin") or sys.stdin
