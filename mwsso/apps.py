from __future__ import annotations

from django.apps import AppConfig


class MwssoConfig(AppConfig):
    name = "mwsso"
    verbose_name = "Sign in with Wikipedia"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mwsso import checks  # noqa: F401  (registers the system checks)
