"""The root of wubloader's error hierarchy; each layer's errors.py derives from it."""


class WubloaderError(Exception):
    """Root of every error wubloader raises on purpose."""
