"""Shared shape of Trustframe's operations commands (SPEC §7).

Every command: `--json` prints one JSON object on stdout and nothing else; without it, a few lines
for a person. Bad input (a `ValidationError` from a service or selector) becomes a `CommandError`
with a one-line message, so `manage.py` prints it on stderr and exits 1. The work runs in one
transaction, so a command that calls several services writes all of it or none of it.

With `--json`, failures are JSON too, so a script reads one shape: nothing on stdout and one object
`{"error": "<message>"}` on stderr. Bad input exits 1; a usage error (unknown option, missing
argument) exits 2 as argparse does; an unexpected error exits 1 (`--traceback` shows its traceback).
"""

import json
import sys
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn, TextIO

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


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Rows as aligned text columns for a person (--json is for scripts)."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    return [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]


def read_secret_line(stream: TextIO, prompt: str = "Password: ") -> str:
    """One line from stdin without its line ending; on a terminal, asked for without echo."""
    if stream is sys.stdin and stream.isatty():
        import getpass

        return getpass.getpass(prompt)  # prompts on the terminal, not on stdout
    line = stream.readline()
    return line[:-1] if line.endswith("\n") else line  # keep other whitespace: it may be part of it


def wants_json(argv: list[str]) -> bool:
    """Whether a command line asks for --json (or an abbreviation argparse would accept)."""
    return any(len(arg) > 2 and "--json".startswith(arg) for arg in argv)


def read_new_password(stream: TextIO) -> str:
    """A new password typed twice on the terminal without echo; never taken from an argument."""
    if not (stream is sys.stdin and stream.isatty()):
        raise ValidationError("No terminal to ask for the password on: pipe it in with --password-stdin.")
    import getpass

    password = getpass.getpass("New password: ")  # prompts on the terminal, not on stdout
    if password != getpass.getpass("New password (again): "):
        raise ValidationError("The two passwords do not match; nothing was changed.")
    return password


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

    def run_from_argv(self, argv: list[str]) -> None:
        # Known before argparse runs, so that its usage errors can be JSON as well.
        self._json_errors = wants_json(argv[2:])
        super().run_from_argv(argv)

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        if getattr(self, "_json_errors", False):
            def usage_error(message: str) -> NoReturn:
                self.write_error(f"{message} (see manage.py {subcommand} --help).")
                sys.exit(2)

            parser.error = usage_error  # type: ignore[method-assign]
        return parser

    def execute(self, *args: Any, **options: Any) -> Any:
        """Django's, but with --json from the command line every failure is one JSON object on stderr."""
        if not (options.get("json") and self._called_from_command_line) or options.get("traceback"):
            return super().execute(*args, **options)
        try:
            return super().execute(*args, **options)
        except CommandError as exc:  # bad input, and failed system checks
            self.write_error(str(exc))
            sys.exit(exc.returncode)
        except Exception as exc:  # a bug or an outage: still the shape a script can read
            self.write_error(f"Unexpected error ({type(exc).__name__}): {exc}")
            sys.exit(1)

    def write_error(self, message: str) -> None:
        self.stderr.write(json.dumps({"error": message}), style_func=lambda text: text)

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
