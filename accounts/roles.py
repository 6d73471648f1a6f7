"""Built-in admin roles (issue 17 item 4): Entra's directory roles, as Django groups with permissions.

A role is a group whose permissions are exactly what its patterns select, re-derived at every
`migrate` (so a model added later joins the roles that cover its app). Admin accounts hold roles;
superusers hold every permission without one. Roles are assigned with `accounts.admin_accounts`
(the Administrators page and `manage.py assignrole`), never by editing groups.
"""

from dataclasses import dataclass
from fnmatch import fnmatchcase

from django.apps import apps as global_apps
from django.apps.registry import Apps

# The apps whose permissions roles hand out; Django's own (auth, sessions, admin log) and DOT's are not.
TENANT_APPS = ("accounts", "applications", "policies", "identity", "audit")


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    # "app_label.codename" patterns (fnmatch): "applications.*", "*.view_*".
    grants: tuple[str, ...]

    def allows(self, app_label: str, codename: str) -> bool:
        return app_label in TENANT_APPS and any(fnmatchcase(f"{app_label}.{codename}", p) for p in self.grants)


GLOBAL_ADMINISTRATOR = Role(
    "Global administrator",
    "Manages everything in the tenant: users, app registrations, policies, signing keys, admin accounts "
    "and their roles; reads the logs.",
    ("accounts.*", "applications.*", "policies.*", "identity.*", "audit.view_*"),
)
APPLICATION_ADMINISTRATOR = Role(
    "Application administrator",
    "Registers and manages applications: secrets, certificates, app roles, exposed scopes, API permissions, "
    "admin consent and app role assignments; reads users to assign them.",
    ("applications.*", "accounts.view_user"),
)
USER_ADMINISTRATOR = Role(
    "User administrator",
    "Creates and manages users: profiles, passwords, enabling and disabling, revoking sessions, federated "
    "identities. Cannot manage admin accounts.",
    ("accounts.*_user", "accounts.*_federatedidentity"),
)
POLICY_ADMINISTRATOR = Role(
    "B2C IEF Policy administrator",
    "Manages policies (user flows and custom policies) and signing keys (rotation).",
    ("policies.*", "identity.*_signingkey", "identity.view_tenant"),
)
SECURITY_READER = Role(
    "Security reader",
    "Reads everything the admin shows (users, applications, policies, keys, sign-in and audit logs) and "
    "changes nothing.",
    ("*.view_*",),
)
REPORTS_READER = Role(
    "Reports reader",
    "Reads the sign-in and audit logs.",
    ("audit.view_*",),
)

ROLES: tuple[Role, ...] = (
    GLOBAL_ADMINISTRATOR, APPLICATION_ADMINISTRATOR, USER_ADMINISTRATOR, POLICY_ADMINISTRATOR,
    SECURITY_READER, REPORTS_READER,
)


def role_named(name: str) -> Role | None:
    """The built-in role with this name, any case."""
    wanted = " ".join(name.split()).casefold()
    return next((r for r in ROLES if r.name.casefold() == wanted), None)


def roles_sync(*, apps: Apps = global_apps, using: str = "default") -> None:
    """Create the role groups and set each one's permissions to exactly what its patterns select."""
    try:
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
    except LookupError:  # `migrate` of an app before auth's tables exist, as Django's create_permissions allows
        return
    permissions = list(permission_model.objects.using(using).select_related("content_type"))
    for role in ROLES:
        group, _ = group_model.objects.using(using).get_or_create(name=role.name)
        group.permissions.set(
            [p for p in permissions if role.allows(p.content_type.app_label, p.codename)]
        )
