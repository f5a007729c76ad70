"""A separate process acting as one web worker: ``python -m tests.oauth2_worker setup|call ARGS_JSON``.

``setup`` migrates the database named by DATABASE_URL and stores one user's OAuth 2.0 token;
``call`` waits for a start time, then makes one API call as that user (refreshing the token as needed)
and prints the outcome as JSON. Used by the multi-process refresh tests (SQLite's file lock included).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from mwsso import api
    from mwsso.models import AccessToken

    action, args = sys.argv[1], json.loads(sys.argv[2])
    if action == "setup":
        call_command("migrate", verbosity=0, interactive=False)
        user = get_user_model().objects.create_user(args["username"])
        AccessToken.objects.create(
            user=user, wiki=args["wiki"], wiki_url=args["wiki_url"], consumer_key=args["client_id"], oauth_version=2,
            expires_at=timezone.now() + timedelta(seconds=args["expires_in"]),
            **AccessToken.credential_fields(args["access_token"], "", refresh_token=args["refresh_token"]),
        )  # fmt: skip
        for name in args.get("others", []):
            # Other users' tokens (never sent to the wiki): rows for other writes to touch meanwhile.
            other = get_user_model().objects.create_user(name)
            AccessToken.objects.create(
                user=other, wiki=args["wiki"], wiki_url=args["wiki_url"], consumer_key=args["client_id"], oauth_version=2,
                **AccessToken.credential_fields(f"unused-{name}", "", refresh_token=f"unused-refresh-{name}"),
            )  # fmt: skip
        print(json.dumps({"user_id": user.pk}))
        return
    user = get_user_model().objects.get(pk=args["user_id"])
    time.sleep(max(0.0, args["start_at"] - time.time()))
    try:
        data = api.for_user(user).get(action="query", meta="userinfo")
        print(json.dumps({"ok": True, "name": data["query"]["userinfo"]["name"]}))
    except api.APIError as err:
        print(json.dumps({"ok": False, "error": type(err).__name__, "code": err.code}))


if __name__ == "__main__":
    main()
