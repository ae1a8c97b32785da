"""Segment names and paths: the only code that builds or parses them (byte-compatible with the original)."""

from __future__ import annotations

import base64
import enum
import functools
import hashlib
import math
import re
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING

from wubloader.store.errors import BadSegmentName, UnsafePath

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    # Each name's TIME text, duration and type.
    Columns = tuple[Sequence[str], list[timedelta], list["SegmentType"]]

HOUR_FORMAT = "%Y-%m-%dT%H"
SEGMENT_SUFFIX = ".ts"
TOMBSTONE_SUFFIX = ".tombstone"
# Linux file systems refuse longer names; a longer one from a peer could never be stored.
MAX_NAME_BYTES = 255
# Selection looks one hour back for a segment covering a range's start, so nothing may be longer.
MAX_SEGMENT_SECONDS = 3600.0
# A SHA-256 in url-safe base64 without padding is 43 characters; a temp name carries a uuid4.
HASH_LENGTH = 43
# TIME-DURATION-TYPE-HASH.ts in one match (so at most ~120 ASCII characters). TIME is MM:SS.ffffff
# (1-6 fraction digits); DURATION a plain decimal (float() would also take `1e308`, `inf`, `nan`,
# signs, underscores and spaces); HASH url-safe base64, the uuid4 of a temp name included.
_NAME_RE = re.compile(
    r"([0-5][0-9]):([0-5][0-9])\.([0-9]{1,6})"
    r"-([0-9]{1,4}(?:\.[0-9]{1,20})?)"
    r"-(full|suspect|partial|temp)"
    r"-([A-Za-z0-9_-]{1,64})\.ts"
)
# The same names, one per line of a newline-joined listing, for parsing an hour in bulk; TIME is one
# group (`MM:SS.ffffff`), the key of the offsets cache below.
_NAME_LINE_RE = re.compile(
    r"^([0-5][0-9]:[0-5][0-9]\.[0-9]{1,6})"
    r"-([0-9]{1,4}(?:\.[0-9]{1,20})?)"
    r"-(full|suspect|partial|temp)"
    r"-([A-Za-z0-9_-]{1,64})\.ts$",
    re.MULTILINE,
)
# TIME text → offset into its hour. A stream's segments keep their phase, so the same 1,800 texts come
# back every hour: one dict lookup instead of three int() calls and a timedelta. Bounded.
_OFFSETS: dict[str, timedelta] = {}
_MAX_OFFSETS = 16384
_CLOCK = itemgetter(slice(0, 12))  # `MM:SS.ffffff` of a name with a six-digit time
_HOUR_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}")
_LAST_TIME = datetime(9999, 12, 31, 23, 59, 59, 999999)  # naive UTC, like every store time


class SegmentType(enum.StrEnum):
    """How far a segment's bytes can be trusted."""

    FULL = "full"
    SUSPECT = "suspect"
    PARTIAL = "partial"
    TEMP = "temp"


_TYPES = {t.value: t for t in SegmentType}


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    """One segment file in the store. `start` and `end` are naive UTC.

    Compact, since the selection cache holds one per file of every cached hour: the directory
    (`folder`, with its trailing "/", "" if unknown) is one string shared by the whole hour, `name`
    is the listing's own string, and `path` and `hash` are derived from them.
    """

    folder: str
    name: str
    channel: str | None
    quality: str | None
    start: datetime
    duration: timedelta
    type: SegmentType

    @property
    def path(self) -> str:
        return self.folder + self.name

    @property
    def hash(self) -> str | None:
        """The name's HASH field (it may hold "-"); None for `temp` (a uuid there) or a name without one."""
        fields = self.name.split("-", 3)
        if self.type is SegmentType.TEMP or len(fields) < 4 or not self.name.endswith(SEGMENT_SUFFIX):
            return None
        return fields[3][: -len(SEGMENT_SUFFIX)]

    @property
    def end(self) -> datetime:
        return self.start + self.duration

    @property
    def is_partial(self) -> bool:
        """Anything but `full` must be followed by a hole: suspect counts as partial, as in the original."""
        return self.type is not SegmentType.FULL


# The bulk parser fills records through the slots' own setters, one field of a whole hour at a time
# (`_build_segments`); a frozen dataclass's __init__ sets each field through `object.__setattr__` by name.
_SEGMENT_SETTERS = tuple(
    getattr(Segment, f).__set__ for f in ("folder", "name", "channel", "quality", "start", "duration", "type")
)


