"""Heavy downloads and uploads are limited in rate: per person on the desk, per address on
the signed file links; the refusal is a Thai page with Retry-After, and others are not held up."""

from __future__ import annotations

from bot import throttle
from tests.test_evidence import photo
from tests.test_exports import ZIP, _upload, bueng_kan, desk_of  # noqa: F401 - a fixture
from tests.workspace import staff_of


def test_the_photos_zip_is_limited_per_person(bueng_kan, app, line, runner):  # noqa: F811
    staff = desk_of(app, bueng_kan["staff"])
    allowed, _ = throttle.LIMITS["bulk"]
    for _ in range(allowed):
        assert staff.get(ZIP).status_code == 200
    refused = staff.get(ZIP)
    assert refused.status_code == 429
    assert "ถี่เกินไป" in refused.get_data(as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    # A colleague in the same province is not held up by it.
    colleague = desk_of(app, staff_of(line, runner, name="สมพร ขยันงาน"))
    assert colleague.get(ZIP).status_code == 200


def test_uploads_are_limited_per_person(bueng_kan, app, monkeypatch):  # noqa: F811
    monkeypatch.setitem(throttle.LIMITS, "upload", (1, 600.0))
    staff = desk_of(app, bueng_kan["staff"])
    assert _upload(staff, "workshop", "", (photo(21), "a.jpg")).status_code == 302
    again = _upload(staff, "workshop", "", (photo(22), "b.jpg"))
    assert again.status_code == 429 and "ถี่เกินไป" in again.get_data(as_text=True)


def test_signed_file_links_are_limited_per_address(bueng_kan, app, client, monkeypatch):  # noqa: F811
    monkeypatch.setitem(throttle.LIMITS, "file", (3, 60.0))
    for _ in range(3):
        client.get("/files/plan/not-a-token")  # refused links count too: guessing costs
    refused = client.get("/files/plan/not-a-token")
    assert refused.status_code == 429
    assert "ถี่เกินไป" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) >= 1
    other = app.test_client().get(
        "/files/plan/not-a-token", environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert other.status_code == 404  # another address is still answered
