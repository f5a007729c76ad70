"""``{% load mwsso %}``: ``{% mwsso_styles %}`` and ``{% mwsso_login_button %}``.

``{% mwsso_login_button %}`` is the "Sign in with Wikipedia" button (a CSRF-protected POST form). It brings the
app's stylesheet with it, once per page, unless the page already loaded it with ``{% mwsso_styles %}`` (put that
in ``<head>`` to avoid a flash of the unstyled button) or passes ``styles=False`` (a site with its own CSS).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

register = template.Library()

# The buttons' default labels by backend name; any other backend gets the OAuth 1.0a one.
DEFAULT_LABELS = {
    "mediawiki": _("Sign in with Wikipedia"),
    "mediawiki-oauth2": _("Sign in with Wikipedia (OAuth 2.0)"),
}

STYLESHEET = "mwsso/mwsso.css"
# Set in the page's render context once the stylesheet link is out, so that a page with several buttons
# (or with {% mwsso_styles %} in its <head>) links it once. The render context spans extends and includes.
_EMITTED = "mwsso_styles_emitted"


def _stylesheet_once(context: template.Context) -> SafeString:
    if context.render_context.get(_EMITTED):
        return SafeString("")
    context.render_context[_EMITTED] = True
    return format_html('<link rel="stylesheet" href="{}">', static(STYLESHEET))


@register.simple_tag(takes_context=True)
def mwsso_styles(context: template.Context) -> SafeString:
    """The ``<link>`` to mwsso's stylesheet (button and error page); empty if the page has it already."""
    return _stylesheet_once(context)


@register.inclusion_tag("mwsso/login_button.html", takes_context=True)
def mwsso_login_button(
    context: template.Context,
    label: str | None = None,
    next: str = "",
    backend: str = "mediawiki",
    styles: bool = True,
    secondary: bool = False,
) -> dict[str, Any]:
    """The sign-in button; ``secondary=True`` gives the quieter outline look (for a second button).

    The default label names the protocol for OAuth 2.0 (``backend="mediawiki-oauth2"``), so that a page
    offering both has two buttons a person can tell apart; ``label=`` sets any other.
    """
    return {
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "label": DEFAULT_LABELS.get(backend, DEFAULT_LABELS["mediawiki"]) if label is None else label,
        "next": next,
        "backend": backend,
        "secondary": secondary,
        "stylesheet": _stylesheet_once(context) if styles else "",
    }
