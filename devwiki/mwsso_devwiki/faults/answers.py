"""What a step answers while a fault is switched on (the switches are in faults/switches.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..web.wsgi import DropConnection, Response

if TYPE_CHECKING:
    from ..state.store import Store

# Where a JWT is expected: an HTML page (identify's "garbage" step fault and JWT fault alike).
GARBAGE_BODY = "<!DOCTYPE html><title>Oops</title><p>This is not a JWT.</p>"

INTERNAL_ERROR = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Internal error'
    "</title></head><body><h1>Internal error</h1><p>[devwiki] Fatal exception of type "
    '"Wikimedia\\Rdbms\\DBConnectionError"</p></body></html>'
)
MAINTENANCE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Wikimedia Error'
    "</title></head><body><h1>Error</h1><p>Our servers are currently under maintenance or "
    "experiencing a technical issue. Please try again in a few minutes.</p></body></html>"
)
_GARBAGE = {
    "initiate": ("text/plain;charset=UTF-8", "<html><body>Try again later</body></html>"),
    "token": ("text/plain;charset=UTF-8", "<html><body>Try again later</body></html>"),
    "identify": ("application/json", GARBAGE_BODY),
    "api": ("application/json; charset=utf-8", '{"batchcomplete":"","query":{"userinf'),
    "authorize": ("text/html; charset=UTF-8", "<!DOCTYPE html><title>OAuth</title><p>Nothing to see here.</p>"),
    "oauth2_authorize": ("text/html; charset=UTF-8", "<!DOCTYPE html><title>OAuth</title><p>Nothing to see here.</p>"),
    "oauth2_token": ("text/html; charset=UTF-8", "<html><body>Try again later</body></html>"),
    "oauth2_profile": ("application/json", '{"sub":"3","username":"Ali'),
}


def fault_response(store: Store, step: str, wiki_error: Callable[[str | None], Response]) -> Response | None:
    """The faulty answer for ``step``, or None to answer normally (also after "slow").

    ``wiki_error(code)`` builds the step's own error format for kind "error".
    """
    fault = store.faults.take(step)
    if fault is None:
        return None
    if fault.kind == "slow":
        time.sleep(fault.seconds)
        return None
    if fault.kind == "drop":
        raise DropConnection()
    if fault.kind == "error":
        return wiki_error(fault.code)
    if fault.kind == "http500":
        return Response(INTERNAL_ERROR, status=500)
    if fault.kind == "html":
        return Response(MAINTENANCE, status=fault.status)
    content_type, body = _GARBAGE[step]
    return Response(body, content_type=content_type)
