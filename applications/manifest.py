"""Parsing the `appRoles` array of an Azure app manifest (SPEC §6), validated before anything is written."""

import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

MEMBER_TYPES = ("Application", "User")


@dataclass(frozen=True)
class AppRoleSpec:
    role_id: uuid.UUID
    value: str
    display_name: str
    description: str
    member_types: tuple[str, ...]
    enabled: bool


def parse_member_types(value: Any, where: str = "") -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    types = tuple(t for t in (str(item).strip() for item in items) if t) if isinstance(items, list | tuple) else ()
    if not types:
        raise ValidationError(f"{where}allowedMemberTypes must list at least one of {', '.join(MEMBER_TYPES)}.")
    unknown = [t for t in types if t not in MEMBER_TYPES]
    if unknown:
        raise ValidationError(f"{where}unknown member type '{unknown[0]}' (allowed: {', '.join(MEMBER_TYPES)}).")
    return tuple(dict.fromkeys(types))


def validate_role_value(value: Any, where: str = "") -> str:
    if value is None and where:
        raise ValidationError(f"{where}value is missing; give the role a value without spaces, e.g. app.read.")
    if not isinstance(value, str) or not value or any(c.isspace() for c in value) or len(value) > 120:
        raise ValidationError(
            f"{where}value must be a non-empty string without spaces, at most 120 characters, e.g. app.read "
            f"(got {value!r})."
        )
    return value


def _where(index: int, item: Any) -> str:
    """How an error names the role: its place in the array, and its value when it has a usable one."""
    value = item.get("value") if isinstance(item, dict) else None
    named = f" ('{value}')" if isinstance(value, str) and value.strip() and len(value) <= 120 else ""
    return f"appRoles[{index}]{named}: "


def _role_id(item: dict, where: str) -> uuid.UUID:
    raw = item.get("id")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValidationError(
            f"{where}id is missing; every app role needs a GUID id, e.g. \"id\": \"{uuid.uuid4()}\"."
        )
    try:
        if isinstance(raw, str):
            return uuid.UUID(raw)
    except ValueError:
        pass
    raise ValidationError(f"{where}id must be a GUID such as \"{uuid.uuid4()}\" (got {raw!r}).")


def _role_spec(item: Any, index: int) -> AppRoleSpec:
    where = _where(index, item)
    if not isinstance(item, dict):
        raise ValidationError(
            f"{where}each app role must be a JSON object with id, value, displayName and allowedMemberTypes "
            f"(got {type(item).__name__} {json.dumps(item)[:40]})."
        )
    role_id = _role_id(item, where)
    value = validate_role_value(item.get("value"), where)
    display_name = item.get("displayName") or value
    if not isinstance(display_name, str):
        raise ValidationError(f"{where}displayName must be a string (got {display_name!r}).")
    enabled = item.get("isEnabled", True)
    if not isinstance(enabled, bool):
        raise ValidationError(f"{where}isEnabled must be true or false (got {enabled!r}).")
    return AppRoleSpec(
        role_id=role_id, value=value, display_name=display_name[:120],
        description=str(item.get("description") or ""),
        member_types=parse_member_types(item.get("allowedMemberTypes"), where), enabled=enabled,
    )


def _refuse_duplicates(specs: list[AppRoleSpec]) -> None:
    for attr, label in (("role_id", "id"), ("value", "value")):
        first_at: dict[object, int] = {}
        for index, spec in enumerate(specs):
            key = getattr(spec, attr)
            if key in first_at:
                raise ValidationError(
                    f"appRoles[{index}] ('{spec.value}'): {label} '{key}' is also the {label} of "
                    f"appRoles[{first_at[key]}]; each app role needs its own {label}."
                )
            first_at[key] = index


def parse_app_roles(text: str) -> list[AppRoleSpec]:
    """Accepts `[...]`, `{"appRoles": [...]}` or the `"appRoles": [...]` fragment the portal shows."""
    source = text.strip().rstrip(",")
    if source.startswith('"appRoles"'):
        source = "{" + source + "}"
    try:
        data = json.loads(source)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
    if isinstance(data, dict):
        data = data.get("appRoles")
    if not isinstance(data, list):
        raise ValidationError("Expected an appRoles array.")
    specs = [_role_spec(item, i) for i, item in enumerate(data)]
    _refuse_duplicates(specs)
    return specs