def split_path(path: str) -> tuple[str, str]:
    """`DIR/NAME` → (`DIR/`, `NAME`): a Segment's `folder` and `name`."""
    cut = path.rfind("/") + 1
    return path[:cut], path[cut:]


def encode_hash(digest: bytes) -> str:
    """SHA-256 digest → url-safe base64 without padding (43 chars)."""
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def decode_hash(text: str) -> bytes:
    """Inverse of `encode_hash`; raises BadSegmentName on malformed input."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise BadSegmentName(f"bad hash {text!r}") from exc


def hash_bytes(data: bytes) -> str:
    return encode_hash(hashlib.sha256(data).digest())


def format_duration(seconds: float) -> str:
    """Python's float rendering as the original wrote it (`2.0`, `2.002`), but never exponent notation.

    Raises BadSegmentName (a ValueError) for a duration no segment name may carry: negative, not
    finite, or over MAX_SEGMENT_SECONDS.
    """
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_SEGMENT_SECONDS:
        raise BadSegmentName(f"implausible segment duration {seconds!r}")
    text = repr(float(seconds))
    if "e" in text or "E" in text:
        text = f"{seconds:.6f}".rstrip("0")
        if text.endswith("."):
            text += "0"
    return text


def hour_name(when: datetime) -> str:
    """`HOUR_FORMAT` with a zero-padded year (glibc's strftime writes year 999 as `999`: unparseable)."""
    return f"{when.year:04d}-{when.month:02d}-{when.day:02d}T{when.hour:02d}"


def segment_filename(start: datetime, duration: str, type: SegmentType, hash: str) -> str:
    """`TIME-DURATION-TYPE-HASH.ts`; `duration` is the already-formatted text (see `format_duration`)."""
    return f"{start:%M:%S.%f}-{duration}-{type.value}-{hash}{SEGMENT_SUFFIX}"


def segment_path(
    base: Path, channel: str, quality: str, start: datetime, duration: str, type: SegmentType, hash: str
) -> Path:
    return base / channel / quality / hour_name(start) / segment_filename(start, duration, type, hash)


def parse_hour(hour: str) -> datetime:
    """`%Y-%m-%dT%H` by fixed offsets: more than twice as fast as strptime on hot listing paths.

    Only the canonical form `hour_name` writes is accepted (ASCII digits, zero-padded): int() would
    also take signs, spaces, underscores and other scripts' digits, naming directories nothing lists.
    """
    if _HOUR_RE.fullmatch(hour) is None:
        raise BadSegmentName(f"bad hour {hour[:64]!r}")
    try:
        return datetime(int(hour[0:4]), int(hour[5:7]), int(hour[8:10]), int(hour[11:13]))
    except ValueError as exc:
        raise BadSegmentName(f"bad hour {hour[:64]!r}") from exc


def parse_segment_name(
    hour_start: datetime, name: str, channel: str | None = None, quality: str | None = None, path: str = ""
) -> Segment:
    """Parse `TIME-DURATION-TYPE-HASH.ts` inside the hour starting at `hour_start`.

    Raises BadSegmentName for anything else, including implausible names: not ASCII, too long (no
    valid name reaches MAX_NAME_BYTES), a duration that is not a plain decimal up to
    MAX_SEGMENT_SECONDS, a hash that is not url-safe base64 of at most HASH_LENGTH characters, or
    an end past the last representable time.
    """
    match = _NAME_RE.fullmatch(name)
    if match is None:
        raise BadSegmentName(f"not a segment name: {name[:80]!r}")
    minute, second, fraction, duration_text, type_text, hash_text = match.groups()
    seg_type = _TYPES[type_text]
    if seg_type is not SegmentType.TEMP and len(hash_text) > HASH_LENGTH:
        raise BadSegmentName(f"bad hash in {name!r}")
    # Integer fields, not float(): a float start once caused 1 µs errors and false overlaps.
    start = hour_start + timedelta(
        minutes=int(minute), seconds=int(second), microseconds=int(fraction.ljust(6, "0"))
    )
    duration = _parse_duration(duration_text)
    if start.year == 9999 and start > _LAST_TIME - duration:  # `Segment.end` would overflow
        raise BadSegmentName(f"segment {name!r} ends after the year 9999")
    return Segment(
        folder=split_path(path)[0],
        name=name,
        channel=channel,
        quality=quality,
        start=start,
        duration=duration,
        type=seg_type,
    )


@dataclass(frozen=True, slots=True)
class HourColumns:
    """The fields of an hour's names, parsed in bulk: each one's TIME text (`MM:SS.ffffff` when
    `six_digit_times`), offset into the hour, duration and type, in the names' order."""

    times: Sequence[str]
    offsets: list[timedelta]
    durations: list[timedelta]
    types: list[SegmentType]
    six_digit_times: bool


def hour_columns(hour_start: datetime, names: Sequence[str]) -> HourColumns | None:
    """Every name's fields by one regular-expression pass over the joined names, each field
    converted once per distinct text; None when a name does not fit (a newline in a name, a
    malformed or unusual one): such an hour is parsed name by name. The usual hour (one duration,
    one type, six-digit times) is only checked by a match without groups, a third of the cost of
    extracting every field."""
    text = "\n".join(names)
    if not names or text.count("\n") != len(names) - 1 or hour_start.year >= 9999:
        return None
    uniform = _uniform_columns(names, text)
    columns = uniform or _listed_columns(names, text)
    if columns is None:
        return None
    times, durations, types = columns
    return HourColumns(
        times=times,
        offsets=list(map(_offsets(times).__getitem__, times)),
        durations=durations,
        types=types,
        six_digit_times=uniform is not None or set(map(len, times)) == {len("MM:SS.ffffff")},
    )


def parse_hour_names(
    hour_start: datetime,
    names: Sequence[str],
    columns: HourColumns | None,
    channel: str | None,
    quality: str | None,
    prefix: str,
) -> list[Segment | None]:
    """`parse_segment_name` of each name (path `prefix + name`), None for a bad one: in bulk from
    `columns` (`hour_columns` of the names), or name by name when they could not vouch for every
    name (None), so the results are always those of `parse_segment_name`."""
    if columns is None:
        return [_parse_or_none(hour_start, name, channel, quality, prefix) for name in names]
    made = segments_of(
        hour_start, names, columns.offsets, columns.durations, columns.types, channel, quality, prefix
    )
    return made  # type: ignore[return-value]  # no None among them


def segments_of(
    hour_start: datetime,
    names: Sequence[str],
    offsets: Iterable[timedelta],
    durations: Iterable[timedelta],
    types: Iterable[SegmentType],
    channel: str | None,
    quality: str | None,
    prefix: str,
) -> list[Segment]:
    """The records of `names` (in `prefix`) from their parsed fields, made in bulk."""
    fields = (
        repeat(prefix),
        names,
        repeat(channel),
        repeat(quality),
        map(hour_start.__add__, offsets),
        durations,
        types,
    )
    return _build_segments(len(names), fields)


def _uniform_columns(names: Sequence[str], text: str) -> Columns | None:
    """When every name has the first one's duration and type and a six-digit time (its first 12
    characters), checked by one match without groups; else None."""
    first = _NAME_RE.fullmatch(names[0])
    if first is None:
        return None
    duration = _duration_or_none(first[4])
    if duration is None or _uniform_names(first[4], first[5]).fullmatch(text) is None:
        return None
    return list(map(_CLOCK, names)), [duration] * len(names), [_TYPES[first[5]]] * len(names)


def _listed_columns(names: Sequence[str], text: str) -> Columns | None:
    """Every name's fields by one grouped pass over the listing; None if a name does not fit."""
    found = _NAME_LINE_RE.findall(text)
    if len(found) != len(names):
        return None
    times, duration_texts, type_texts, hashes = zip(*found, strict=True)
    parsed = {text: _duration_or_none(text) for text in set(duration_texts)}
    durations = {text: duration for text, duration in parsed.items() if duration is not None}
    if len(durations) < len(parsed) or not _hashes_fit(type_texts, hashes):
        return None
    return times, list(map(durations.__getitem__, duration_texts)), list(map(_TYPES.__getitem__, type_texts))


@functools.lru_cache(maxsize=64)
def _uniform_names(duration_text: str, type_text: str) -> re.Pattern[str]:
    """Newline-joined names with this duration and type, six-digit times, hashes that fit."""
    hash_length = 64 if type_text == "temp" else HASH_LENGTH
    name = (
        rf"[0-5][0-9]:[0-5][0-9]\.[0-9]{{6}}-{re.escape(duration_text)}-{type_text}"
        rf"-[A-Za-z0-9_-]{{1,{hash_length}}}\.ts"
    )
    return re.compile(rf"{name}(?:\n{name})*")


def _hashes_fit(type_texts: Sequence[str], hashes: Sequence[str]) -> bool:
    """Every HASH but a temp name's (a uuid there) is at most HASH_LENGTH characters."""
    if max(map(len, hashes)) <= HASH_LENGTH:
        return True
    return all(t == "temp" for t, h in zip(type_texts, hashes, strict=True) if len(h) > HASH_LENGTH)


def _offsets(times: Iterable[str]) -> dict[str, timedelta]:
    """`_OFFSETS`, holding every one of `times` (each converted once, then a lookup every hour)."""
    missing = set(times).difference(_OFFSETS)
    if len(_OFFSETS) + len(missing) > _MAX_OFFSETS:
        _OFFSETS.clear()
        missing = set(times)
    for time_text in missing:
        _OFFSETS[time_text] = _time_offset(time_text)
    return _OFFSETS


def _build_segments(count: int, fields: Iterable[Iterable[object]]) -> list[Segment]:
    """`count` records, each field set for all of them in one `map` over its slot's setter (a call
    from C per value, no Python frame): a fifth of the cost of setting a record's fields in turn."""
    segments: list[Segment] = list(map(object.__new__, repeat(Segment, count)))
    for setter, values in zip(_SEGMENT_SETTERS, fields, strict=True):
        deque(map(setter, segments, values), maxlen=0)
    return segments


def _time_offset(text: str) -> timedelta:
    """`MM:SS.ffffff` (already matched) → its offset into the hour."""
    return timedelta(0, int(text[0:2]) * 60 + int(text[3:5]), int(text[6:].ljust(6, "0")))


def _duration_or_none(text: str) -> timedelta | None:
    try:
        return _parse_duration(text)
    except BadSegmentName:
        return None


def _parse_or_none(
    hour_start: datetime, name: str, channel: str | None, quality: str | None, prefix: str
) -> Segment | None:
    try:
        return parse_segment_name(hour_start, name, channel, quality, prefix + name)
    except BadSegmentName:
        return None


@functools.lru_cache(maxsize=1024)
def _parse_duration(text: str) -> timedelta:
    # A stream repeats a handful of durations: the cache makes this a lookup on hot listing paths.
    seconds = float(text)
    if seconds > MAX_SEGMENT_SECONDS:
        raise BadSegmentName(f"implausible segment duration {text!r}")
    return timedelta(seconds=seconds)


def parse_segment_path(path: str | Path) -> Segment:
    """Parse `[…/]CHANNEL/QUALITY/HOUR/NAME.ts`; the hour is required, channel and quality optional."""
    text = str(path)
    parts = text.split("/")
    if len(parts) < 2:
        raise BadSegmentName(f"segment path has no hour: {text!r}")
    name, hour = parts[-1], parts[-2]
    quality = parts[-3] if len(parts) >= 3 else None
    channel = parts[-4] if len(parts) >= 4 else None
    for part in (channel, quality):
        if part is not None and _too_long(part):
            raise BadSegmentName(f"path part over {MAX_NAME_BYTES} bytes in {text[:64]!r}")
    return parse_segment_name(parse_hour(hour), name, channel or None, quality or None, text)


def tombstone_name(segment_name: str) -> str:
    """`STEM.ts` → `STEM.tombstone` (the empty file that hides it)."""
    return segment_name.rsplit(".", 1)[0] + TOMBSTONE_SUFFIX


def _too_long(part: str) -> bool:
    if len(part) > MAX_NAME_BYTES:
        return True
    return not part.isascii() and len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES


def check_component(component: str) -> str:
    """Reject a path component from outside that could escape the store or reveal hidden files, or
    that no file system could hold (over MAX_NAME_BYTES bytes)."""
    if (
        not component
        or _too_long(component)
        or component.startswith(".")
        or "/" in component
        or "\\" in component
        or "\0" in component
        or not component.isprintable()
    ):
        raise UnsafePath(f"bad path component {component[:64]!r}")
    return component
