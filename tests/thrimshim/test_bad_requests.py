"""A table of bad requests: each gets a 4xx with a one-line reason, and the row is left as it was."""

from __future__ import annotations

import json

import pytest

from tests.thrimshim.conftest import PNG, b64, bearer, edit_body
from wubloader.db import events

SQL = "'; DROP TABLE events; --"
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 20


def without(*keys):
    body = edit_body()
    for key in keys:
        del body[key]
    return body


def ranges(*pairs):
    return [list(pair) for pair in pairs]


A, B, C = "2024-11-10T03:05:00", "2024-11-10T03:10:00", "2024-11-10T03:20:00"

# (case id, path, body (dict → JSON, bytes → raw), status, reason fragment)
CASES = [
    (
        "missing keys",
        "/thrimshim/ev1",
        without("video_title", "tags"),
        400,
        "Fields missing in JSON: video_title, tags",
    ),
    ("not json", "/thrimshim/ev1", b"{nope", 400, "body is not valid JSON"),
    ("json array", "/thrimshim/ev1", b"[1, 2]", 400, "body must be a JSON object"),
    ("json string", "/thrimshim/ev1", b'"x"', 400, "body must be a JSON object"),
    ("empty body", "/thrimshim/ev1", b"", 400, "body is not valid JSON"),
    ("not utf-8", "/thrimshim/ev1", b'{"a": "\xff"}', 400, "not valid UTF-8"),
    ("NaN", "/thrimshim/ev1", b'{"a": NaN}', 400, "NaN is not a number"),
    ("deep nesting", "/thrimshim/ev1", b"[" * 100000 + b"]" * 100000, 400, "nested too deeply"),
    ("missing row", "/thrimshim/nope", edit_body(), 404, "Row id = nope not found"),
    ("sql id", "/thrimshim/" + "x%27%3B%20DROP%20TABLE%20events", edit_body(), 404, "not found"),
    ("too long id", "/thrimshim/" + "x" * 300, edit_body(), 400, "bad id"),
    ("control char id", "/thrimshim/a%01b", edit_body(), 400, "bad id"),
    (
        "wrong transition count",
        "/thrimshim/ev1",
        edit_body(video_transitions=[]),
        400,
        "exactly 1 transitions for 2 ranges",
    ),
    (
        "too many transitions",
        "/thrimshim/ev1",
        edit_body(video_transitions=[None, None]),
        400,
        "exactly 1 transitions",
    ),
    (
        "no ranges",
        "/thrimshim/ev1",
        edit_body(video_ranges=[], video_transitions=[]),
        400,
        "at least one range",
    ),
    (
        "start after end",
        "/thrimshim/ev1",
        edit_body(video_ranges=ranges((B, A)), video_transitions=[]),
        400,
        "Range start must be less than end",
    ),
    (
        "zero-length range",
        "/thrimshim/ev1",
        edit_body(video_ranges=ranges((A, A)), video_transitions=[]),
        400,
        "Range start must be less than end",
    ),
    (
        "unknown transition",
        "/thrimshim/ev1",
        edit_body(video_transitions=[["wobble", 1]]),
        400,
        "unknown transition type 'wobble'",
    ),
    ("zero duration", "/thrimshim/ev1", edit_body(video_transitions=[["fade", 0]]), 400, "greater than 0"),
    (
        "negative duration",
        "/thrimshim/ev1",
        edit_body(video_transitions=[["fade", -1]]),
        400,
        "greater than 0",
    ),
    (
        "huge duration",
        "/thrimshim/ev1",
        edit_body(video_transitions=[["fade", 1e300]]),
        400,
        "less than or equal to 3600",
    ),
    (
        "transition longer than range",
        "/thrimshim/ev1",
        edit_body(video_ranges=ranges((A, B), (C, "2024-11-10T03:20:02")), video_transitions=[["fade", 5]]),
        400,
        "longer than an adjacent range",
    ),
    (
        "transition as string",
        "/thrimshim/ev1",
        edit_body(video_transitions=["fade"]),
        400,
        "bad video_transitions.0",
    ),
    (
        "range not a pair",
        "/thrimshim/ev1",
        edit_body(video_ranges=[[A]], video_transitions=[]),
        400,
        "bad video_ranges.0",
    ),
    (
        "timestamp with words",
        "/thrimshim/ev1",
        edit_body(video_ranges=ranges(("yesterday", B)), video_transitions=[]),
        400,
        "bad timestamp 'yesterday'",
    ),
    (
        "timestamp as number",
        "/thrimshim/ev1",
        edit_body(thumbnail_time=1700000000),
        400,
        "bad thumbnail_time",
    ),
    (
        "impossible date",
        "/thrimshim/ev1",
        edit_body(thumbnail_time="2024-02-30T00:00:00"),
        400,
        "bad timestamp",
    ),
    (
        "unknown location",
        "/thrimshim/ev1",
        edit_body(upload_location="ytube"),
        400,
        "unknown upload_location 'ytube'",
    ),
    ("sql location", "/thrimshim/ev1", edit_body(upload_location=SQL), 400, "unknown upload_location"),
    (
        "null location on submit",
        "/thrimshim/ev1",
        edit_body(upload_location=None),
        400,
        "non-null for video to be cut: upload_location",
    ),
    (
        "null title on submit",
        "/thrimshim/ev1",
        edit_body(video_title=None),
        400,
        "non-null for video to be cut: video_title",
    ),
    ("blank title", "/thrimshim/ev1", edit_body(video_title="   "), 400, "Video title must not be blank"),
    (
        "title too long",
        "/thrimshim/ev1",
        edit_body(video_title="x" * 92),
        400,
        "Title must be 100 characters or less",
    ),
    (
        "title with <",
        "/thrimshim/ev1",
        edit_body(video_title="a <b>"),
        400,
        "Title may not contain a < character",
    ),
    (
        "description with >",
        "/thrimshim/ev1",
        edit_body(video_description="a > b"),
        400,
        "Description may not contain a >",
    ),
    (
        "description too long",
        "/thrimshim/ev1",
        edit_body(video_description="x" * 4990),
        400,
        "Description must be 5000 characters",
    ),
    ("NUL in title", "/thrimshim/ev1", edit_body(video_title="a\x00b"), 400, "must not contain NUL"),
    ("tags not a list", "/thrimshim/ev1", edit_body(video_tags="a,b"), 400, "bad video_tags"),
    ("tag not a string", "/thrimshim/ev1", edit_body(video_tags=[1]), 400, "bad video_tags.0"),
    ("public as string", "/thrimshim/ev1", edit_body(public="yes"), 400, "bad public"),
    ("bad state", "/thrimshim/ev1", edit_body(state="DONE"), 400, "bad state"),
    ("bad mode", "/thrimshim/ev1", edit_body(thumbnail_mode="FANCY"), 400, "bad thumbnail_mode"),
    ("crop of three", "/thrimshim/ev1", edit_body(thumbnail_crop=[1, 2, 3]), 400, "bad thumbnail_crop"),
    (
        "crop out of range",
        "/thrimshim/ev1",
        edit_body(thumbnail_crop=[0, 0, 10**12, 1]),
        400,
        "bad thumbnail_crop.2",
    ),
    ("crop float", "/thrimshim/ev1", edit_body(thumbnail_crop=[0, 0, 1.5, 1]), 400, "bad thumbnail_crop.2"),
    (
        "unknown template",
        "/thrimshim/ev1",
        edit_body(thumbnail_template=SQL),
        400,
        "unknown thumbnail_template",
    ),
    (
        "template mode without template",
        "/thrimshim/ev1",
        edit_body(thumbnail_template=None),
        400,
        "thumbnail_template is required",
    ),
    (
        "bare mode without time",
        "/thrimshim/ev1",
        edit_body(thumbnail_mode="BARE", thumbnail_time=None),
        400,
        "thumbnail_time is required",
    ),
    (
        "image without custom",
        "/thrimshim/ev1",
        edit_body(thumbnail_image=b64(PNG)),
        400,
        'Can only upload custom image when thumbnail_mode = "CUSTOM"',
    ),
    (
        "image not base64",
        "/thrimshim/ev1",
        edit_body(thumbnail_mode="CUSTOM", thumbnail_image="***"),
        400,
        "must be valid base64",
    ),
    (
        "image not png",
        "/thrimshim/ev1",
        edit_body(thumbnail_mode="CUSTOM", thumbnail_image=b64(JPEG)),
        400,
        "thumbnail_image must be a PNG",
    ),
    (
        "custom without image",
        "/thrimshim/ev1",
        edit_body(thumbnail_mode="CUSTOM"),
        400,
        "thumbnail_image is required",
    ),
    ("row_version as string", "/thrimshim/ev1", edit_body(row_version="1"), 400, "bad row_version"),
    (
        "modify unpublished",
        "/thrimshim/ev1",
        edit_body(state="MODIFIED"),
        403,
        "Video is in state UNEDITED and cannot be modified",
    ),
    (
        "sheet drift",
        "/thrimshim/ev1",
        edit_body(description="Something else"),
        409,
        "Sheet columns have changed",
    ),
    (
        "sql in sheet columns",
        "/thrimshim/ev1",
        edit_body(category=SQL),
        409,
        "category: '; DROP TABLE events; -- => Chat",
    ),
    (
        "huge body",
        "/thrimshim/ev1",
        b'{"x": "' + b"a" * (9 * 1024 * 1024) + b'"}',
        413,
        "Request Entity Too Large",
    ),
    ("reset bad force", "/thrimshim/reset/ev1?force=maybe", {}, 400, "bad force"),
    ("reset missing", "/thrimshim/reset/nope", {}, 404, "not found or not in cancellable state"),
    (
        "manual link bad location",
        "/thrimshim/manual-link/ev1",
        {"link": "https://x.org/v", "upload_location": "tape"},
        400,
        "must be 'manual' or 'youtube-manual'",
    ),
    (
        "manual link not youtube",
        "/thrimshim/manual-link/ev1",
        {"link": "https://vimeo.com/1", "upload_location": "youtube-manual"},
        400,
        "must be a YouTube video link",
    ),
    (
        "manual link short id",
        "/thrimshim/manual-link/ev1",
        {"link": "https://youtu.be/abc", "upload_location": "youtube-manual"},
        400,
        "must be a YouTube video link",
    ),
    (
        "manual link not url",
        "/thrimshim/manual-link/ev1",
        {"link": "javascript:alert(1)"},
        400,
        "must be an http(s) URL",
    ),
    (
        "manual link missing",
        "/thrimshim/manual-link/nope",
        {"link": "https://x.org/v"},
        404,
        "Row id = nope not found",
    ),
    ("create without id", "/thrimshim/events", {"sheet_name": "s"}, 400, "bad id"),
    (
        "create bad start",
        "/thrimshim/events",
        {"id": "n", "sheet_name": "s", "event_start": "soon"},
        400,
        "bad timestamp 'soon'",
    ),
    (
        "create existing",
        "/thrimshim/events",
        {"id": "ev1", "sheet_name": "s"},
        409,
        "event ev1 already exists",
    ),
]


@pytest.mark.parametrize(
    ("path", "body", "status", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_bad_request_gets_4xx_with_one_line(client, seeded, database, path, body, status, reason):
    with database.transaction() as conn:
        before = events.get_event(conn, "ev1")
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await client.post(
        path, data=raw, headers={**bearer(seeded.editor), "Content-Type": "application/json"}
    )
    text = await response.text()
    assert response.status == status, text
    assert reason in text and text.endswith("\n") and text.count("\n") == 1, text
    with database.transaction() as conn:
        assert events.get_event(conn, "ev1") == before


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("state=BOGUS", "bad state"),
        ("since=2024-13-01T00:00:00", "bad timestamp"),
        ("since=1700000000", "bad timestamp"),
        ("category=%00", "must not contain NUL"),
    ],
)
async def test_bad_list_filters(client, query, reason):
    response = await client.get("/thrimshim?" + query)
    assert response.status == 400 and reason in await response.text()


def test_the_table_is_big_enough():
    assert len(CASES) >= 40
