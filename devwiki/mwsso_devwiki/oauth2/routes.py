"""rest.php's OAuth 2.0 routes (extension.json RestRoutes) and the MediaWiki REST framework's own errors."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..faults.answers import fault_response
from ..web.wsgi import Request, Response
from . import authorize, resource, token, urls
from .errors import OAuth2Error, rest_error

if TYPE_CHECKING:
    from ..state.store import Store

SERVER_ERROR = (
    "The authorization server encountered an unexpected condition which prevented it from fulfilling the request."
)
FAULT_STEPS = {
    urls.AUTHORIZE: "oauth2_authorize",
    urls.ACCESS_TOKEN: "oauth2_token",
    urls.PROFILE: "oauth2_profile",
    urls.SCOPES: "oauth2_profile",
}

ROUTES = {
    urls.AUTHORIZE: (("GET", "POST"), authorize.handle_authorize),
    urls.ACCESS_TOKEN: (("POST",), token.handle),
    urls.PROFILE: (("GET",), resource.handle_profile),
    urls.SCOPES: (("GET",), resource.handle_scopes),
}


def route(store: Store, req: Request, relative: str) -> Response:
    """Serve ``<script path>/rest.php<relative>``."""
    found = ROUTES.get(relative)
    if found is None:
        body = rest_error(
            404,
            "rest-no-match",
            f"The requested relative path ({relative}) did not match any known handler",
            "Not Found",
        )
        return Response(json.dumps(body, separators=(",", ":")), status=404, content_type="application/json")
    methods, handler = found
    if req.method not in methods and not (req.method == "HEAD" and "GET" in methods):
        text = f"The request method ({req.method}) is not allowed for the path ({relative}). Allowed methods: {', '.join(methods)}"
        body = rest_error(405, "rest-wrong-method", text, "Method Not Allowed")
        return Response(
            json.dumps(body, separators=(",", ":")),
            status=405,
            content_type="application/json",
            headers=[("Allow", ", ".join(methods))],
        )

    def wiki_error(code: str | None) -> Response:
        """Fault kind "error": league's server_error (or ``code``) as JSON, HTTP 500."""
        err = OAuth2Error(500, code or "server_error", SERVER_ERROR)
        return Response(json.dumps(err.body(), separators=(",", ":")), status=500, content_type="application/json")

    faulty = fault_response(store, FAULT_STEPS[relative], wiki_error)
    if faulty is not None:
        return faulty
    return handler(store, req)
