"""The department's reports from the web desk: the applicants list (3.1), the results and the
photos ZIP (3.2), and the province photo upload page; each only for the right people and area."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from flask import Flask
from openpyxl import load_workbook
from PIL import Image

from tests.test_evidence import photo
from tests.test_web_signin import link_of
from tests.workspace import leader, officer_of, plan_at, staff_of

XLSX = "/web/exports/applicants.xlsx"
CSV = "/web/exports/applicants.csv"
RESULTS = "/web/exports/results.xlsx"
ZIP = "/web/exports/photos.zip"


def desk_of(app: Flask, person):  # type: ignore[no-untyped-def]
    """A browser of its own, signed in with the person's link from the chat."""
    browser = app.test_client()
    assert browser.post(link_of(person)).status_code == 302
    return browser


def csrf_of(page_html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page_html)
    assert found, "no form on the page"
    return found.group(1)


def sheet_rows(data: bytes) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # so Excel reads the Thai
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.fixture
def bueng_kan(line, runner, clock):  # type: ignore[no-untyped-def]
    """Staff of Bueng Kan, the officer of อ.เมืองบึงกาฬ, and three leaders there: one certified,
    one refused, one only inspected; and one leader in อ.โซ่พิสัย who has only registered."""
    clock.set("2027-03-18 08:00")  # fiscal year 2570
    officer = officer_of(line, runner)
    staff = staff_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    plan_at(somsri, "certified", officer, staff)
    somying = leader(line, "สมหญิง รักถิ่น")
    plan_at(somying, "certified", officer, staff, result="not_certified")
    malee = leader(line, "มาลี ขยันยิ่ง", phone="042-491-234")
    plan_at(malee, "inspected", officer)
    leader(line, "บุญมี ศรีโซ่", "ต.โซ่")
    return {"officer": officer, "staff": staff, "somsri": somsri}


def test_applicants_list_for_the_province_and_for_one_district(bueng_kan, app):
    staff = desk_of(app, bueng_kan["staff"])
    response = staff.get(XLSX)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = sheet_rows(response.data)
    assert "จังหวัดบึงกาฬ" in rows[0][0] and "ปีงบประมาณ พ.ศ. 2570" in rows[0][0]
    assert rows[1] == ("ที่", "ชื่อ-นามสกุล", "ตำบล", "อำเภอ", "จังหวัด", "โทรศัพท์", "วันที่ลงทะเบียน")
    people = {row[1]: row for row in rows[2:]}
    assert set(people) == {"สมศรี ใจดี", "สมหญิง รักถิ่น", "มาลี ขยันยิ่ง", "บุญมี ศรีโซ่"}
    assert people["สมศรี ใจดี"][2:] == (
        "หอคำ",
        "เมืองบึงกาฬ",
        "บึงกาฬ",
        "081-234-5678",
        "18 มีนาคม 2570",
    )
    assert people["มาลี ขยันยิ่ง"][5] == "04-249-1234"
    assert people["บุญมี ศรีโซ่"][3] == "โซ่พิสัย"

    officer = desk_of(app, bueng_kan["officer"])
    listed = csv_rows(officer.get(CSV).data)
    assert listed[0][1] == "ชื่อ-นามสกุล"
    assert {row[1] for row in listed[1:]} == {"สมศรี ใจดี", "สมหญิง รักถิ่น", "มาลี ขยันยิ่ง"}

    # Registered in FY2570 and no plan of FY2569: nobody applied in 2569.
    assert sheet_rows(staff.get(XLSX + "?year=2569").data)[2:] == []
    assert staff.get(XLSX + "?year=abc").status_code == 400


def test_results_show_opinion_decision_number_and_reasons(bueng_kan, app):
    rows = sheet_rows(desk_of(app, bueng_kan["staff"]).get(RESULTS).data)
    assert "ผลการรับรอง" in rows[0][0]
    assert rows[1][6] == "ผลการพิจารณาของคณะกรรมการ"
    by_name = {row[1]: row for row in rows[2:]}
    assert set(by_name) == {"สมศรี ใจดี", "สมหญิง รักถิ่น", "มาลี ขยันยิ่ง"}
    assert by_name["สมศรี ใจดี"][4:9] == (
        "เสนอรับรอง",
        "ทำกิจกรรมครบตามแผน",
        "รับรอง",
        "18 มีนาคม 2570",
        "38-0001/2570",
    )
    assert by_name["สมหญิง รักถิ่น"][6] == "ไม่รับรอง"
    assert by_name["สมหญิง รักถิ่น"][8] is None and by_name["สมหญิง รักถิ่น"][9] == "ยังขาดหลักฐาน"
    assert by_name["มาลี ขยันยิ่ง"][6] == "ยังไม่พิจารณา"


@pytest.mark.parametrize(
    "path, officer_allowed",
    [
        (XLSX, True),
        (CSV, True),
        (RESULTS, True),
        ("/web/exports", True),
        ("/web/certificates.pdf", True),
        (ZIP, False),
        ("/web/photos", False),
        ("/web/exports/outstanding.pdf", False),
    ],
)
def test_who_may_take_each_export(bueng_kan, app, line, runner, path, officer_allowed):
    nobody = app.test_client().get(path)
    assert nobody.status_code == 302 and "/web/signin" in nobody.headers["Location"]
    assert desk_of(app, bueng_kan["somsri"]).get(path).status_code == 403

    expected = 200 if officer_allowed else 403
    assert desk_of(app, bueng_kan["officer"]).get(path).status_code == expected
    other_district = officer_of(line, runner, "3803", "พัฒนากร โซ่พิสัย")
    assert desk_of(app, other_district).get(path).status_code == expected
    bangkok = staff_of(line, runner, "เจ้าหน้าที่ กทม.", "10")
    assert desk_of(app, bangkok).get(path).status_code in {200, 404}  # no outstanding there
    status = desk_of(app, bueng_kan["staff"]).get(path).status_code
    assert status == (404 if path.endswith("outstanding.pdf") else 200)


