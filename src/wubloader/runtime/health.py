"""`/healthz` (the process's loop answers) and `/readyz` (readiness checks the component supplies).

Holds no domain logic: a component passes its checks (store writable, database reachable) as
callables that raise to say "not ready"; this module only runs them under a deadline and answers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from collections.abc import Mapping

# A readiness check returns when its condition holds and raises (any exception, whose one-line text
# becomes the reason) when it does not.
Check = Callable[[], Awaitable[None]]

logger = logging.getLogger(__name__)

# A probe (Kubernetes, compose) gives up after a few seconds itself; a check slower than this is
# reported as the reason instead of hanging the probe.
CHECK_TIMEOUT = 5.0
HEALTH_ROUTES = ("/healthz", "/readyz")


class Health:
    """What `/readyz` checks for one process: `checks` (name → check, e.g. `store`, `database`) in
    order, then that `stop` (if given) is not set.

    A process that is draining (stop set) is alive but not ready, so load balancers stop sending it
    work while in-flight requests finish.
    """

    def __init__(
        self,
        checks: Mapping[str, Check] | None = None,
        *,
        stop: asyncio.Event | None = None,
        timeout: float = CHECK_TIMEOUT,
    ) -> None:
        self.checks = dict(checks or {})
        self.stop = stop
        self.timeout = timeout

    async def not_ready_reason(self) -> str | None:
        """None when ready; otherwise one line saying why (the first failing check, or draining)."""
        if self.stop is not None and self.stop.is_set():
            return "draining: stopping after SIGTERM"
        for name, check in self.checks.items():
            try:
                async with asyncio.timeout(self.timeout):
                    await check()
            except TimeoutError:
                return f"{name}: no answer within {self.timeout:g} s"
            except Exception as exc:  # any failure of a check means "not ready", with its reason
                return f"{name}: {one_line(exc)}"
        return None


def one_line(exc: BaseException) -> str:
    """The exception's text on one line (its type name when it has none)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _json(status: int, body: dict[str, str]) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


def add_health_routes(app: web.Application, health: Health) -> None:
    """Add `GET /healthz` (200 `{"status": "alive"}`) and `GET /readyz` (200 `{"status": "ready"}`, or
    503 `{"status": "not ready", "reason": "…"}`) to `app`; both answer HEAD too."""

    async def healthz(request: web.Request) -> web.Response:
        # Answering at all proves the event loop runs: a blocked or dead loop answers nothing.
        return _json(200, {"status": "alive"})

    async def readyz(request: web.Request) -> web.Response:
        reason = await health.not_ready_reason()
        if reason is None:
            return _json(200, {"status": "ready"})
        logger.debug("not ready: %s", reason)
        return _json(503, {"status": "not ready", "reason": reason})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
