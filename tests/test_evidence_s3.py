"""The same evidence chat with the S3 backend: bytes go to a real S3 API (moto's server)."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import S3_BUCKET, S3_SECRET, s3_client
from tests.test_evidence import photo, rows_of, somsri  # noqa: F401 - the fixture


@pytest.fixture
def app_config(app_config: dict, s3_endpoint: str) -> dict:
    return {
        **app_config,
        "EVIDENCE_STORAGE_URL": f"s3://{S3_BUCKET}/run-{uuid.uuid4().hex}",
        "EVIDENCE_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": S3_SECRET,
        "AWS_REGION": "us-east-1",
    }


def test_photos_and_their_thumbnails_land_in_the_bucket(somsri, client, app, s3_endpoint):  # noqa: F811
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    somsri.send_photos(photo(1))
    assert somsri.last_text == "รับรูปที่ 1 แล้วค่ะ"
    somsri.send_photos(photo(1))
    assert "รูปนี้มีอยู่แล้ว" in somsri.last_text
    (row, _) = rows_of(somsri)
    prefix = app.config["EVIDENCE_STORAGE_URL"].split("/", 3)[3]
    listed = s3_client(s3_endpoint).list_objects_v2(Bucket=S3_BUCKET, Prefix=prefix)
    keys = sorted(o["Key"].removeprefix(prefix + "/") for o in listed.get("Contents", []))
    assert keys == sorted([row.storage_key, row.thumb_key])
    somsri.say("เสร็จแล้ว")
    somsri.tap("ดูหลักฐาน")
    url = somsri.last[0]["contents"]["contents"][0]["hero"]["url"]
    response = client.get(url.removeprefix("https://bot.example.test"))
    assert response.status_code == 200 and response.data[:2] == b"\xff\xd8"
