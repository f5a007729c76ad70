"""Switchable misbehaviour: step faults, identify JWT faults and replica lag (maxlag); pure state, no I/O."""

from __future__ import annotations

import threading
from dataclasses import dataclass

STEPS = ("initiate", "token", "identify", "api", "authorize", "oauth2_authorize", "oauth2_token", "oauth2_profile")
KINDS = ("error", "http500", "html", "drop", "slow", "garbage")
JWT_FAULTS = (
    "bad_signature",
    "alg_none",
    "alg_hs512",
    "wrong_aud",
    "wrong_iss",
    "expired",
    "future_iat",
    "wrong_nonce",
    "missing_nonce",
    "missing_sub",
    "hidden_user",
    "garbage",
)


class FaultError(ValueError):
    """A fault switch was given values it does not know."""


@dataclass
class Fault:
    kind: str
    seconds: float = 1.0
    remaining: int | None = None  # None: every request until cleared
    status: int = 503
    code: str | None = None


def _check_count(count: int | None) -> int | None:
    if count is None:
        return None
    if int(count) < 1:
        raise FaultError("count must be at least 1 (or null for every request)")
    return int(count)


class Faults:
    """Thread-safe fault switches; ``take_*`` consumes one use of a counted fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._steps: dict[str, Fault] = {}
            self._jwt: tuple[str, int | None] | None = None
            self._lag: tuple[float, int | None] | None = None

    def set(
        self,
        step: str,
        kind: str | None,
        seconds: float | None = None,
        count: int | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        if step not in STEPS:
            raise FaultError(f"step must be one of {', '.join(STEPS)}")
        if kind is not None and kind not in KINDS:
            raise FaultError(f"kind must be null or one of {', '.join(KINDS)}")
        remaining = _check_count(count)
        with self._lock:
            if kind is None:
                self._steps.pop(step, None)
                return
            self._steps[step] = Fault(
                kind, float(1.0 if seconds is None else seconds), remaining, int(status or 503), code
            )

    def take(self, step: str) -> Fault | None:
        with self._lock:
            fault = self._steps.get(step)
            if fault is None:
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    del self._steps[step]
            return fault

    def set_jwt(self, fault: str | None, count: int | None = None) -> None:
        if fault is not None and fault not in JWT_FAULTS:
            raise FaultError(f"fault must be null or one of {', '.join(JWT_FAULTS)}")
        remaining = _check_count(count)
        with self._lock:
            self._jwt = None if fault is None else (fault, remaining)

    def take_jwt(self) -> str | None:
        with self._lock:
            if self._jwt is None:
                return None
            fault, remaining = self._jwt
            if remaining is not None:
                self._jwt = None if remaining <= 1 else (fault, remaining - 1)
            return fault

    def set_maxlag(self, lag: float, count: int | None = None) -> None:
        remaining = _check_count(count)
        with self._lock:
            self._lag = (float(lag), remaining) if float(lag) > 0 else None

    def take_maxlag(self, maxlag: float) -> float | None:
        """The lag to report if a client asking for ``maxlag`` must be refused, else None."""
        with self._lock:
            if self._lag is None or self._lag[0] <= maxlag:
                return None
            lag, remaining = self._lag
            if remaining is not None:
                self._lag = None if remaining <= 1 else (lag, remaining - 1)
            return lag

    def describe(self) -> dict[str, object]:
        with self._lock:
            return {
                "steps": {s: {"kind": f.kind, "remaining": f.remaining} for s, f in self._steps.items()},
                "jwt": None if self._jwt is None else self._jwt[0],
                "maxlag": None if self._lag is None else self._lag[0],
            }
