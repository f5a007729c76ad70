"""Calling the wiki as the user from an async view, as docs/api.md shows: the work in one sync_to_async call.

``api.for_user`` reads the database and the client makes blocking HTTP calls (and may write ``last_used`` or
refresh a token), so an async view runs them through ``asgiref.sync.sync_to_async``, off the event loop.
Called directly in an async view, Django refuses the database access.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.core.exceptions import SynchronousOnlyOperation
from django.http import HttpRequest, JsonResponse
from django.test import AsyncClient
from django.urls import path

from mwsso import api

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
THREADS: dict[str, int] = {}


# --- what docs/api.md shows, run as it is written there -------------------------------------------
EXAMPLE = re.search(r"## From an async view\n.*?```python\n(.*?)```", (ROOT / "docs" / "api.md").read_text(), re.S)
assert EXAMPLE, "docs/api.md has no async view example"
DOCUMENTED: dict[str, Any] = {}
exec(EXAMPLE[1], DOCUMENTED)
documented_userinfo = DOCUMENTED["wiki_userinfo"]


def recording_userinfo(user):  # type: ignore[no-untyped-def]
    THREADS["sync"] = threading.get_ident()
    return documented_userinfo(user)


DOCUMENTED["wiki_userinfo"] = recording_userinfo


async def whoami(request: HttpRequest) -> JsonResponse:
    THREADS["async"] = threading.get_ident()
    return await DOCUMENTED["whoami"](request)


# -- and what it avoids -----------------------------------------------------------------------------
async def whoami_directly(request: HttpRequest) -> JsonResponse:
    user = await request.auser()
    return JsonResponse(api.for_user(user).get(action="query", meta="userinfo")["query"]["userinfo"])


urlpatterns = [path("whoami/", whoami), path("whoami-directly/", whoami_directly)]


@pytest.fixture
def alice(login, site_client, settings):  # type: ignore[no-untyped-def]
    assert login(site_client, "Alice").status_code == 302
    settings.ROOT_URLCONF = __name__
    return get_user_model().objects.get(username="Alice")


def get(user, url: str):  # type: ignore[no-untyped-def]
    async def request():  # type: ignore[no-untyped-def]
        client = AsyncClient()
        await client.aforce_login(user)
        return await client.get(url)

    return async_to_sync(request)()


def test_an_async_view_calls_the_wiki_as_the_user_through_sync_to_async(alice, devwiki):
    response = get(alice, "/whoami/")
    assert response.status_code == 200 and response.json() == {"name": "Alice", "edits": 1234}
    assert THREADS["sync"] != THREADS["async"]  # the blocking calls ran off the event loop's thread
    assert devwiki.control("stats")["counters"]["api:query"] == 1


def test_calling_for_user_directly_in_an_async_view_is_refused_by_django(alice):
    with pytest.raises(SynchronousOnlyOperation):
        get(alice, "/whoami-directly/")
