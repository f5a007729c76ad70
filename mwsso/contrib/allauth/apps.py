"""The app of the allauth provider: its checks, its signal receivers, and its clients made known to mwsso's core."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MwssoAllauthConfig(AppConfig):
    name = "mwsso.contrib.allauth"
    label = "mwsso_allauth"
    verbose_name = _("Sign in with Wikipedia for django-allauth")

    def ready(self) -> None:
        from django.apps import apps

        from mwsso.contrib.allauth import checks  # noqa: F401  (registers the system checks)

        if not apps.is_installed("mwsso") or not apps.is_installed("allauth.socialaccount"):
            return  # mwsso.E060 says what to add; the rest needs mwsso's and allauth's models
        from allauth.account.signals import user_signed_up
        from allauth.socialaccount.signals import pre_social_login
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from mwsso.contrib.allauth import guards
        from mwsso.contrib.allauth.clients import SOURCE, allauth_clients
        from mwsso.tokens.clients import register_client_source

        # Refresh and mwsso_check find the allauth apps' clients (with their secrets) by client id.
        register_client_source(SOURCE, allauth_clients)
        pre_social_login.connect(guards.refuse_second_wiki_account, dispatch_uid="mwsso.contrib.allauth.guard")
        user_signed_up.connect(guards.store_after_signup, dispatch_uid="mwsso.contrib.allauth.signup")
        user_logged_in.connect(guards.drop_pending_handshakes, dispatch_uid="mwsso.contrib.allauth.login")
        user_logged_out.connect(guards.drop_pending_handshakes, dispatch_uid="mwsso.contrib.allauth.logout")
