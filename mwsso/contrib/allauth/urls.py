"""``mediawiki/login/`` and ``mediawiki/login/callback/`` under allauth's ``accounts/`` (``include("allauth.urls")``)."""

from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from mwsso.contrib.allauth.provider import MediaWikiProvider

urlpatterns = default_urlpatterns(MediaWikiProvider)
