"""Paths an operator types (`tombstone add PATH…`): checked to name a segment inside the store, no escape."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wubloader.store.errors import BadSegmentName, UnsafePath
from wubloader.store.naming import Segment, SegmentType, check_component, parse_hour, parse_segment_name


@dataclass(frozen=True, slots=True, kw_only=True)
class StorePath:
    """A segment named by an operator: the store it lives in and the parsed segment."""

    base: Path
    segment: Segment

    @property
    def path(self) -> Path:
        return Path(self.segment.path)


def resolve_segment_path(path: Path, base: Path | None) -> StorePath:
    """Check that `path` is `BASE/CHANNEL/QUALITY/HOUR/NAME.ts` and return it parsed.

    Without `base`, the store is the directory four levels up. Raises UnsafePath for `..`, hidden
    components, symlinks (anywhere below the store) or a path outside `base`; BadSegmentName when the
    name is not a (non-temp) segment name.
    """
    if ".." in path.parts:
        raise UnsafePath(f"{path}: '..' is not allowed")
    absolute = Path(path).absolute()
    store = Path(base).absolute() if base is not None else absolute.parents[3]
    try:
        relative = absolute.relative_to(store)
    except ValueError:
        raise UnsafePath(f"{path} is outside the store {store}") from None
    parts = relative.parts
    if len(parts) != 4:
        raise UnsafePath(f"{path}: expected STORE/CHANNEL/QUALITY/HOUR/NAME.ts")
    for part in parts:
        check_component(part)
    if absolute.resolve() != store.resolve().joinpath(*parts):
        raise UnsafePath(f"{path}: symbolic links are not followed out of (or within) the store")
    channel, quality, hour, name = parts
    segment = parse_segment_name(parse_hour(hour), name, channel, quality, str(absolute))
    if segment.type is SegmentType.TEMP:
        raise BadSegmentName(f"{path} is a temp file, not a segment")
    return StorePath(base=store, segment=segment)
