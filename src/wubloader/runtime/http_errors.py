"""What every HTTP service shares about errors: one-line reasons, plain-text error bodies, CORS `*`,
and quiet logs for requests aiohttp cannot even parse. Each app keeps its own status table."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage

MAX_REASON_LENGTH = 300
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET,POST,HEAD",
    "Access-Control-Allow-Headers": "*",
    "Access-Control-Allow-Credentials": "false",
    "Access-Control-Max-Age": "86400",
    # Pages on another origin (the editor) may read these responses' Resource Timing details.
    "Timing-Allow-Origin": "*",
}


def one_line(text: str, limit: int = MAX_REASON_LENGTH) -> str:
    """Squash a message to one printable line of bounded length (it may quote client input)."""
    line = " ".join(text.split())
    line = "".join(c if c.isprintable() else "?" for c in line)
    return line[:limit] or "error"


def error_response(status: int, reason: str) -> web.Response:
    return web.Response(status=status, text=reason + "\n", content_type="text/plain")


async def cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare` hook: every response, streamed or not, error or not, carries CORS `*`."""
    response.headers.update(CORS_HEADERS)


class MalformedRequestLogFilter(logging.Filter):
    """Turns aiohttp's ERROR + traceback for an unparseable request into one INFO line.

    Such requests (raw non-UTF-8 bytes in the request line, broken headers) never reach the app:
    aiohttp answers 400 itself. They are the client's fault, so they must not flood the log with
    tracebacks. Install with `quiet_malformed_request_logs()`.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, BadHttpMessage):
            first_line = (exc.message or "malformed request").splitlines()[0]
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = "refused malformed request: %s", (one_line(first_line),)
            record.exc_info, record.exc_text = None, None
        return True


def quiet_malformed_request_logs() -> None:
    """Install MalformedRequestLogFilter on aiohttp's server logger once per process (idempotent)."""
    server_logger = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequestLogFilter) for f in server_logger.filters):
        server_logger.addFilter(MalformedRequestLogFilter())
