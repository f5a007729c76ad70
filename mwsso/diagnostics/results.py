"""One check's outcome: an id, a status, what was found and, when it is not a pass, what to change."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mwsso.protocol.common import printable

Status = Literal["pass", "warn", "fail", "skip"]


@dataclass(frozen=True)
class Result:
    """``check`` is a stable id (``wiki.reachable``); ``skip`` means it could not be checked (``summary`` says why)."""

    check: str
    status: Status
    summary: str
    fix: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def printable(self) -> Result:
        """This result with every text in it fit for a terminal (``mwsso.protocol.common.printable``).

        A summary may quote the wiki, and a wiki's text may carry escape sequences that would retitle
        the operator's terminal, clear it, or print a line of their own.
        """
        return Result(self.check, self.status, printable(self.summary), printable(self.fix), _printable(self.details))


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {_printable(key): _printable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_printable(item) for item in value]
    return value


def exit_status(results: list[Result]) -> int:
    """0 when nothing failed or warned, 1 when a check failed, 2 when there are only warnings."""
    statuses = {r.status for r in results}
    if "fail" in statuses:
        return 1
    return 2 if "warn" in statuses else 0


def _(message: str) -> str:
    """``message`` translated when Django is set up, as written otherwise (the checks also run without Django)."""
    from django.conf import settings

    if not settings.configured:
        return message
    from django.utils.translation import gettext

    return gettext(message)


def gettext_noop(message: str) -> str:
    """Marks ``message`` for translation (makemessages knows the name); it is translated when shown."""
    return message
