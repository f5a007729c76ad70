"""api.php (under the script path): OAuth-signed (or anonymous) Action API calls.

Checks run in ApiMain's order: authentication (the OAuth session provider),
asserts, the module's token, maxlag, POST-only; then the module. Errors are
``{"error": {"code", "info", "*"}}`` with HTTP 200 and a MediaWiki-API-Error header.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..faults.answers import fault_response
from ..messages import Message, MWOAuthError
from ..oauth1 import server as oauth1
from ..oauth1.server import OAuthError
from ..oauth2 import resource as oauth2_resource
from ..state.models import iso_timestamp
from ..state.pages import EditError, normalize_title
from ..web.session import session_user
from ..web.wsgi import PAGE_CACHE, Request, Response
from . import login, query
from .base import API_TYPE, ApiError, Session, csrf_token, encode, error_object, flag

if TYPE_CHECKING:
    from ..state.store import Store

EDIT_ERRORS = {
    "editconflict": "Edit conflict.",
    "articleexists": "The article you tried to create has been created already.",
    "missingtitle": "The page you specified doesn't exist.",
    "nosuchrevid": "There is no revision with the given ID.",
}
ASSERT_ERRORS = {
    "user": ("assertuserfailed", "You are no longer logged in, so the action could not be completed."),
    "anon": ("assertanonfailed", "You are no longer logged out, so the action could not be completed."),
    "bot": ("assertbotfailed", "You do not have the <code>bot</code> right, so the action could not be completed."),
}


def _invalid(reason: str, key: str = "mwoauth-invalid-authorization") -> ApiError:
    if key == "mwoauth-invalid-authorization":
        return ApiError(key, Message(key, reason).text())
    return ApiError(key, reason)


def authenticate(store: Store, req: Request) -> Session:
    """The OAuth session provider, else the session cookie (clientlogin, the login page), else anonymous."""
    header = req.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return _bearer_session(store, header)
    if not oauth1.has_oauth_header(req):
        return Session(session_user(store, req))
    try:
        consumer, access = oauth1.verify_request(store, req, oauth1.request_params(req))
    except (MWOAuthError, OAuthError) as err:
        raise _invalid(err.reason()) from err
    user = store.user(access.sub)
    if user is None:
        key = "mwoauth-invalid-authorization-invalid-user"
        raise _invalid(Message(key).text(), key)
    if not consumer.approved:
        key = "mwoauth-invalid-authorization-not-approved"
        raise _invalid(Message(key, consumer.name).text(), key)
    return Session(user, [g for _, g in access.grants])


def _bearer_session(store: Store, header: str) -> Session:
    """OAuth 2.0: the same rights/grants model as OAuth 1.0a, with the token's scopes as grants."""
    store.count("oauth2_api_bearer")
    record = oauth2_resource.access_token_record(store, oauth2_resource.bearer_token(header))
    if record is None:
        raise _invalid("Invalid access token")
    user = store.user(record.sub)
    if user is None:
        key = "mwoauth-invalid-authorization-invalid-user"
        raise _invalid(Message(key).text(), key)
    client = store.oauth2.client(record.client_id)
    if client is None or not client.approved:
        key = "mwoauth-invalid-authorization-not-approved"
        raise _invalid(Message(key, client.name if client else record.client_id).text(), key)
    return Session(user, list(record.scopes))


def _check_asserts(params: dict[str, str], session: Session, store: Store) -> None:
    wanted = params.get("assert")
    failed = (
        (wanted == "user" and session.anon)
        or (wanted == "anon" and not session.anon)
        or (wanted == "bot" and "bot" not in session.rights(store))
    )
    if failed:
        raise ApiError(*ASSERT_ERRORS[wanted])
    named = params.get("assertuser")
    if named is not None and (session.user is None or session.user.name != named.replace("_", " ")):
        raise ApiError(
            "assertnameduserfailed", f'You are no longer logged in as "{named}", so the action could not be completed.'
        )


def _check_token(req: Request, params: dict[str, str], session: Session, store: Store) -> None:
    if "token" not in params:
        raise ApiError("missingparam", 'The "token" parameter must be set.')
    if "token" not in dict(req.form):
        raise ApiError(
            "mustpostparams",
            "The following parameter was found in the query string, but must be in the POST body: token.",
        )
    if params["token"] != csrf_token(store, session):
        raise ApiError("badtoken", "Invalid CSRF token.")


def _check_maxlag(store: Store, params: dict[str, str]) -> None:
    if "maxlag" not in params:
        return
    try:
        maxlag = int(params["maxlag"])
    except ValueError:
        raise ApiError("badinteger", f'Invalid value "{params["maxlag"]}" for integer parameter "maxlag".') from None
    lag = store.faults.take_maxlag(maxlag)
    if lag is not None:
        shown = int(lag) if float(lag).is_integer() else lag
        raise ApiError(
            "maxlag",
            f"Waiting for a database server: {shown} seconds lagged.",
            headers=[("Retry-After", str(max(maxlag, 5))), ("X-Database-Lag", str(int(lag)))],
            host="db1001",
            lag=shown,
            type="db",
        )


