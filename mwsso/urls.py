"""``path("", include("mwsso.urls"))`` gives /login/mediawiki/, /complete/mediawiki/ and /logout/.

The namespace is social-auth's (``social``), so ``{% url "social:begin" "mediawiki" %}``
keeps working for sites that come from social-app-django; sign out with a POST form to
``{% url "social:logout" %}`` (see mwsso.views.logout).
"""

from __future__ import annotations

from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from mwsso import views
from mwsso.views.logout import LogoutView

app_name = "social"

urlpatterns = [
    path("login/<str:backend>/", views.begin, name="begin"),
    # The wiki's redirect carries no CSRF token; the request token bound to this session protects it.
    path("complete/<str:backend>/", never_cache(csrf_exempt(views.complete)), name="complete"),
    path("logout/", LogoutView.as_view(), name="logout"),
]
