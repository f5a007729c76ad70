"""action=query: meta=userinfo|tokens|siteinfo, list=allpages, prop=revisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..site.login import login_token
from ..state.models import Page, Revision, formatted_timestamp, iso_timestamp, parse_mw_timestamp
from ..state.pages import db_key, normalize_title
from .base import ApiError, Session, csrf_token, flag

if TYPE_CHECKING:
    from ..state.store import Store

AP_DEFAULT, AP_MAX = 10, 500


def _multi(value: str | None) -> list[str]:
    return [v for v in (value or "").split("|") if v]


def userinfo(store: Store, params: dict[str, str], session: Session, fv2: bool) -> dict:
    user = session.user
    props = set(_multi(params.get("uiprop")))
    if user is None:
        info: dict[str, Any] = {"id": 0, "name": "127.0.0.1", "anon": flag(True, fv2)}
        if "groups" in props:
            info["groups"] = ["*"]
        if "rights" in props:
            info["rights"] = session.rights(store)
        return info
    now = store.now()
    info = {"id": user.sub, "name": user.name}
    if "blockinfo" in props and user.blocked:
        info.update(
            {
                "blockid": 1000 + user.sub,
                "blockedby": "Admin Sysop",
                "blockedbyid": 1,
                "blockreason": user.block_reason or "",
                "blockedtimestamp": iso_timestamp(now - 86400),
                "blockexpiry": "infinite",
                "blockpartial": False,
                "blocknocreate": True,
                "blockanononly": False,
                "blockemail": False,
                "blockowntalk": False,
                "blockedtimestampformatted": formatted_timestamp(now - 86400),
            }
        )
    if "groups" in props:
        info["groups"] = user.effective_groups(now)
    if "rights" in props:
        info["rights"] = session.rights(store)
    if "editcount" in props:
        info["editcount"] = user.editcount
    if "realname" in props:
        info["realname"] = user.realname
    if "email" in props and "viewmyprivateinfo" in session.rights(store):
        info["email"] = user.email
        if user.email_confirmed:
            info["emailauthenticated"] = iso_timestamp(parse_mw_timestamp(user.registered))
    if "registrationdate" in props:
        info["registrationdate"] = iso_timestamp(parse_mw_timestamp(user.registered))
    return info


def tokens(store: Store, params: dict[str, str], session: Session, warnings: list[str]) -> dict[str, str]:
    out = {}
    for kind in _multi(params.get("type")) or ["csrf"]:
        if kind in ("csrf", "watch", "patrol", "rollback", "userrights", "deleteglobalaccount"):
            out[f"{kind}token"] = csrf_token(store, session)
        elif kind == "login":
            out["logintoken"] = login_token(store)
        else:
            warnings.append(f'Unrecognized value for parameter "type": {kind}.')
    return out


def siteinfo(store: Store, params: dict[str, str]) -> dict[str, Any]:
    """meta=siteinfo with ``siprop`` general (the default) and autocreatetempuser (temporary accounts: off)."""
    props = _multi(params.get("siprop")) or ["general"]
    info: dict[str, Any] = {}
    if "general" in props:
        info["general"] = _general(store)
    if "autocreatetempuser" in props:
        info["autocreatetempuser"] = {"enabled": False}
    return info


def _general(store: Store) -> dict[str, Any]:
    """The fields clients read, in MediaWiki's order (the real block has some 80)."""
    return {
        "mainpage": "Main Page",
        "base": f"{store.server}/wiki/Main_Page",
        "sitename": "devwiki",
        "generator": f"{store.traits.generator} (mwsso devwiki)",
        "lang": "en",
        "maxarticlesize": 2097152,
        "articlepath": "/wiki/$1",
        "scriptpath": store.script_path,
        "script": f"{store.script_path}/index.php",
        "server": store.server,
        "servername": store.server.split("://", 1)[-1].split(":")[0],
        "wikiid": "devwiki",
    }


def allpages(store: Store, params: dict[str, str]) -> tuple[list[dict], str | None]:
    raw_limit = params.get("aplimit", str(AP_DEFAULT))
    if raw_limit == "max":
        limit = AP_MAX
    else:
        try:
            limit = max(1, min(AP_MAX, int(raw_limit)))
        except ValueError:
            raise ApiError("badinteger", f'Invalid value "{raw_limit}" for integer parameter "aplimit".') from None
    start = params.get("apcontinue") or params.get("apfrom")
    pages, following = store.pages.list(start, limit)
    return [{"pageid": p.pageid, "ns": 0, "title": p.title} for p in pages], following


