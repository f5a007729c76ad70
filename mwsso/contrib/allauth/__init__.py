"""Sign in with Wikipedia for django-allauth sites, on mwsso's core (docs/allauth.md).

Add ``"mwsso"`` and ``"mwsso.contrib.allauth"`` to ``INSTALLED_APPS`` in place of
``"allauth.socialaccount.providers.mediawiki"``: the provider id stays ``mediawiki``, so existing
``SocialAccount`` rows carry over, and ``SOCIALACCOUNT_PROVIDERS["mediawiki"]`` configures it as
before. OAuth 2.0 with PKCE S256; tokens live encrypted in mwsso's store (``mwsso.api.for_user``),
never in allauth's ``SocialToken``. Nothing in mwsso imports this package unless it is installed.
"""
