"""``social:logout`` (``/logout/``): sign out with a POST, then go to ``next``, ``LOGOUT_REDIRECT_URL`` or home.

Django's own LogoutView, which only accepts POST (a link or an image could otherwise sign people out) and
checks ``next`` against the site's hosts; without ``LOGOUT_REDIRECT_URL`` it would render the admin's
``registration/logged_out.html``, which a site without the admin does not have, so home is the default here.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import resolve_url
from django.urls import get_script_prefix


class LogoutView(auth_views.LogoutView):
    def get_default_redirect_url(self) -> str:
        if self.next_page or settings.LOGOUT_REDIRECT_URL:
            return super().get_default_redirect_url()
        return resolve_url(get_script_prefix())
