"""Static wiki data: user groups and their rights, OAuth grants and their labels.

Values follow MediaWiki's defaults (DefaultSettings, Extension:OAuth) so that ``rights`` and
``groups`` in identify look like the recorded ones; the implicit groups' rights, which changed
between versions, come from the version's traits (versions.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..versions import VersionTraits

# Rights per group, in the order MediaWiki lists them for a user.
GROUP_RIGHTS: dict[str, tuple[str, ...]] = {
    # "*" and "user" change between versions: their rights are in versions.py.
    "autoconfirmed": ("autoconfirmed", "editsemiprotected"),
    "bot": (
        "bot",
        "autoconfirmed",
        "editsemiprotected",
        "nominornewtalk",
        "autopatrol",
        "suppressredirect",
        "apihighlimits",
        "writeapi",
    ),
    "sysop": (
        "block",
        "createaccount",
        "delete",
        "bigdelete",
        "deletedhistory",
        "deletedtext",
        "undelete",
        "editinterface",
        "editsitejson",
        "edituserjson",
        "import",
        "importupload",
        "move",
        "move-subpages",
        "move-rootuserpages",
        "move-categorypages",
        "patrol",
        "autopatrol",
        "protect",
        "editprotected",
        "rollback",
        "upload",
        "reupload",
        "reupload-shared",
        "unwatchedpages",
        "autoconfirmed",
        "editsemiprotected",
        "ipblock-exempt",
        "blockemail",
        "markbotedits",
        "apihighlimits",
        "browsearchive",
        "noratelimit",
        "movefile",
        "unblockself",
        "suppressredirect",
        "mergehistory",
        "managechangetags",
        "deletechangetags",
        "deletelogentry",
        "deleterevision",
        "editcontentmodel",
        "mwoauthproposeconsumer",
        "mwoauthupdateownconsumer",
        "mwoauthmanageconsumer",
    ),
    "interface-admin": (
        "editinterface",
        "editsitecss",
        "editsitejson",
        "editsitejs",
        "editusercss",
        "edituserjson",
        "edituserjs",
    ),
    "bureaucrat": ("userrights", "noratelimit", "renameuser", "mwoauthmanageconsumer"),
}

IMPLICIT_GROUPS = ("*", "user", "autoconfirmed")

# Wikipedia-like thresholds; MediaWiki's defaults (0 and 0) would make every
# account autoconfirmed and hide the "new account" case.
AUTOCONFIRM_AGE_SECONDS = 4 * 24 * 3600
AUTOCONFIRM_EDITS = 10

# Grants that every normal consumer gets implicitly ($wgGrantPermissionGroups "hidden").
HIDDEN_GRANTS = ("basic",)
AUTHONLY_GRANTS = ("mwoauth-authonly", "mwoauth-authonlyprivate")
PRIVATE_INFO_GRANTS = ("mwoauth-authonlyprivate", "privateinfo")

# grant -> (grant group, label); group labels below. Labels are MediaWiki's grant-* messages.
GRANTS: dict[str, tuple[str, str]] = {
    "basic": ("hidden", "Basic rights"),
    "highvolume": ("high-volume", "High-volume (bot) access"),
    "editpage": ("page-interaction", "Edit existing pages"),
    "editprotected": ("protected-editing", "Edit protected pages"),
    "createeditmovepage": ("page-interaction", "Create, edit, and move pages"),
    "uploadfile": ("file-interaction", "Upload new files"),
    "uploadeditmovefile": ("file-interaction", "Upload, replace, and move files"),
    "patrol": ("administration", "Patrol changes to pages"),
    "rollback": ("administration", "Rollback changes to pages"),
    "blockusers": ("administration", "Block and unblock users"),
    "viewdeleted": ("administration", "View deleted files and pages"),
    "delete": ("administration", "Delete pages, revisions, and log entries"),
    "protect": ("administration", "Protect and unprotect pages"),
    "privateinfo": ("private-information", "Access your private information"),
    "sendemail": ("email", "Send email to other users"),
    "editmywatchlist": ("watchlist-interaction", "Edit your watchlist"),
    "viewmywatchlist": ("watchlist-interaction", "View your watchlist"),
    "mwoauth-authonly": ("hidden", "Authentication only, no API access."),
    "mwoauth-authonlyprivate": (
        "hidden",
        "Authentication only with access to real name and email address via Special:OAuth/identify, no API access.",
    ),
}

GRANT_GROUP_LABELS: dict[str, str] = {
    "page-interaction": "Interact with pages",
    "file-interaction": "Interact with media",
    "watchlist-interaction": "Interact with your watchlist",
    "email": "Send email",
    "high-volume": "Perform high volume activity",
    "protected-editing": "Edit protected pages",
    "administration": "Perform administrative actions",
    "private-information": "Access your private information",
    "other": "Miscellaneous",
}

# Rights each grant allows ($wgGrantPermissions, abridged). An OAuth session may
# use only the user's rights that one of its grants allows.
GRANT_RIGHTS: dict[str, tuple[str, ...]] = {
    "basic": (
        "autoconfirmed",
        "autopatrol",
        "editsemiprotected",
        "ipblock-exempt",
        "nominornewtalk",
        "patrolmarks",
        "read",
        "unwatchedpages",
        "writeapi",
        "purge",
    ),
    "highvolume": ("bot", "apihighlimits", "noratelimit", "markbotedits"),
    "editpage": ("edit", "minoredit", "applychangetags", "changetags", "editcontentmodel"),
    "editprotected": ("edit", "minoredit", "editprotected"),
    "createeditmovepage": (
        "createpage",
        "createtalk",
        "delete-redirect",
        "move",
        "move-rootuserpages",
        "move-subpages",
        "move-categorypages",
        "suppressredirect",
    ),
    "uploadfile": ("upload", "reupload-own"),
    "uploadeditmovefile": ("upload", "reupload", "reupload-own", "reupload-shared", "movefile"),
    "patrol": ("patrol",),
    "rollback": ("rollback",),
    "blockusers": ("block", "blockemail"),
    "delete": ("delete", "deletedhistory", "deletedtext", "undelete", "deleterevision"),
    "protect": ("protect", "editprotected"),
    "privateinfo": ("viewmyprivateinfo",),
    "sendemail": ("sendemail",),
    "editmywatchlist": ("editmywatchlist",),
    "viewmywatchlist": ("viewmywatchlist",),
}


def grant_rights(grants: list[str]) -> set[str]:
    rights: set[str] = set()
    for grant in grants:
        rights.update(GRANT_RIGHTS.get(grant, ()))
    return rights


def grant_groups(grants: list[str]) -> list[tuple[str, list[str]]]:
    """Visible grants grouped like the authorize dialog shows them: [(group label, [labels])]."""
    groups: dict[str, list[str]] = {}
    for grant in grants:
        group, label = GRANTS.get(grant, ("other", grant))
        if group == "hidden":
            continue
        groups.setdefault(GRANT_GROUP_LABELS.get(group, group), []).append(label)
    return list(groups.items())


def group_rights(group: str, traits: VersionTraits) -> tuple[str, ...]:
    """One group's rights on this version, without those core dropped."""
    if group == "*":
        rights = traits.anonymous_rights
    elif group == "user":
        rights = traits.user_rights
    else:
        rights = GROUP_RIGHTS.get(group, ())
    return tuple(r for r in rights if r not in traits.removed_rights)


def rights_for_groups(groups: list[str], traits: VersionTraits) -> list[str]:
    """All rights of the given effective groups, de-duplicated in first-seen order."""
    seen: dict[str, None] = {}
    for group in groups:
        for right in group_rights(group, traits):
            seen.setdefault(right, None)
    return list(seen)
