"""An in-memory page store with revisions, enough for action=edit and list=allpages."""

from __future__ import annotations

import re
import threading
from dataclasses import asdict
from typing import Any

from .models import Page, Revision

_ILLEGAL = re.compile(r"[#<>\[\]|{}\x00-\x1f\x7f]")


class EditError(Exception):
    """An edit the API refuses; ``code`` is the API error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def normalize_title(title: str) -> str | None:
    """MediaWiki's title normalisation for the main namespace, or None if invalid."""
    text = re.sub(r"[ _]+", " ", title).strip()
    if not text or _ILLEGAL.search(text) or len(text.encode("utf-8")) > 255:
        return None
    return text[0].upper() + text[1:]


def db_key(title: str) -> str:
    return title.replace(" ", "_")


class PageStore:
    """Pages by title; every method takes the store lock because handlers run in threads."""

    def __init__(self, seed: list[dict[str, str]], now: float) -> None:
        self._lock = threading.RLock()
        self._pages: dict[str, Page] = {}
        self._next_pageid = 1
        self._next_revid = 1
        for spec in seed:
            title = normalize_title(spec["title"])
            if title is None:
                raise ValueError(f"invalid seed page title: {spec['title']!r}")
            self._save(title, spec.get("text", ""), spec.get("user", "MediaWiki default"), "Seeded by devwiki", now)

    def _save(self, title: str, text: str, user: str, comment: str, now: float) -> Revision:
        page = self._pages.get(title)
        if page is None:
            page = self._pages[title] = Page(pageid=self._next_pageid, title=title)
            self._next_pageid += 1
        revision = Revision(self._next_revid, now, user, comment, text)
        self._next_revid += 1
        page.revisions.append(revision)
        return revision

    def dump(self) -> list[dict[str, Any]]:
        """Every page with all its revisions, as plain data (the state file)."""
        with self._lock:
            return [asdict(page) for page in self._pages.values()]

    def load(self, pages: list[dict[str, Any]]) -> None:
        """Replace every page with ``pages`` (from ``dump``), ids and revisions included."""
        with self._lock:
            self._pages = {
                p["title"]: Page(p["pageid"], p["title"], [Revision(**r) for r in p["revisions"]]) for p in pages
            }
            self._next_pageid = max((p.pageid for p in self._pages.values()), default=0) + 1
            revids = [r.revid for p in self._pages.values() for r in p.revisions]
            self._next_revid = max(revids, default=0) + 1

    def get(self, title: str) -> Page | None:
        with self._lock:
            return self._pages.get(title)

    def by_id(self, pageid: int) -> Page | None:
        with self._lock:
            return next((p for p in self._pages.values() if p.pageid == pageid), None)

    def revision(self, revid: int) -> tuple[Page, Revision] | None:
        """The page a revision belongs to, and the revision (``index.php?oldid=``, ``revids=``)."""
        with self._lock:
            for page in self._pages.values():
                for revision in page.revisions:
                    if revision.revid == revid:
                        return page, revision
            return None

    def __len__(self) -> int:
        with self._lock:
            return len(self._pages)

    def list(self, start: str | None, limit: int) -> tuple[list[Page], str | None]:
        """Pages sorted like the page table's (namespace, dbkey) index; next start or None."""
        with self._lock:
            keys = sorted(db_key(t).encode("utf-8") for t in self._pages)
            if start is not None:
                start_key = db_key(start).encode("utf-8")
                keys = [k for k in keys if k >= start_key]
            chosen = [self._pages[k.decode("utf-8").replace("_", " ")] for k in keys[:limit]]
            following = keys[limit].decode("utf-8") if len(keys) > limit else None
            return chosen, following

    def edit(
        self,
        title: str,
        user: str,
        *,
        text: str | None,
        appendtext: str = "",
        prependtext: str = "",
        summary: str = "",
        baserevid: int | None = None,
        createonly: bool = False,
        nocreate: bool = False,
        now: float,
    ) -> dict[str, Any]:
        """Apply an edit atomically and return ApiEditPage's result fields."""
        with self._lock:
            page = self._pages.get(title)
            if page is None and nocreate:
                raise EditError("missingtitle")
            if page is not None and createonly:
                raise EditError("articleexists")
            old = page.latest if page else None
            if baserevid is not None and old is not None and baserevid != old.revid:
                if not any(r.revid == baserevid for r in page.revisions):
                    raise EditError("nosuchrevid")
                raise EditError("editconflict")
            current = old.text if old else ""
            new_text = prependtext + (current if text is None else text) + appendtext
            if old is not None and new_text == current:
                return {
                    "result": "Success",
                    "pageid": page.pageid,
                    "title": title,
                    "contentmodel": "wikitext",
                    "nochange": True,
                }
            revision = self._save(title, new_text, user, summary, now)
            result: dict[str, Any] = {"new": True} if old is None else {}
            result.update(
                {
                    "result": "Success",
                    "pageid": self._pages[title].pageid,
                    "title": title,
                    "contentmodel": "wikitext",
                    "oldrevid": old.revid if old else 0,
                    "newrevid": revision.revid,
                    "newtimestamp": revision.timestamp,
                }
            )
            return result
