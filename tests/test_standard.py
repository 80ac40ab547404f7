"""The standard's areas and components are data: replaced per fiscal year by a CLI command that
validates the file and reports what changed; plans keep the edition they were written with."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from bot.db import db
from bot.models import Plan, StandardVersion
from bot.services import fiscal, standard
from tests.test_registration import register


def write(tmp_path, data, name="standard.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False) if not isinstance(data, str) else data)
    return str(path)


def edition_2570() -> dict:
    data = json.loads(standard.DEFAULT_FILE.read_text(encoding="utf-8"))
    data["code"] = "2570"
    data["areas"][0]["components"].append({"code": "self.2", "name_th": "การใช้เทคโนโลยีดิจิทัล"})
    data["areas"][2]["components"][0]["name_th"] = "ครัวเรือนมีอาชีพและรายได้เพิ่มขึ้น"
    del data["areas"][1]["components"][0]
    data["areas"][1]["components"].append({"code": "social.2", "name_th": "เครือข่ายปราชญ์ชุมชน"})
    return data


def test_a_new_edition_for_a_year_reports_the_changes_and_old_plans_keep_theirs(
    line, runner, tmp_path
):
    year = fiscal.year_of(date.today())
    somsri = line.user()
    register(somsri)
    somsri.say("แผนของฉัน")  # her plan is written against the default edition
    with db.transaction() as session:
        old_version = session.scalar(select(Plan.standard_version_id))

    path = write(tmp_path, edition_2570())
    dry = runner.invoke(args=["standard", "load", path, "--year", str(year), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would use edition 2570" in dry.output
    with db.transaction() as session:
        assert session.scalar(select(StandardVersion).where(StandardVersion.code == "2570")) is None

    result = runner.invoke(args=["standard", "load", path, "--year", str(year)])
    assert result.exit_code == 0, result.output
    assert "+ component self.2: การใช้เทคโนโลยีดิจิทัล" in result.output
    assert "- component social.1" in result.output
    assert "~ component work.1" in result.output
    assert f"fiscal year {year} now uses edition 2570" in result.output

    with db.transaction() as session:
        assert session.scalar(select(Plan.standard_version_id)) == old_version
        assert standard.for_year(session, year).code == "2570"
    # Her card still shows her edition's areas; a new leader's form offers the new components.
    somsri.say("แผนของฉัน")
    somsri.tap("เพิ่มกิจกรรม")
    somsri.tap("ด้านการบริหารสังคม")
    assert any("การสร้างทีมปราชญ์ในตำบล" in label for label in somsri.labels())
    newcomer = line.user("มานี มีสุข")
    register(newcomer, "ต.วิศิษฐ์")
    newcomer.say("แผนของฉัน")
    newcomer.tap("เพิ่มกิจกรรม")
    newcomer.tap("ด้านการบริหารสังคม")
    assert "เครือข่ายปราชญ์ชุมชน" in newcomer.labels()
    assert not any("การสร้างทีมปราชญ์" in label for label in newcomer.labels())

    again = runner.invoke(args=["standard", "load", path, "--year", str(year)])
    assert again.exit_code == 0 and "no changes" in again.output
    shown = runner.invoke(args=["standard", "show", "--year", str(year)])
    assert "self.2 การใช้เทคโนโลยีดิจิทัล" in shown.output


def test_a_bad_file_is_refused_with_every_problem_and_nothing_changes(app, runner, tmp_path):
    bad = edition_2570()
    bad["areas"][0]["name_th"] = ""
    bad["areas"][1]["components"].append({"code": "self.1", "name_th": "ซ้ำ"})
    bad["areas"][2]["components"] = []
    result = runner.invoke(args=["standard", "load", write(tmp_path, bad), "--year", "2570"])
    assert result.exit_code != 0
    assert "areas[0].name_th: must be non-empty text" in result.output
    assert "'self.1' is used twice" in result.output
    assert "areas[2].components: must be a non-empty list" in result.output

    broken = runner.invoke(
        args=["standard", "load", write(tmp_path, "{not json"), "--year", "2570"]
    )
    assert broken.exit_code != 0 and "is not valid JSON" in broken.output

    changed = edition_2570()
    changed["code"] = "2560"  # the default edition's code, with other content
    clash = runner.invoke(args=["standard", "load", write(tmp_path, changed), "--year", "2570"])
    assert clash.exit_code != 0 and "already loaded with different content" in clash.output

    year = runner.invoke(args=["standard", "load", write(tmp_path, edition_2570()), "--year", "70"])
    assert year.exit_code != 0 and "Buddhist Era" in year.output
    with db.transaction() as session:
        assert session.scalars(select(StandardVersion.code)).all() == ["2560"]