def revisions(store: Store, params: dict[str, str], fv2: bool, query: dict[str, Any]) -> list[dict] | dict[str, dict]:
    rvprops = set(_multi(params.get("rvprop")) or ["ids", "timestamp", "flags", "comment", "user"])
    slots = params.get("rvslots")
    results, normalized = [], []
    for given in _multi(params.get("titles")):
        title = normalize_title(given)
        if title is None:
            results.append(
                {"title": given, "invalidreason": "The requested page title is invalid.", "invalid": flag(True, fv2)}
            )
            continue
        if title != given:
            normalized.append({"from": given, "to": title})
        page = store.pages.get(title)
        if page is None:
            results.append({"ns": 0, "title": title, "missing": flag(True, fv2)})
            continue
        entry = _revision_entry(page, page.latest, rvprops, slots, fv2)
        results.append({"pageid": page.pageid, "ns": 0, "title": title, "revisions": [entry]})
    if normalized:
        query["normalized"] = normalized
    return _pages_result(results, fv2)


def _revision_entry(page: Page, rev: Revision, rvprops: set[str], slots: str | None, fv2: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "ids" in rvprops:
        position = page.revisions.index(rev)
        out.update(revid=rev.revid, parentid=page.revisions[position - 1].revid if position else 0)
    if "user" in rvprops:
        out["user"] = rev.user
    if "timestamp" in rvprops:
        out["timestamp"] = iso_timestamp(rev.timestamp)
    if "comment" in rvprops:
        out["comment"] = rev.comment
    if "content" in rvprops:
        content = {
            "contentmodel": "wikitext",
            "contentformat": "text/x-wiki",
            ("content" if fv2 else "*"): rev.text,
        }
        if slots:
            out["slots"] = {"main": content}
        else:
            out.update(content)
    return out


def revisions_by_id(
    store: Store, params: dict[str, str], fv2: bool, query: dict[str, Any]
) -> list[dict] | dict[str, dict]:
    """prop=revisions&revids=…: those revisions, grouped by page (pages by id, revisions by id).

    Unknown ids go to ``badrevids`` keyed by id, as ApiPageSet::getMissingRevisionIDsAsResult writes them.
    """
    rvprops = set(_multi(params.get("rvprop")) or ["ids", "timestamp", "flags", "comment", "user"])
    slots = params.get("rvslots")
    found: dict[int, tuple[Page, list[Revision]]] = {}
    bad: dict[str, dict[str, Any]] = {}
    for given in _multi(params.get("revids")):
        if not given.strip().isdigit():
            raise ApiError("badinteger", f'Invalid value "{given}" for integer parameter "revids".')
        revid = int(given)
        hit = store.pages.revision(revid)
        if hit is None:
            bad[str(revid)] = {"revid": revid, "missing": flag(True, fv2)}
            continue
        page, rev = hit
        revs = found.setdefault(page.pageid, (page, []))[1]
        if rev not in revs:
            revs.append(rev)
    if bad:
        query["badrevids"] = bad
    results = [
        {
            "pageid": page.pageid,
            "ns": 0,
            "title": page.title,
            "revisions": [_revision_entry(page, r, rvprops, slots, fv2) for r in sorted(revs, key=lambda r: r.revid)],
        }
        for _pageid, (page, revs) in sorted(found.items())
    ]
    return _pages_result(results, fv2)


def _pages_result(results: list[dict], fv2: bool) -> list[dict] | dict[str, dict]:
    """formatversion=2 lists the pages; formatversion=1 keys them by page id (missing ones by -1, -2, …)."""
    if fv2:
        return results
    missing = -1
    keyed: dict[str, dict] = {}
    for entry in results:
        if "pageid" in entry:
            keyed[str(entry["pageid"])] = entry
        else:
            keyed[str(missing)] = entry
            missing -= 1
    return keyed


def run(store: Store, params: dict[str, str], session: Session, fv2: bool) -> dict[str, Any]:
    """Execute action=query and build the whole result (batchcomplete, continue, query)."""
    query: dict[str, Any] = {}
    warnings: list[str] = []
    result: dict[str, Any] = {"batchcomplete": flag(True, fv2)}
    for meta in _multi(params.get("meta")):
        if meta == "userinfo":
            query["userinfo"] = userinfo(store, params, session, fv2)
        elif meta == "tokens":
            query["tokens"] = tokens(store, params, session, warnings)
        elif meta == "siteinfo":
            query.update(siteinfo(store, params))
        else:
            warnings.append(f'Unrecognized value for parameter "meta": {meta}.')
    for name in _multi(params.get("list")):
        if name == "allpages":
            query["allpages"], following = allpages(store, params)
            if following is not None:
                result["continue"] = {"apcontinue": db_key(following), "continue": "-||"}
        else:
            warnings.append(f'Unrecognized value for parameter "list": {name}.')
    if params.get("titles") and params.get("revids"):
        raise ApiError("invalidparammix", 'The parameters "titles" and "revids" can not be used together.')
    if params.get("titles") or params.get("revids"):
        props = _multi(params.get("prop"))
        if "revisions" in props:
            by_id = params.get("revids")
            query["pages"] = (revisions_by_id if by_id else revisions)(store, params, fv2, query)
        for prop in props:
            if prop != "revisions":
                warnings.append(f'Unrecognized value for parameter "prop": {prop}.')
    if warnings:
        result["warnings"] = {"query": {("warnings" if fv2 else "*"): "\n".join(warnings)}}
    if query:
        result["query"] = query
    return result
