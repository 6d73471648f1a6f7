"""Admin accounts apart from directory users (issue 17 item 1).

Until now an admin (is_staff) was also a directory user: it could get tokens by ROPC. From here on
the two kinds have separate name spaces and an admin account never gets a token. An existing staff
account that was also used as a directory user — it holds refresh tokens, per-user consents or
federated identities, or has a successful sign-in event — is split in two:

- the row keeps being the admin account: its primary key (so its admin sessions, audit history and
  admin log stay its own), password, roles and permissions; it gets a new object id;
- a new directory user takes its object id (the `oid`/`sub` of the tokens already issued), sign-in
  names, profile, password hash and session state, and its tokens, consents, federated identities
  and sign-in events move to it.

A staff account with none of these simply stops being a directory user. Each split is recorded as
an audit event `user.split_admin` and printed.
"""

import uuid

import django.contrib.auth.models
from django.db import migrations, models

# Rows that belong to the directory user, by (app label, model, user field).
_DIRECTORY_ROWS = [
    ("applications", "RefreshToken", "user"),
    ("applications", "AccessToken", "user"),
    ("applications", "IDToken", "user"),
    ("applications", "Grant", "user"),
    ("applications", "ConsentGrant", "user"),
    ("accounts", "FederatedIdentity", "user"),
    ("audit", "SignInEvent", "user"),
]
_COPIED = ["username", "email", "password", "previous_password", "display_name", "given_name", "surname",
           "is_active", "refresh_tokens_valid_from", "password_changed_at", "password_expired", "mfa_required",
           "created_at"]


def _used_as_directory_user(apps, account) -> bool:
    evidence = [
        apps.get_model("applications", "RefreshToken").objects.filter(user=account),
        apps.get_model("applications", "ConsentGrant").objects.filter(user=account),
        apps.get_model("accounts", "FederatedIdentity").objects.filter(user=account),
        apps.get_model("audit", "SignInEvent").objects.filter(user=account, succeeded=True),
    ]
    return any(rows.exists() for rows in evidence)


def split_admins_used_as_users(apps, schema_editor):
    user_model = apps.get_model("accounts", "User")
    audit_event = apps.get_model("audit", "AuditEvent")
    for account in user_model.objects.filter(is_staff=True).order_by("pk"):
        if not _used_as_directory_user(apps, account):
            continue
        object_id = account.object_id
        account.object_id = uuid.uuid4()
        account.save(update_fields=["object_id"])
        member = user_model.objects.create(
            object_id=object_id, is_staff=False, is_superuser=False,
            **{field: getattr(account, field) for field in _COPIED},
        )
        for app_label, model_name, field in _DIRECTORY_ROWS:
            apps.get_model(app_label, model_name).objects.filter(**{field: account}).update(**{field: member})
        audit_event.objects.create(
            actor_label="migration accounts.0004", action="user.split_admin", target_type="accounts.User",
            target_id=str(member.pk), target_repr=str(member.username or member.email)[:256],
            details={"admin_account": account.pk, "directory_user_object_id": str(object_id),
                     "admin_object_id": str(account.object_id)},
        )
        print(f"\n  Split admin account {account.username or account.email!r}: its directory user (object id "
              f"{object_id}) is now a separate account with the same sign-in names and password. Give one of "
              "them a new password (manage.py setpassword for the user, Set password in the admin for the admin).")


def refuse_to_merge_back(apps, schema_editor):
    """Unapplying makes sign-in names unique across both kinds again: refused while a name is used twice."""
    user_model = apps.get_model("accounts", "User")
    shared = [
        name for field in ("username", "email")
        for name in user_model.objects.filter(is_staff=True, **{f"{field}__isnull": False}).values_list(field, flat=True)
        if user_model.objects.filter(is_staff=False, **{field: name}).exists()
    ]
    if shared:
        raise RuntimeError(
            f"Cannot unapply accounts.0004: {len(shared)} sign-in name(s) belong to both an admin account and a "
            f"directory user ({', '.join(sorted(shared)[:5])}). Rename or delete one of each first."
        )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_sign_in_throttle'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('applications', '0005_refresh_token_checksum_unique'),
        ('audit', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='AdminAccount',
            fields=[
            ],
            options={
                'verbose_name': 'administrator',
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('accounts.user',),
        ),
        migrations.CreateModel(
            name='AdminRole',
            fields=[
            ],
            options={
                'verbose_name': 'admin role',
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('auth.group',),
            managers=[
                ('objects', django.contrib.auth.models.GroupManager()),
            ],
        ),
        migrations.AlterField(
            model_name='user',
            name='email',
            field=models.CharField(blank=True, help_text='Email sign-in name; stored case-folded.', max_length=254, null=True, verbose_name='email'),
        ),
        migrations.AlterField(
            model_name='user',
            name='is_staff',
            field=models.BooleanField(default=False, editable=False, help_text='An admin account signs in to the admin site only; it is not a user of the directory.', verbose_name='admin account'),
        ),
        migrations.AlterField(
            model_name='user',
            name='username',
            field=models.CharField(blank=True, help_text="Sign-in name without '@'; stored case-folded.", max_length=64, null=True, verbose_name='user name'),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.UniqueConstraint(condition=models.Q(('is_staff', False)), fields=('username',), name='user_username_unique_directory', violation_error_message='The sign-in name is already in use by another directory account.'),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.UniqueConstraint(condition=models.Q(('is_staff', True)), fields=('username',), name='user_username_unique_admin', violation_error_message='The sign-in name is already in use by another admin account.'),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.UniqueConstraint(condition=models.Q(('is_staff', False)), fields=('email',), name='user_email_unique_directory', violation_error_message='The sign-in name is already in use by another directory account.'),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.UniqueConstraint(condition=models.Q(('is_staff', True)), fields=('email',), name='user_email_unique_admin', violation_error_message='The sign-in name is already in use by another admin account.'),
        ),
        migrations.RunPython(split_admins_used_as_users, refuse_to_merge_back),
    ]
