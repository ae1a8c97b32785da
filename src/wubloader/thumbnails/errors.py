"""Errors of thumbnail making.

WubloaderError
└── ThumbnailsError
    ├── BadBox (also ValueError)      a crop/location box is malformed or outside its image
    ├── BadImage (also ValueError)    a template or frame is not a decodable image
    ├── NoFrameAt                     the store has no video at the thumbnail time
    └── ThumbnailTooBig               the PNG exceeds the upload limit
"""

from wubloader.errors import WubloaderError


class ThumbnailsError(WubloaderError):
    """A thumbnail could not be made."""


class BadBox(ThumbnailsError, ValueError):
    """A box is 4 integers (left, top, right, bottom), right > left, bottom > top, inside the image."""


class BadImage(ThumbnailsError, ValueError):
    """The bytes are not an image Pillow can decode."""


class NoFrameAt(ThumbnailsError):
    """No segment covers the requested instant."""


class ThumbnailTooBig(ThumbnailsError):
    """Over MAX_THUMBNAIL_BYTES (YouTube refuses thumbnails over 2 MiB)."""


class UnknownTemplate(ThumbnailsError):
    """No template of that name exists."""
