"""Errors of the editor's serving code.

WubloaderError
└── EditorError
    └── EditorNotInstalled    the npm files the pages import were not copied in (run bin/setup);
                              also a RuntimeConfigError: a server refuses to start, in one line
"""

from wubloader.errors import WubloaderError
from wubloader.runtime.errors import RuntimeConfigError


class EditorError(WubloaderError):
    """The editor cannot be served."""


class EditorNotInstalled(EditorError, RuntimeConfigError):
    """A third-party file the pages import is missing from the served folder."""
