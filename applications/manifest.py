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
    if not isinstance(items, list | tuple) or not items:
        raise ValidationError(f"{where}allowedMemberTypes must list at least one of {', '.join(MEMBER_TYPES)}.")
    types = tuple(str(t).strip() for t in items)
    unknown = [t for t in types if t not in MEMBER_TYPES]
    if unknown:
        raise ValidationError(f"{where}unknown member type '{unknown[0]}' (allowed: {', '.join(MEMBER_TYPES)}).")
    return tuple(dict.fromkeys(types))


def validate_role_value(value: Any, where: str = "") -> str:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value) or len(value) > 120:
        raise ValidationError(f"{where}value must be a non-empty string without spaces (got {value!r}).")
    return value


def _role_spec(item: Any, index: int) -> AppRoleSpec:
    where = f"appRoles[{index}]: "
    if not isinstance(item, dict):
        raise ValidationError(f"{where}each app role must be a JSON object.")
    try:
        role_id = uuid.UUID(str(item.get("id", "")))
    except ValueError:
        raise ValidationError(f"{where}id must be a GUID (got {item.get('id')!r}).") from None
    value = validate_role_value(item.get("value"), where)
    display_name = item.get("displayName") or value
    if not isinstance(display_name, str):
        raise ValidationError(f"{where}displayName must be a string.")
    enabled = item.get("isEnabled", True)
    if not isinstance(enabled, bool):
        raise ValidationError(f"{where}isEnabled must be true or false.")
    return AppRoleSpec(
        role_id=role_id, value=value, display_name=display_name[:120],
        description=str(item.get("description") or ""),
        member_types=parse_member_types(item.get("allowedMemberTypes"), where), enabled=enabled,
    )


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
    for attr in ("role_id", "value"):
        seen = [getattr(s, attr) for s in specs]
        duplicates = {str(v) for v in seen if seen.count(v) > 1}
        if duplicates:
            raise ValidationError(f"Duplicate app role {attr.replace('role_', '')}: {', '.join(sorted(duplicates))}.")
    return specs