def test_other_areas_get_none_of_these_rows(bueng_kan, app, line, runner):
    other_district = desk_of(app, officer_of(line, runner, "3803", "พัฒนากร โซ่พิสัย"))
    names = {row[1] for row in csv_rows(other_district.get(CSV).data)[1:]}
    assert names == {"บุญมี ศรีโซ่"}
    assert sheet_rows(other_district.get(RESULTS).data)[2:] == []

    bangkok = desk_of(app, staff_of(line, runner, "เจ้าหน้าที่ กทม.", "10"))
    assert csv_rows(bangkok.get(CSV).data)[1:] == []
    assert "กรุงเทพมหานคร" in sheet_rows(bangkok.get(XLSX).data)[0][0]
    # ?province= is for admins only: staff stay in their own province.
    assert csv_rows(bangkok.get(CSV + "?province=38").data)[1:] == []


def _upload(browser, activity: str, caption: str, *files: tuple[bytes, str]):  # type: ignore[no-untyped-def]
    page = browser.get("/web/photos")
    data = {
        "csrf_token": csrf_of(page.text),
        "activity": activity,
        "caption": caption,
        "photos": [(io.BytesIO(body), name) for body, name in files],
    }
    return browser.post("/web/photos", data=data, content_type="multipart/form-data")


def test_province_photos_upload_list_delete_and_zip(bueng_kan, app, line, runner):
    staff = desk_of(app, bueng_kan["staff"])
    workshop, meeting = photo(11, exif=True), photo(12)
    done = _upload(staff, "workshop", "อบรมที่ศาลากลาง", (workshop, "a.jpg"))
    assert done.status_code == 302
    assert "บันทึกรูปแล้ว 1 รูป" in staff.get(done.headers["Location"]).text
    _upload(staff, "committee", "", (meeting, "b.jpg"))
    refused = _upload(staff, "workshop", "", (b"not an image at all", "fake.jpg"))
    page = staff.get(refused.headers["Location"])
    assert "fake.jpg: ไฟล์นี้ไม่ใช่รูปภาพ" in page.text, page.text
    assert _upload(staff, "workshop", "", (workshop, "again.jpg")).status_code == 302
    assert "อัปโหลดไว้แล้ว" in staff.get("/web/photos").text
    forged = staff.post("/web/photos", data={"csrf_token": "x", "activity": "workshop"})
    assert forged.status_code == 400

    page = staff.get("/web/photos")
    thumbs = re.findall(r'src="(/web/photos/\d+/thumb)"', page.text)
    assert len(thumbs) == 2 and "อบรมที่ศาลากลาง" in page.text
    thumb = staff.get(thumbs[0])
    assert thumb.mimetype == "image/jpeg" and not Image.open(io.BytesIO(thumb.data)).getexif()

    response = staff.get(ZIP)
    assert response.status_code == 200 and response.is_streamed
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == [
        "คณะกรรมการ/001.jpg",
        "อบรมเชิงปฏิบัติการ/001-อบรมที่ศาลากลาง.jpg",
    ]
    assert archive.read("อบรมเชิงปฏิบัติการ/001-อบรมที่ศาลากลาง.jpg") == workshop

    # Another province's staff cannot see or delete these photos.
    delete = re.findall(r'action="(/web/photos/\d+/delete)"', page.text)[0]
    bangkok = desk_of(app, staff_of(line, runner, "เจ้าหน้าที่ กทม.", "10"))
    assert bangkok.get(thumbs[0]).status_code == 403
    other_form = csrf_of(bangkok.get("/web/photos").text)
    assert bangkok.post(delete, data={"csrf_token": other_form}).status_code == 403
    assert zipfile.ZipFile(io.BytesIO(bangkok.get(ZIP).data)).namelist() == []

    assert staff.post(delete, data={"csrf_token": csrf_of(page.text)}).status_code == 302
    assert len(zipfile.ZipFile(io.BytesIO(staff.get(ZIP).data)).namelist()) == 1


def test_the_zip_adds_certified_leaders_evidence_without_exif(bueng_kan, app, line, runner):
    somsri = bueng_kan["somsri"]
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    somsri.send_photos(photo(21, exif=True))
    assert "รับรูปที่ 1" in somsri.last_text

    staff = desk_of(app, bueng_kan["staff"])
    without = zipfile.ZipFile(io.BytesIO(staff.get(ZIP).data))
    assert without.namelist() == []
    archive = zipfile.ZipFile(io.BytesIO(staff.get(ZIP + "?evidence=1").data))
    assert archive.namelist() == ["ผู้นำ/สมศรี ใจดี/กิจกรรม01-รูป01.jpg"]
    image = Image.open(io.BytesIO(archive.read(archive.namelist()[0])))
    assert image.format == "JPEG" and not image.getexif()
