"""The shared command base: one-line errors, one transaction, --json (SPEC §7)."""

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from accounts.models import User
from accounts.services import user_create
from identity.management.base import Output, TrustframeCommand, iso, one_line, split_list


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
