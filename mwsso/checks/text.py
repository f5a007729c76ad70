"""Translatable texts of the system checks, typed as Django's check framework really takes them."""

from __future__ import annotations

from typing import cast

from django.utils.translation import gettext_lazy


def _(message: str) -> str:
    """``gettext_lazy``, typed as ``str``: a check's ``msg`` and ``hint`` stay lazy until printed.

    Django formats a ``CheckMessage`` only when it is shown, so a lazy text follows the language active
    then; django-stubs types ``msg`` and ``hint`` as ``str`` only, hence the cast (no change at run time).
    Named ``_`` so that ``makemessages`` still finds the texts.
    """
    return cast(str, gettext_lazy(message))
