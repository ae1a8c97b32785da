"""The schema itself refuses rows the state machine forbids, when SQL bypasses the query layer."""

import pytest
import sqlalchemy as sa

from tests.db.states import put_in_state
from wubloader.db.errors import ConstraintViolation
from wubloader.db.schema import EventState

# (state the row is in, SET clause breaking a rule, the constraint that must refuse it)
BAD_UPDATES = [
    ("EDITED", "state = 'BOGUS'", "state_valid"),
    ("UNEDITED", "thumbnail_mode = 'HUGE'", "thumbnail_mode_valid"),
    ("UNEDITED", "event_end_dashed = TRUE, event_end = NULL", "event_end_dashed"),
    ("EDITED", "upload_location = NULL", "upload_location_set"),
    ("EDITED", "video_ranges = NULL, video_transitions = NULL", "video_ranges_set"),
    ("CLAIMED", "video_title = NULL", "video_title_set"),
    ("EDITED", "video_description = NULL", "video_description_set"),
    ("FINALIZING", "video_tags = NULL", "video_tags_set"),
    ("EDITED", "video_channel = NULL", "video_channel_set"),
    ("EDITED", "video_transitions = '[]'", "ranges_match_transitions"),
    ("UNEDITED", "video_ranges = '[[null, null]]', video_transitions = NULL", "ranges_match_transitions"),
    ("EDITED", "thumbnail_time = NULL", "thumbnail_time_set"),
    ("EDITED", "thumbnail_mode = 'TEMPLATE'", "thumbnail_template_set"),
    ("EDITED", "thumbnail_mode = 'CUSTOM'", "thumbnail_image_set"),
    ("DONE", "thumbnail_last_written = NULL", "thumbnail_written"),
    ("EDITED", "thumbnail_crop = '[1, 2, 3]'", "thumbnail_crop_box"),
    ("EDITED", "thumbnail_location = '[1, 2, 3, 4, 5]'", "thumbnail_location_box"),
    ("EDITED", "state = 'CLAIMED'", "uploader_set"),
    ("FINALIZING", "uploader = NULL", "uploader_set"),
    ("TRANSCODING", "uploader = NULL", "uploader_set"),
    ("TRANSCODING", "state = 'DONE', upload_time = NULL, thumbnail_last_written = 'x'", "upload_time_set"),
    ("DONE", "video_link = NULL", "video_link_set"),
    ("MODIFIED", "video_link = NULL", "video_link_set"),
    ("EDITED", "editor = NULL", "editor_set"),
    ("MODIFIED", "upload_time = NULL", "upload_time_set"),
    ("DONE", "state = 'MODIFIED'", "last_modified_set"),
]


@pytest.mark.parametrize(
    ("state", "assignment", "rule"), BAD_UPDATES, ids=[f"{s}:{r}" for s, _, r in BAD_UPDATES]
)
def test_bad_rows_are_refused_by_the_database(database, state, assignment, rule):
    with database.transaction() as conn:
        put_in_state(conn, "ev1", EventState(state))
    with pytest.raises(ConstraintViolation) as raised, database.transaction() as conn:
        conn.execute(sa.text(f"UPDATE events SET {assignment} WHERE id = 'ev1'"))
    message = str(raised.value)
    # PostgreSQL names the violated constraint; SQLite says "CHECK constraint failed: <name>".
    assert rule in message, message
    with database.transaction() as conn:
        assert conn.execute(sa.text("SELECT state FROM events WHERE id = 'ev1'")).scalar() == state


@pytest.mark.parametrize("state", list(EventState))
def test_each_state_accepts_its_consistent_row(database, state):
    with database.transaction() as conn:
        put_in_state(conn, "ev1", state)
        assert conn.execute(sa.text("SELECT state FROM events")).scalar() == state


@pytest.mark.parametrize(
    ("statement", "rule"),
    [
        ("INSERT INTO roles (email, name) VALUES ('Upper@Case.org', 'U')", "roles_email_lower"),
        (
            "INSERT INTO templates (name, image, crop, location) VALUES ('t', 'x', '[1,2,3]', '[1,2,3,4]')",
            "templates_crop_box",
        ),
    ],
)
def test_other_tables_check_their_rules(database, statement, rule):
    with pytest.raises(ConstraintViolation, match=rule), database.transaction() as conn:
        conn.execute(sa.text(statement))
