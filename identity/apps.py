from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Tenant and signing keys"

    def ready(self) -> None:
        from identity import checks  # noqa: F401  (registers system checks)
