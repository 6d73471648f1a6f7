"""Admin accounts and their roles (issue 17 items 1 and 4): one code path for the admin and commands.

An admin account signs in to `/admin/` and nothing else; it is not a directory user and no policy
issues it a token. Its powers are built-in roles (accounts/roles.py), or everything for a superuser
("Global administrator" without limits, as `createsuperuser` makes).
"""

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import AdminAccount, User
from accounts.roles import ROLES, role_named
from accounts.services import email_validate, username_validate
from audit.services import Actor, audit_record

NEEDS_A_USER_NAME = "An admin account needs a user name: it signs in with it."


def admin_account_get(username: str) -> AdminAccount:
    """An admin account by user name (any case); ValidationError if there is none."""
    try:
        return AdminAccount.objects.get_by_natural_key(username)
    except AdminAccount.DoesNotExist:
        raise ValidationError(f"Unknown admin account '{username}'.", code="unknown_admin") from None


def roles_resolve(names: Iterable[str]) -> list[Group]:
    """The groups of these built-in role names (any case); ValidationError naming an unknown one."""
    roles = []
    for name in names:
        role = role_named(name)
        if role is None:
            known = ", ".join(r.name for r in ROLES)
            raise ValidationError(f"Unknown admin role '{name}'. The built-in roles are: {known}.")
        roles.append(role)
    groups = {g.name: g for g in Group.objects.filter(name__in=[r.name for r in roles])}
    missing = [r.name for r in roles if r.name not in groups]
    if missing:
        raise ValidationError(f"The role(s) {', '.join(missing)} are not set up; run `manage.py migrate`.")
    return [groups[r.name] for r in dict.fromkeys(roles)]


def _may_make_superusers(actor: Actor) -> None:
    """Whoever may make a superuser may become one: only a superuser (or the command line, whose operator
    runs the server) may."""
    if isinstance(actor, User) and not actor.is_superuser:
        raise ValidationError("Only a superuser can make an admin account a superuser.")


@transaction.atomic
def admin_account_create(
    *, actor: Actor, username: str, password: str, email: str | None = None, display_name: str = "",
    roles: Iterable[str] = (), superuser: bool = False,
) -> AdminAccount:
    """Create an admin account (it signs in to /admin/ with `username`) holding the given roles."""
    if superuser:
        _may_make_superusers(actor)
    name = username_validate(username, staff=True)
    if name is None:
        raise ValidationError(NEEDS_A_USER_NAME)
    account = AdminAccount(
        username=name, email=email_validate(email, staff=True), display_name=display_name.strip(),
        is_staff=True, is_superuser=superuser,
    )
    validate_password(password, account)
    account.set_password(password)
    account.password_changed_at = timezone.now()
    account.full_clean(exclude=["password"])
    account.save()
    groups = roles_resolve(roles)
    account.groups.set(groups)
    audit_record(actor=actor, action="admin.create", target=account, details={
        "roles": [g.name for g in groups], "superuser": superuser,
    })
    return account


@transaction.atomic
def admin_account_update(*, account: User, actor: Actor, display_name: str, superuser: bool) -> User:
    """Edit an admin account's display name and superuser flag; only a superuser changes the flag."""
    changed = {}
    if display_name.strip() != account.display_name:
        changed["display_name"] = {"before": account.display_name, "after": display_name.strip()}
        account.display_name = display_name.strip()
    if superuser != account.is_superuser:
        _may_make_superusers(actor)
        changed["superuser"] = {"before": account.is_superuser, "after": superuser}
        account.is_superuser = superuser
    if changed:
        account.save(update_fields=["display_name", "is_superuser"])
        audit_record(actor=actor, action="admin.update", target=account, details=changed)
    return account


@transaction.atomic
def admin_account_set_roles(*, account: User, roles: Iterable[str], actor: Actor) -> list[str]:
    """Give the account exactly these built-in roles; returns their names."""
    if not account.is_staff:
        raise ValidationError(f"'{account}' is a directory user, not an admin account; roles are for admins.")
    groups = roles_resolve(roles)
    held = list(account.groups.all())
    # Groups that are not built-in roles (made before them, by hand) are left as they are.
    others = [g for g in held if role_named(g.name) is None]
    before = sorted(g.name for g in held if role_named(g.name) is not None)
    account.groups.set([*groups, *others])
    after = sorted(g.name for g in groups)
    if before != after:
        audit_record(actor=actor, action="admin.roles", target=account, details={"before": before, "after": after})
    return after


def admin_account_add_role(*, account: User, role: str, actor: Actor, remove: bool = False) -> list[str]:
    """Add (or with `remove`, take away) one role, keeping the others."""
    group = roles_resolve([role])[0]
    names = set(account.groups.values_list("name", flat=True))
    names = names - {group.name} if remove else names | {group.name}
    return admin_account_set_roles(account=account, roles=sorted(names), actor=actor)


@transaction.atomic
def admin_account_set_password(*, account: User, password: str, actor: Actor) -> None:
    validate_password(password, account)
    account.set_password(password)
    account.password_changed_at = timezone.now()
    account.save(update_fields=["password", "password_changed_at"])
    audit_record(actor=actor, action="admin.set_password", target=account)


@transaction.atomic
def admin_account_set_enabled(*, account: User, enabled: bool, actor: Actor) -> None:
    """A disabled admin account cannot sign in; Django ends its sessions at their next request."""
    if isinstance(actor, User) and actor.pk == account.pk and not enabled:
        raise ValidationError("You cannot disable your own admin account.")
    account.is_active = enabled
    account.save(update_fields=["is_active"])
    audit_record(actor=actor, action="admin.enable" if enabled else "admin.disable", target=account)


@transaction.atomic
def admin_account_delete(*, account: User, actor: Actor) -> None:
    if isinstance(actor, User) and actor.pk == account.pk:
        raise ValidationError("You cannot delete your own admin account.")
    audit_record(actor=actor, action="admin.delete", target=account, details={"username": account.username})
    account.delete()
