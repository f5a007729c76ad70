from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MwssoConfig(AppConfig):
    name = "mwsso"
    verbose_name = _("Sign in with Wikipedia")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.db.models.signals import post_migrate

        from mwsso import checks  # noqa: F401  (its package registers the system checks)
        from mwsso.models import forget_grant_sets
        from mwsso.socialauth.handshakes import drop_on_user_change

        # One place that ends pending sign-ins when the session's user changes (mwsso.socialauth.handshakes).
        user_logged_in.connect(drop_on_user_change, dispatch_uid="mwsso.handshakes.login")
        user_logged_out.connect(drop_on_user_change, dispatch_uid="mwsso.handshakes.logout")
        # A flush (a test case's teardown) or a migration may empty the grant sets: forget their remembered ids.
        post_migrate.connect(forget_grant_sets, dispatch_uid="mwsso.models.forget_grant_sets")
