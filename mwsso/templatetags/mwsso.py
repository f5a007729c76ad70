"""``{% load mwsso %}{% mwsso_login_button %}``: the "Sign in with Wikipedia" button (a CSRF-protected form)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("mwsso/login_button.html", takes_context=True)
def mwsso_login_button(context: Any, label: str = "Sign in with Wikipedia", next: str = "", backend: str = "mediawiki") -> dict[str, Any]:
    request = context.get("request")
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "label": label,
        "next": next,
        "backend": backend,
    }