def _edit(store: Store, req: Request, params: dict[str, str], session: Session, fv2: bool) -> dict[str, Any]:
    rights = session.rights(store)
    if session.user is not None and session.user.blocked:
        raise ApiError("blocked", "You have been blocked from editing.")
    if "edit" not in rights:
        raise ApiError("permissiondenied", "You don't have permission to edit this page.")
    given = params.get("title")
    if not given:
        raise ApiError("missingparam", 'The "title" parameter must be set.')
    title = normalize_title(given)
    if title is None:
        raise ApiError("invalidtitle", f'Bad title "{given}".')
    if not any(k in params for k in ("text", "appendtext", "prependtext")):
        raise ApiError(
            "missingparam", 'One of the parameters "text", "appendtext", "prependtext" and "undo" is required.'
        )
    if store.pages.get(title) is None and "createpage" not in rights:
        raise ApiError("cantcreate", "You do not have permission to create new pages.")
    baserevid = params.get("baserevid")
    try:
        base = int(baserevid) if baserevid else None
    except ValueError:
        raise ApiError("badinteger", f'Invalid value "{baserevid}" for integer parameter "baserevid".') from None
    author = session.user.name if session.user else "127.0.0.1"
    try:
        result = store.pages.edit(
            title,
            author,
            text=params.get("text"),
            appendtext=params.get("appendtext", ""),
            prependtext=params.get("prependtext", ""),
            summary=params.get("summary", ""),
            baserevid=base,
            createonly="createonly" in params,
            nocreate="nocreate" in params,
            now=store.now(),
        )
    except EditError as err:
        raise ApiError(err.code, EDIT_ERRORS[err.code]) from err
    if "newtimestamp" in result:
        result["newtimestamp"] = iso_timestamp(result["newtimestamp"])
        if session.user is not None:
            store.update_user(session.user, editcount=session.user.editcount + 1)
            result["watched"] = True  # a named user's edit watches the page (MediaWiki's default preference)
    for key in ("new", "nochange", "watched"):
        if key in result:
            result[key] = flag(True, fv2)
    return {"edit": result}


def _query(store: Store, req: Request, params: dict[str, str], session: Session, fv2: bool) -> dict[str, Any]:
    return query.run(store, params, session, fv2)


def _read_mode(action: str, params: dict[str, str]) -> bool:
    """ApiBase::isReadMode: action=query reads, unless it only asks for tokens (ApiQueryTokens reads nothing)."""
    if action != "query":
        return False
    asked = [name for name in ("list", "prop", "titles", "revids") if params.get(name)]
    return bool(asked) or any(meta != "tokens" for meta in (params.get("meta") or "").split("|") if meta)


# action -> (handler, needs a csrf token, must be posted)
MODULES = {
    "query": (_query, False, False),
    "edit": (_edit, True, True),
    "clientlogin": (login.clientlogin, False, True),
}


def handle(store: Store, req: Request) -> Response:
    store.count("api")
    params = req.values()
    fv2 = params.get("formatversion") in ("2", "latest")
    utf8 = params.get("utf8") not in (None, "0", "false")

    def error(err: ApiError) -> Response:
        body = encode(error_object(store, err, fv2), fv2, utf8)
        headers = [*PAGE_CACHE, ("MediaWiki-API-Error", err.code), *err.headers]
        return Response(body, content_type=API_TYPE, headers=headers)

    faulty = fault_response(
        store,
        "api",
        lambda code: error(
            ApiError(
                code or "readonly",
                "The wiki is currently in read-only mode.",
                readonlyreason="devwiki fault switched on",
            )
        ),
    )
    if faulty is not None:
        return faulty
    try:
        session = authenticate(store, req)
        action = params.get("action")
        if not action:
            return Response(
                f"<!DOCTYPE html><title>MediaWiki API help</title><p>Main module of "
                f"the devwiki Action API at {store.urls.api}.</p>",
                headers=PAGE_CACHE,
            )
        module = MODULES.get(action)
        if module is None:
            raise ApiError("badvalue", f'Unrecognized value for parameter "action": {action}.')
        store.count(f"api:{action}")
        handler, needs_token, must_post = module
        if _read_mode(action, params) and "read" not in session.rights(store):
            # An identify-only consumer's token grants no rights at all (recorded on 1.39 and 1.45).
            raise ApiError("readapidenied", "You need read permission to use this module.")
        _check_asserts(params, session, store)
        if needs_token:
            _check_token(req, params, session, store)
        _check_maxlag(store, params)
        if must_post and not req.posted:
            raise ApiError("mustbeposted", f'The "{action}" module requires a POST request.')
        result = handler(store, req, params, session, fv2)
    except ApiError as err:
        return error(err)
    cookies = [("Set-Cookie", cookie) for cookie in session.set_cookies]
    return Response(encode(result, fv2, utf8), content_type=API_TYPE, headers=[*PAGE_CACHE, *cookies])
