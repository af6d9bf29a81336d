from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = "Clients and API keys"

    def ready(self) -> None:
        from clients.authentication import forget_verified_keys
        from clients.models import ApiKey, Client

        # A key revoked or a client deactivated here is refused by this process's next request.
        for model in (ApiKey, Client):
            post_save.connect(forget_verified_keys, sender=model, dispatch_uid=f"forget-{model}")
            post_delete.connect(forget_verified_keys, sender=model, dispatch_uid=f"del-{model}")
