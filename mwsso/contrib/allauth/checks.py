"""System checks of the allauth provider (ids ``mwsso.E06x`` / ``mwsso.W06x``); database ones only with ``--database``."""

from __future__ import annotations

from typing import Any, cast

from django.apps import apps
from django.core import checks
from django.utils.translation import gettext_lazy

from mwsso.app_settings import DEFAULT_USER_AGENT, app_settings
from mwsso.contrib.allauth import conf
from mwsso.protocol.wikiurls import InvalidWikiURL

ALLAUTH_PROVIDER_APP = "allauth.socialaccount.providers.mediawiki"


def _(message: str) -> str:
    """``gettext_lazy`` typed as ``str``, as ``mwsso.checks.text._`` (which see).

    Not imported from there: importing ``mwsso.checks`` registers mwsso's own checks and loads its models,
    which fails on a site without "mwsso" in INSTALLED_APPS, the very mistake E060 is there to report.
    """
    return cast(str, gettext_lazy(message))


@checks.register()
def check_installation(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for needed, hint in (
        ("mwsso", _('mwsso keeps the wiki identities and encrypted tokens: add "mwsso" to INSTALLED_APPS.')),
        (
            "allauth.socialaccount",
            _('Add "allauth", "allauth.account" and "allauth.socialaccount" (django-allauth\'s quick start).'),
        ),
    ):
        if not apps.is_installed(needed):
            messages.append(
                checks.Error(_("%(app)s is not in INSTALLED_APPS.") % {"app": needed}, hint=hint, id="mwsso.E060")
            )
    if apps.is_installed(ALLAUTH_PROVIDER_APP):
        messages.append(
            checks.Error(
                _("%(app)s and mwsso.contrib.allauth are both installed: both are the provider 'mediawiki'.")
                % {"app": ALLAUTH_PROVIDER_APP},
                hint=_("Remove %(app)s from INSTALLED_APPS; its accounts carry over (docs/allauth.md).")
                % {"app": ALLAUTH_PROVIDER_APP},
                id="mwsso.E061",
            )
        )
    try:
        conf.urls()
    except InvalidWikiURL:
        messages.append(
            checks.Error(
                _("SOCIALACCOUNT_PROVIDERS['mediawiki']['REST_API'] %(url)r is not a wiki URL.")
                % {"url": conf.rest_api()},
                hint=_("Use the wiki's rest.php URL, e.g. https://meta.wikimedia.org/w/rest.php."),
                id="mwsso.E062",
            )
        )
    if app_settings.USER_AGENT == DEFAULT_USER_AGENT:
        allauth_agent = conf.provider_settings().get("USER_AGENT")
        messages.append(
            checks.Warning(
                _(
                    "MWSSO_USER_AGENT is the default: mwsso sends it to the wiki, not SOCIALACCOUNT_PROVIDERS' USER_AGENT."
                ),
                hint=_("Set MWSSO_USER_AGENT to your tool's name and a contact, e.g. %(example)r.")
                % {"example": str(allauth_agent or "MyTool/1.0 (https://mytool.toolforge.org; me@example.org)")},
                id="mwsso.W060",
            )
        )
    return messages


@checks.register(checks.Tags.database)
def check_clients_and_plain_tokens(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """The provider's clients (settings and SocialApp rows), and plain-text tokens allauth's own provider left."""
    from allauth.socialaccount.models import SocialApp, SocialToken
    from django.db import connections, router

    alias = router.db_for_read(SocialToken)
    if not databases or alias not in databases:
        return []
    tables = connections[alias].introspection.table_names()
    if SocialToken._meta.db_table not in tables or SocialApp._meta.db_table not in tables:
        return []  # migrate asks before it has created them
    from mwsso.contrib.allauth.clients import allauth_clients

    messages: list[checks.CheckMessage] = []
    clients = allauth_clients()
    if not clients:
        messages.append(
            checks.Warning(
                _("The provider 'mediawiki' has no client: nobody can sign in with Wikipedia."),
                hint=_(
                    "Register an OAuth 2.0 client on the wiki and set it in SOCIALACCOUNT_PROVIDERS['mediawiki']['APPS'] or a SocialApp."
                ),
                id="mwsso.W061",
            )
        )
    public = [site.client.client_id for site in clients if not site.client.is_confidential]
    if public:
        messages.append(
            checks.Warning(
                _(
                    "The 'mediawiki' client %(ids)s has no secret: MediaWiki does not let a public client refresh its tokens."
                )
                % {"ids": ", ".join(public)},
                hint=_("Register a confidential client (tick 'Client is confidential') and set its secret."),
                id="mwsso.W062",
            )
        )
    plain = SocialToken.objects.using(alias).filter(account__provider=conf.PROVIDER_ID).count()
    if plain:
        messages.append(
            checks.Warning(
                _("%(count)s plain-text MediaWiki tokens are left in allauth's SocialToken table.") % {"count": plain},
                hint=_(
                    "Run 'manage.py mwsso_allauth import-tokens' to move them into encrypted storage (--dry-run first)."
                ),
                id="mwsso.W063",
            )
        )
    return messages
