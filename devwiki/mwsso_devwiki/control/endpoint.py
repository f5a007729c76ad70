"""``POST /_devwiki/control``: the control actions over HTTP, out of reach of web pages.

A page in the developer's browser may POST here: a foreign ``Origin`` is refused, and only
``application/json`` is read (a cross-site page cannot send that without a preflight the local
wiki never allows).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from ..web.hosts import is_same_origin
from ..web.wsgi import Request, Response, json_response
from . import ControlError, run

if TYPE_CHECKING:
    from ..state.store import Store

CONTROL_PATH = "/_devwiki/control"
log = logging.getLogger("mwsso_devwiki")


def handle(store: Store, req: Request) -> Response:
    if not req.posted:
        return json_response({"ok": False, "error": "POST a JSON object"}, status=405)
    origin = req.headers.get("origin")
    if origin is not None and not is_same_origin(origin, req.headers.get("host", ""), store.server):
        log.warning("devwiki: control request from foreign origin %r refused", origin[:200])
        return json_response({"ok": False, "error": "cross-origin control requests are refused"}, status=403)
    if req.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return json_response({"ok": False, "error": "send Content-Type: application/json"}, status=415)
    try:
        payload = json.loads(req.body or b"{}")
        if not isinstance(payload, dict):
            raise ControlError("the body must be a JSON object")
        action = payload.pop("action", None)
        return json_response(run(store, str(action), payload))
    except (ValueError, ControlError) as err:
        return json_response({"ok": False, "error": str(err)}, status=400)
