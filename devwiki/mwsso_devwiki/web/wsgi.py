"""Tiny request/response helpers over WSGI (the local wiki depends on no web framework)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_BODY = 8 * 1024 * 1024


class DropConnection(Exception):
    """Raised by the app to make the devwiki server close the socket without answering."""


class Request:
    """The parts of a WSGI environ the devwiki reads."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        # PEP 3333 hands PATH_INFO over as latin-1; page titles in paths are UTF-8
        self.path = (environ.get("PATH_INFO", "") or "/").encode("latin-1").decode("utf-8", "replace")
        # The path the client sent (REQUEST_URI): what it signed. PATH_INFO may be tidied by the server.
        raw = (environ.get("REQUEST_URI") or environ.get("PATH_INFO", "") or "/").partition("?")[0]
        self.request_path = unquote(raw, encoding="utf-8", errors="replace") if raw.startswith("/") else self.path
        self.query_string = environ.get("QUERY_STRING", "")
        self.query = parse_qsl(self.query_string, keep_blank_values=True)
        self.headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            self.headers["content-type"] = environ["CONTENT_TYPE"]
        self.body = self._read_body(environ)
        self.form: list[tuple[str, str]] = []
        content_type = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if self.method == "POST" and content_type == FORM_TYPE:
            self.form = parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        self._values = {**dict(self.query), **dict(self.form)}

    @staticmethod
    def _read_body(environ: dict[str, Any]) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= 0:
            return b""
        return environ["wsgi.input"].read(min(length, MAX_BODY))

    @property
    def signed_url_path(self) -> str:
        """The path OAuth checks a signature against: WebRequest::getRequestURL, which turns leading
        slashes into one (``//api.php`` is ``/api.php``), so a client that signed ``//api.php`` fails."""
        return "/" + self.request_path.lstrip("/")

    @property
    def posted(self) -> bool:
        return self.method == "POST"

    def values(self) -> dict[str, str]:
        """GET and POST parameters like PHP's $_POST + $_GET (POST wins); a fresh copy."""
        return dict(self._values)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._values.get(name, default)

    def cookie(self, name: str) -> str | None:
        for part in self.headers.get("cookie", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == name:
                return value
        return None


class Response:
    """Status, headers and a byte body; always sent with Content-Length."""

    def __init__(
        self,
        body: bytes | str = b"",
        status: int = 200,
        content_type: str = "text/html; charset=UTF-8",
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.status = status
        self.headers = [("Content-Type", content_type), *headers]

    def add_header(self, name: str, value: str) -> None:
        self.headers.append((name, value))


def json_response(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status=status, content_type="application/json")


def append_query(url: str, params: dict[str, str]) -> str:
    """wfAppendQuery: add parameters to the query, keeping a #fragment last."""
    base, hash_, fragment = url.partition("#")
    base += ("&" if "?" in base else "?") + urlencode(params)
    return base + hash_ + fragment


def redirect(location: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """A 302 like MediaWiki's OutputPage::redirect (empty body)."""
    return Response(b"", status=302, headers=[("Location", location), *headers])


# What index.php's pages (the consent dialogs, login, connected apps) and api.php answer with (recorded).
PAGE_CACHE = [("Cache-Control", "private, must-revalidate, max-age=0")]

NO_CACHE = [
    ("Expires", "Thu, 01 Jan 1970 00:00:00 GMT"),
    ("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate"),
    ("Pragma", "no-cache"),
]

REASONS = {
    200: "OK",
    302: "Found",
    307: "Temporary Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    415: "Unsupported Media Type",
    421: "Misdirected Request",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
