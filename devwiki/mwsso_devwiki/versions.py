"""What each MediaWiki version the local wiki plays does differently: one table, read everywhere.

Every row was seen on a real wiki (tests/recorded/: MediaWiki 1.39.17 with REL1_39 at the server
root, 1.43.9 with REL1_43 under ``/w``, 1.45.0 with REL1_45 under ``/mediawiki``). A trait is a
fact about the wiki, never a switch for the local wiki's own convenience; anything a version does
not change is the same on all three. Pure data: no I/O, no imports from the rest of the package.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VersionTraits:
    """What one MediaWiki version (with its Extension:OAuth branch) answers."""

    version: str
    generator: str  # siteinfo's "generator"
    # The rights of the implicit groups "*" and "user", in the order the wiki lists them (identify's
    # "rights" starts with them), and the rights core dropped, which no other group keeps either.
    anonymous_rights: tuple[str, ...]
    user_rights: tuple[str, ...]
    removed_rights: tuple[str, ...]
    identify_email_verified: bool  # identify and the OAuth 2.0 profile send email_verified
    identify_email_always: bool  # identify's email even when unconfirmed (before the email_verified change)
    profile_content_type: str  # rest.php/oauth2/resource/profile
    profile_without_header_is_500: bool  # REL1_39 crashes in Guzzle; later: 401 access_denied
    invalid_bearer_is_403: bool  # 1.44+: core's session provider answers rest.php's bad bearer with 403
    authorize_error_statuses: bool  # "Application Connection Error" with 400/401 (REL1_39: 200)
    token_form_only: bool  # access_token refuses anything but form encoding with 415 (REL1_39 reads $_POST)
    refresh_month: bool  # refresh tokens last P1M (REL1_39: PT1M, a typo never backported)
    consent_display_field: bool  # the consent forms carry a hidden "display" field
    # The warning= a logged-out OAuth 1.0a authorize sends to Special:UserLogin with: REL1_42+ asks for a
    # named account (temporary accounts may not use OAuth; recorded on 1.45, 1.43 not recorded).
    login_warning: str


_MOVE = ("move", "move-subpages", "move-rootuserpages", "move-categorypages", "movefile")
_EDIT = ("read", "edit", "createpage", "createtalk")
_UPLOAD = ("upload", "reupload", "reupload-shared", "minoredit")
_USER_JS = ("editmyusercss", "editmyuserjson", "editmyuserjs", "editmyuserjsredirect")
_PRIVATE = ("viewmyprivateinfo", "editmyprivateinfo", "editmyoptions")
_WATCHLIST = ("viewmywatchlist", "editmywatchlist")
_TAGS = ("applychangetags", "changetags")

VERSIONS: dict[str, VersionTraits] = {
    "1.39": VersionTraits(
        version="1.39",
        generator="MediaWiki 1.39.17",
        anonymous_rights=("createaccount", *_EDIT, "writeapi", *_WATCHLIST, *_PRIVATE),
        user_rights=(*_MOVE, *_EDIT, *_UPLOAD, *_USER_JS, "purge", *_TAGS, "editcontentmodel", "mwoauthmanagemygrants"),
        removed_rights=(),
        identify_email_verified=False,
        identify_email_always=True,
        profile_content_type="text/html",
        profile_without_header_is_500=True,
        invalid_bearer_is_403=False,
        authorize_error_statuses=False,
        token_form_only=False,
        refresh_month=False,
        consent_display_field=False,
        login_warning="mwoauth-login-required-reason",
    ),
    "1.43": VersionTraits(
        version="1.43",
        generator="MediaWiki 1.43.9",
        # Watchlists became a right of named users only; writeapi and purge left core.
        anonymous_rights=("createaccount", *_EDIT, *_PRIVATE),
        user_rights=(
            *_MOVE,
            *_EDIT,
            *_UPLOAD,
            *_USER_JS,
            "sendemail",
            *_TAGS,
            "editcontentmodel",
            *_WATCHLIST,
            "mwoauthmanagemygrants",
        ),
        removed_rights=("writeapi", "purge"),
        identify_email_verified=True,
        identify_email_always=False,
        profile_content_type="application/json",
        profile_without_header_is_500=False,
        invalid_bearer_is_403=False,
        authorize_error_statuses=True,
        token_form_only=True,
        refresh_month=True,
        consent_display_field=True,
        login_warning="mwoauth-named-account-required-reason",
    ),
    "1.45": VersionTraits(
        version="1.45",
        generator="MediaWiki 1.45.0",
        anonymous_rights=("createaccount", *_EDIT, *_PRIVATE),
        # editcontentmodel is no longer a plain user's (sysops keep it).
        user_rights=(*_MOVE, *_EDIT, *_UPLOAD, *_USER_JS, "sendemail", *_TAGS, *_WATCHLIST, "mwoauthmanagemygrants"),
        removed_rights=("writeapi", "purge"),
        identify_email_verified=True,
        identify_email_always=False,
        profile_content_type="application/json",
        profile_without_header_is_500=False,
        invalid_bearer_is_403=True,
        authorize_error_statuses=True,
        token_form_only=True,
        refresh_month=True,
        consent_display_field=True,
        login_warning="mwoauth-named-account-required-reason",
    ),
}
DEFAULT_VERSION = "1.43"  # the current long-term release


class UnknownVersion(ValueError):
    """A MediaWiki version the local wiki does not play."""


def traits(version: str) -> VersionTraits:
    """The traits of ``version`` ("1.39", "1.43" or "1.45"); UnknownVersion otherwise."""
    try:
        return VERSIONS[str(version)]
    except KeyError:
        raise UnknownVersion(f"mw_version {version!r} unknown; choose one of: {', '.join(VERSIONS)}") from None
