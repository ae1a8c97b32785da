"""Request paths to peers (`quote_parts`): the fast colon-only encoding must give exactly what quote() gives,
as the original percent-encoded every component."""

from urllib.parse import quote

import pytest

from wubloader.hls.playlist import quote_parts

NAMES = [
    "segments",
    "desertbus",
    "source",
    "2024-05-01T10",
    "00:00.000000-2.0-full-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcde.ts",
    "00:02.5-2-temp-0b8e6b2c-7b6f-4f45-9b8e-2f7f0c9a1d3e.ts",
    "we ird/na?me#%.ts",  # not plain: quote() itself
    "hour/00:00.0-2.0-full-x.ts",  # plain characters, but a "/" inside one part is %2F
    "caf\u00e9~.ts",
    "",
]


@pytest.mark.parametrize("name", NAMES)
def test_each_component_is_encoded_as_quote_with_no_safe_characters(name):
    assert quote_parts(("segments", name)) == "segments/" + quote(name, safe="")


def test_components_are_joined_with_slashes():
    assert quote_parts(("files", "chan", "source", "2024-05-01T10")) == "files/chan/source/2024-05-01T10"
