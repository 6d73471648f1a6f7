from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, using: str = "default", apps=None, **kwargs) -> None:
    """After every migrate (and `flush`, which passes no `apps`), the built-in roles hold exactly the
    permissions their patterns select, including those of models added since their migration."""
    from django.apps import apps as global_apps

    from accounts.roles import roles_sync

    roles_sync(apps=apps or global_apps, using=using)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, dispatch_uid="accounts.roles_sync")
