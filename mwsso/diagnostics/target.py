"""What mwsso_check checks: the deployment's settings, as plain values (no Django)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OAuth2Client:
    """An OAuth 2.0 client: its wiki, id, secret (empty: a public client) and the redirect URI.

    ``redirect_uri`` is where the browser must come back to: the one the site sends when
    ``sends_redirect_uri``, else the site's own callback URL, which the registered one must then be.
    """

    wiki_url: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str = ""
    sends_redirect_uri: bool = False
    #: The redirect URI was built from a site address guessed from ALLOWED_HOSTS (no scheme or port known).
    redirect_uri_guessed: bool = False


@dataclass(frozen=True)
class Target:
    """The site as the wiki will see it.

    ``callback`` is what the site sends as ``oauth_callback`` (``oob`` or an absolute URL; empty when the
    site URL is unknown); ``expected_callback`` the URL the wiki must send the browser back to.
    """

    wiki_url: str
    consumer_key: str = ""
    consumer_secret: str = field(default="", repr=False)
    callback: str = "oob"
    expected_callback: str = ""
    site_url: str = ""
    identify_issuer: str | None = None
    required_grants: tuple[str, ...] = ()
    allowed_wikis: tuple[str, ...] = ()
    user_agent: str = ""
    oauth2: OAuth2Client | None = None
