from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Logs"

    def ready(self) -> None:
        from audit.receivers import record_sign_in
        from identity.oauth.signals import token_request_finished

        token_request_finished.connect(record_sign_in, dispatch_uid="audit.record_sign_in")
