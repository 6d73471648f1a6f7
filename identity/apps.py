from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Tenant and signing keys"

    def ready(self) -> None:
        from applications.models import (
            Application,
            AppRole,
            ClientCertificate,
            ClientSecret,
            ConsentGrant,
            DelegatedScope,
        )
        from identity import checks  # noqa: F401  (registers system checks)
        from identity.directory_cache import directory_changed
        from identity.keys.models import SigningKey
        from policies.models import Policy, PolicyOutputClaim

        # Whatever the token endpoint caches per process (identity/directory_cache.py): any write to it,
        # from the admin, a command or a service, marks the directory changed.
        for model in (Policy, PolicyOutputClaim, Application, ClientSecret, ClientCertificate, AppRole, ConsentGrant,
                      DelegatedScope, SigningKey):
            for signal in (post_save, post_delete):
                signal.connect(directory_changed, sender=model, dispatch_uid=f"directory_changed.{model.__name__}")
