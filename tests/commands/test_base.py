"""The shared command base: one-line errors, one transaction, --json (SPEC §7)."""

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connections

from accounts.models import User
from accounts.services import user_create
from identity.management.base import Output, TrustframeCommand, iso, one_line, split_list, wants_json


class WritesThenFails(TrustframeCommand):
    """Two steps: the first writes, the second fails the way it is told to."""

    error: Exception

    def run(self, **options):
        user_create(actor=self.actor, username="half-written")
        raise self.error


class Succeeds(TrustframeCommand):
    def run(self, **options):
        return Output({"answer": 42, "when": None}, ["The answer is 42."])


@pytest.mark.parametrize("error", [
    ValidationError("Second step failed."),
    ValidationError({"name": ["bad name"], "uri": ["bad\nuri"]}),
    IntegrityError("duplicate key"),
])
def test_a_failure_after_a_write_rolls_the_whole_command_back(db, error):
    command = WritesThenFails()
    command.error = error
    with pytest.raises(CommandError) as excinfo:
        call_command(command, stdout=StringIO())
    assert "\n" not in str(excinfo.value)
    assert not User.objects.filter(username="half-written").exists()


def test_one_line_joins_every_message():
    assert one_line(ValidationError({"a": ["first"], "b": ["second\nline"]})) == "first second line"
    assert one_line(ValidationError(["x", "y"])) == "x y"


def test_json_output_is_one_object_and_text_output_is_the_lines(db):
    out = StringIO()
    call_command(Succeeds(), "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"answer": 42, "when": None}
    out = StringIO()
    call_command(Succeeds(), stdout=out)
    assert out.getvalue() == "The answer is 42.\n"


def test_actor_label_names_the_command():
    from accounts.management.commands.createuser import Command

    assert Command().actor == "manage.py createuser"


def test_helpers():
    from datetime import UTC, datetime, timedelta, timezone

    assert iso(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02T03:04:05Z"
    assert iso(datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))) == "2024-01-02T03:04:05Z"
    assert iso(None) is None
    assert split_list(" objectId, ,displayName ") == ["objectId", "displayName"]


class Explodes(TrustframeCommand):
    def run(self, **options):
        raise RuntimeError("disk on fire")


@pytest.fixture(autouse=True)
def keep_the_test_database_connection(monkeypatch):
    # run_from_argv closes every connection when it ends, as a process about to exit may: the test's
    # transaction lives on one (on PostgreSQL, closing it would end the test's database session).
    monkeypatch.setattr(connections, "close_all", lambda: None)


def run_from_argv(command: TrustframeCommand, *args: str) -> int:
    """The command as `manage.py` runs it (argv, exit status), in this process."""
    with pytest.raises(SystemExit) as excinfo:
        command.run_from_argv(["manage.py", "testcommand", *args])
        raise SystemExit(0)
    return excinfo.value.code


@pytest.mark.parametrize(("error", "text"), [
    (ValidationError("Second step failed."), "Second step failed."),
    (ValidationError({"name": ["bad name"], "uri": ["bad\nuri"]}), "bad name bad uri"),
    (IntegrityError("duplicate key"), "The change conflicts with existing data; nothing was written."),
])
def test_with_json_a_failure_is_one_json_object_on_stderr_and_nothing_on_stdout(db, capsys, error, text):
    command = WritesThenFails()
    command.error = error
    assert run_from_argv(command, "--json", "--skip-checks") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and json.loads(err) == {"error": text}
    assert not User.objects.filter(username="half-written").exists()


def test_without_json_a_failure_is_djangos_one_line(db, capsys):
    command = WritesThenFails()
    command.error = ValidationError("Second step failed.")
    assert run_from_argv(command, "--skip-checks") == 1
    assert capsys.readouterr() == ("", "CommandError: Second step failed.\n")


@pytest.mark.parametrize("args", [("--json", "--bogus"), ("--bogus", "--js"), ("--jso", "--verbosity", "9")])
def test_with_json_a_usage_error_is_json_too_and_exits_2(db, capsys, args):
    assert run_from_argv(Succeeds(), *args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    error = json.loads(err)["error"]
    assert ("unrecognized arguments" in error or "invalid choice" in error) and "manage.py testcommand --help" in error


def test_with_json_an_unexpected_error_is_json_and_traceback_still_shows_it(db, capsys):
    assert run_from_argv(Explodes(), "--json", "--skip-checks") == 1
    assert json.loads(capsys.readouterr().err) == {"error": "Unexpected error (RuntimeError): disk on fire"}
    with pytest.raises(RuntimeError, match="disk on fire"):
        Explodes().run_from_argv(["manage.py", "testcommand", "--json", "--skip-checks", "--traceback"])


def test_with_json_success_is_unchanged(db, capsys):
    assert run_from_argv(Succeeds(), "--json", "--skip-checks") == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {"answer": 42, "when": None} and err == ""


def test_call_command_still_raises_for_callers_in_python(db):
    command = WritesThenFails()
    command.error = ValidationError("Second step failed.")
    with pytest.raises(CommandError, match=r"^Second step failed\.$"):
        call_command(command, "--json", stdout=StringIO(), stderr=StringIO())


def test_json_abbreviations_that_argparse_accepts_count():
    assert wants_json(["x", "--json"]) and wants_json(["--j"]) and wants_json(["--jso"])
    assert not wants_json(["json", "--", "-j", "--description", "--jsonx"])
