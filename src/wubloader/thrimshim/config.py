"""Thrimshim's configuration, parsed once from the command line (each value also WUBLOADER_<FLAG>)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wubloader.runtime.config import HttpConfig
from wubloader.runtime.errors import RuntimeConfigError

if TYPE_CHECKING:
    from datetime import datetime

TITLE_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 5000


@dataclass(frozen=True, slots=True, kw_only=True)
class OidcConfig:
    """Accept OpenID Connect ID tokens from `issuer` (keys from its JWKS) minted for `audience`."""

    issuer: str
    audience: str

    def __post_init__(self) -> None:
        if not self.issuer.startswith(("https://", "http://")):
            raise RuntimeConfigError(f"--oidc-issuer must be an http(s) URL, got {self.issuer[:64]!r}")
        if not self.audience.strip():
            raise RuntimeConfigError("--oidc-audience must not be empty")


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrimshimConfig:
    """Everything `wubloader thrimshim` needs; `upload_locations[0]` is the default location."""

    db_url: str
    http: HttpConfig = field(default_factory=lambda: HttpConfig(port=8004))
    authentication: bool = True
    oidc: OidcConfig | None = None
    title_header: str = ""
    description_footer: str = ""
    upload_locations: tuple[str, ...] = ()
    default_channel: str | None = None
    bustime_start: datetime | None = None
    drain_timeout: float = 20.0

    def __post_init__(self) -> None:
        if len(self.title_prefix) >= TITLE_MAX_LENGTH:
            raise RuntimeConfigError(f"--title-header leaves no room for a title ({TITLE_MAX_LENGTH} max)")
        if len(self.description_footer) >= DESCRIPTION_MAX_LENGTH:
            raise RuntimeConfigError("--description-footer is longer than a description may be")
        if any(not location.strip() for location in self.upload_locations):
            raise RuntimeConfigError("--upload-locations must not contain empty names")

    @property
    def title_prefix(self) -> str:
        """What every title starts with: `"<header> - "`, or nothing without a header."""
        return f"{self.title_header} - " if self.title_header else ""

    @property
    def title_max_length(self) -> int:
        return TITLE_MAX_LENGTH - len(self.title_prefix)
