"""Template routes: list, PNG, metadata, add and update (artist role), with the original's error messages."""

from __future__ import annotations

from tests.thrimshim.conftest import PNG, b64, bearer, png_bytes


def template(name="banner", **overrides):
    return {
        "name": name,
        "image": b64(PNG),
        "description": "A banner",
        "attribution": "Art by B",
        "crop": [0, 0, 1920, 1080],
        "location": [10, 10, 650, 370],
        **overrides,
    }


async def test_add_list_fetch_update_rename(client, seeded):
    headers = bearer(seeded.artist)
    assert (await client.post("/thrimshim/add-template", json=template(), headers=headers)).status == 201
    listed = await (await client.get("/thrimshim/templates")).json()
    assert [t["name"] for t in listed] == ["banner", "standard"]
    assert listed[0] == {
        "name": "banner",
        "description": "A banner",
        "attribution": "Art by B",
        "crop": [0, 0, 1920, 1080],
        "location": [10, 10, 650, 370],
    }
    png = await client.get("/thrimshim/template/banner.png")
    assert png.status == 200 and png.content_type == "image/png" and await png.read() == PNG
    bigger = png_bytes(16, 9)
    update = {k: v for k, v in template(name="banner2", description="renamed").items() if k != "image"}
    assert (
        await client.post("/thrimshim/update-template/banner", json=update, headers=headers)
    ).status == 200
    assert (await client.get("/thrimshim/template/banner.png")).status == 404
    meta = await (await client.get("/thrimshim/template-metadata/banner2")).json()
    assert meta["description"] == "renamed"
    assert await (await client.get("/thrimshim/template/banner2.png")).read() == PNG  # image kept
    update["image"] = b64(bigger)
    assert (
        await client.post("/thrimshim/update-template/banner2", json=update, headers=headers)
    ).status == 200
    assert await (await client.get("/thrimshim/template/banner2.png")).read() == bigger


async def test_template_errors(client, seeded):
    headers = bearer(seeded.artist)
    cases = [
        (
            "/thrimshim/add-template",
            {"name": "x"},
            "Fields missing in JSON: image, description, attribution, crop, location",
        ),
        ("/thrimshim/add-template", template(image="@@"), "Template image must be valid base64"),
        ("/thrimshim/add-template", template(image=b64(b"GIF89a")), "Template image must be a PNG"),
        ("/thrimshim/add-template", template(name="standard"), "Template with name standard already exists"),
        ("/thrimshim/add-template", template(crop=[1, 2]), "bad crop.2: Field required"),
        ("/thrimshim/update-template/missing", template(), "Template with name missing does not exist"),
        (
            "/thrimshim/update-template/standard",
            template(name="standard", image="x"),
            "Template image must be valid base64",
        ),
    ]
    await client.post("/thrimshim/add-template", json=template(), headers=headers)
    cases.append(
        (
            "/thrimshim/update-template/banner",
            template(name="standard"),
            "Template with name standard already exists",
        )
    )
    for path, body, reason in cases:
        response = await client.post(path, json=body, headers=headers)
        assert (response.status, await response.text()) == (400, reason + "\n"), path
    assert (await client.get("/thrimshim/template/nope.png")).status == 404
    assert await (await client.get("/thrimshim/template-metadata/nope")).text() == "Template nope not found\n"
