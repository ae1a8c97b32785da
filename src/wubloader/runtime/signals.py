"""Catching SIGTERM/SIGINT from the first moment of a process, before an event loop exists (stdlib only)."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class SignalLatch:
    """Remembers the first stop signal received before the event loop takes over signal handling.

    Without it, a SIGTERM during imports and start-up would kill the process with the default
    action (original issue #226: a stop sent too early was lost and the server then ran forever).
    `serve.run_until_stopped(main, latch=...)` replays a remembered signal as a graceful stop.
    """

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._previous: dict[signal.Signals, object] = {}

    def _remember(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signal.Signals(signum)

    def install(self) -> None:
        """Catch SIGTERM and SIGINT from now on. Must run in the main thread."""
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._remember)
        # A parent may have blocked these signals (some supervisors do, and so does the start-up test);
        # unblocking delivers one that has been pending since before we started, to the handler above.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

    @staticmethod
    def current() -> SignalLatch | None:
        """The latch whose handler is installed for SIGTERM right now, if any.

        The signal module already holds the installed handler, so a command can install a latch
        early and `run_until_stopped` finds it later without it being passed through every layer.
        """
        handler = signal.getsignal(signal.SIGTERM)
        owner = getattr(handler, "__self__", None)
        return owner if isinstance(owner, SignalLatch) else None

    def restore(self) -> None:
        """Put back the handlers that were active before `install`."""
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)  # type: ignore[arg-type]
        self._previous.clear()


def catch_stop_signals() -> SignalLatch:
    """Install and return a SignalLatch; call it first thing in a command's `main()`, before heavy imports."""
    latch = SignalLatch()
    latch.install()
    return latch
