"""Errors of the editor's serving code.

WubloaderError
└── EditorError
    └── EditorNotInstalled    the npm files the pages import were not copied in (run bin/setup)
"""

from wubloader.errors import WubloaderError


class EditorError(WubloaderError):
    """The editor cannot be served."""


class EditorNotInstalled(EditorError):
    """A third-party file the pages import is missing from the served folder."""
