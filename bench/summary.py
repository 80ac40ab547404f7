"""The committee summary PDF (เอกสารสรุปผลงาน) of a leader with 20 activities and 200 photos.

Set-up, not measured: a leader with an approved-to-be plan of 20 activities, and 10 camera-like
photos per activity (12 MP JPEGs of about 3 MB, every one different in its pixels, with an EXIF
date), served by a fake LINE in its own process and taken in by the app's own intake (fetch
into local storage, then thumbnails), as if the leader had sent them. SQLite in a temporary
folder.

Measured, each in a fresh Python process so that its peak RSS is its own (memory freed by the
set-up could otherwise be reused unseen): the background job that builds the document
(`Summaries.work_once`: read the plan, copy the 80 shown thumbnails out of storage, render,
store, push the link), and, for comparison, two documents that are parts of it: the plan form
PDF alone (its text: Thai shaping and line breaking), and fpdf2 placing the same 80 thumbnails,
four to a page at the summary's size, with no text at all (the cost of embedding the photos).
"""

from __future__ import annotations

import io
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from bench import fake_line
from bench.harness import ROOT, Options, Row, log

NAME = "summary"
ACTIVITIES = 20
PHOTOS_PER_ACTIVITY = 10
QUICK_PHOTOS_PER_ACTIVITY = 4  # --quick: as many as the document shows, so its shape is the same
PHOTO_SIZE = (4000, 3000)  # a 12 MP phone camera
USER_ID = "U" + "5" * 32
MODES = ("summary", "plan_form", "photos_only")
REPEATS = 3  # builds per document; the median time is reported


def run(out_dir: Path, options: Options) -> list[Row]:
    per_activity = QUICK_PHOTOS_PER_ACTIVITY if options.quick else PHOTOS_PER_ACTIVITY
    with tempfile.TemporaryDirectory(prefix="bench-summary-") as tmp_name:
        tmp = Path(tmp_name)
        content = tmp / "content"
        content.mkdir()
        started = time.perf_counter()
        photo_bytes = make_photos(content, ACTIVITIES * per_activity)
        log(f"{NAME}: {ACTIVITIES * per_activity} photos, {photo_bytes / 2**20:.0f} MB made")
        with fake_line.running(content) as base_url:
            config = _config(tmp, base_url)
            setup = prepare(config, per_activity)
            log(f"{NAME}: set up in {time.perf_counter() - started:.0f} s: {setup}")
            results = {mode: _child(mode, config, out_dir) for mode in MODES}
    (out_dir / "summary.json").write_text(
        json.dumps({"setup": setup, "results": results}, indent=1, ensure_ascii=False)
    )
    return _rows(results, setup, per_activity)


def _config(tmp: Path, base_url: str) -> dict[str, str]:
    return {
        "LINE_CHANNEL_SECRET": "bench-channel-secret",
        "LINE_CHANNEL_ACCESS_TOKEN": fake_line.TOKEN,
        "LINE_API_BASE_URL": base_url,
        "LINE_DATA_API_BASE_URL": base_url,
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "SECRET_KEY": "bench",
        "PUBLIC_BASE_URL": "https://bot.example.test",
        "EVIDENCE_STORAGE_URL": str(tmp / "storage"),
        "LOG_LEVEL": "WARNING",
    }


def make_photos(folder: Path, count: int) -> int:
    """`count` JPEGs named by LINE message id, like a phone's, each with its own marks so that
    no two are alike in pixels (fpdf2 embeds identical images once, which would flatter the
    document)."""
    rng = random.Random(20)
    # A scene of soft shapes (coarse noise, enlarged) under a camera's fine grain: about 3 MB
    # at 12 MP, and an 800 px thumbnail of about 115 kB, as phone photos give.
    scene = Image.frombytes("RGB", (125, 94), rng.randbytes(125 * 94 * 3))
    grain = Image.effect_noise(PHOTO_SIZE, 40).convert("RGB")
    base = Image.blend(scene.resize(PHOTO_SIZE, Image.Resampling.BICUBIC), grain, 0.2)
    total = 0
    for n in range(count):
        image = base.copy()
        draw = ImageDraw.Draw(image)
        for k in range(3):
            x, y = rng.randrange(0, PHOTO_SIZE[0] - 800), rng.randrange(0, PHOTO_SIZE[1] - 600)
            colour = (rng.randrange(256), rng.randrange(256), (n * 37 + k) % 256)
            draw.rectangle((x, y, x + 400 + 100 * k, y + 300 + 80 * k), fill=colour)
        exif = Image.Exif()
        exif[0x0132] = f"2027:01:{1 + n % 28:02d} 10:{n % 60:02d}:00"  # DateTime
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85, exif=exif)
        (folder / f"{700_000 + n}.jpg").write_bytes(out.getvalue())
        total += out.tell()
    return total


def prepare(config: dict[str, str], per_activity: int) -> dict[str, Any]:
    """The leader, her plan and her photos, taken in by the app's intake; then the request
    for the document, which the measured job picks up."""
    from concurrent.futures import ThreadPoolExecutor
    from functools import partial

    from sqlalchemy import func, select

    from bot import create_app, migrate
    from bot.db import db
    from bot.models import Evidence, LeaderProfile, User
    from bot.services import evidence, fiscal, plans, standard
    from bot.summaries import request

    app = create_app(config)
    runtime = app.extensions["runtime"]
    migrate.upgrade(db.engine)
    year = fiscal.year_of(date.today())
    first, last = fiscal.bounds(year)
    with db.transaction() as session:
        standard.seed_default(session)
        leader = User(line_user_id=USER_ID, display_name="สมศรี", role="leader", status="active")
        session.add(leader)
        session.flush()
        session.add(
            LeaderProfile(
                user_id=leader.id,
                full_name="นางสมศรี ใจดี",
                subdistrict_code="380101",
                district_code="3801",
                province_code="38",
            )
        )
        plan = plans.get_or_create(session, leader, year)
        components = [c for a in plans.edition(session, plan).areas for c in a.components]
        message = 700_000
        for n in range(ACTIVITIES):
            item = plans.add_item(
                session,
                plan,
                plans.ItemDraft(
                    components[n % len(components)].id,
                    f"อบรมการทำน้ำพริกแกงและการตลาดออนไลน์ให้ครัวเรือนเป้าหมาย ครั้งที่ {n + 1}",
                    "self" if n % 2 else "help",
                    "ศึกษาดูงานและฝึกปฏิบัติร่วมกับกลุ่มอาชีพในตำบล",
                    "ตนเอง",
                    first,
                    last - timedelta(days=n),
                ),
                leader,
            )
            for _ in range(per_activity):
                row = evidence.receive(
                    session,
                    leader,
                    message_id=str(message),
                    kind="image",
                    item_id=item.id,
                    set_id=None,
                    file_name=None,
                    reply_token=None,
                    reply_by=None,
                )
                row.announced = True  # told with its set: no reply per photo
                row.caption = f"ภาพกิจกรรมครั้งที่ {n + 1} ครัวเรือนเป้าหมายร่วมฝึกปฏิบัติ"
                message += 1
    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:  # as BACKGROUND_WORKERS=2 would
        for step in (runtime.intake.work_once, runtime.intake.thumbnail_once):
            for done in [pool.submit(partial(_until_done, step)) for _ in range(2)]:
                done.result()
    intake_seconds = time.perf_counter() - started
    with db.transaction() as session:
        leader = session.scalar(select(User).where(User.line_user_id == USER_ID))
        plan = plans.find(session, leader.id, year)
        statuses = dict(
            session.execute(select(Evidence.status, func.count()).group_by(Evidence.status)).all()
        )
        thumbs = session.scalar(select(func.count()).where(Evidence.thumb_key.is_not(None)))
        request(session, plan, leader)
    runtime.stop()
    db.dispose()
    return {"intake_seconds": round(intake_seconds, 1), "evidence": statuses, "thumbs": thumbs}


def _until_done(step: Any) -> None:
    while step():
        pass


# ----- the measured part, in a child process ---------------------------------------------------


def _child(mode: str, config: dict[str, str], out_dir: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.summary", mode, json.dumps(config), str(out_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    (out_dir / f"{mode}.log").write_text(done.stdout + done.stderr)
    if done.returncode:
        raise RuntimeError(f"{NAME} {mode} failed; see {out_dir / f'{mode}.log'}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    log(f"{NAME}: {mode}: {result}")
    return result


def measure(mode: str, config: dict[str, str], out_dir: Path) -> dict[str, Any]:
    """Build one document REPEATS times in this fresh process: the median time, and the peak
    RSS growth of the first build (later ones may reuse what it freed), its size and pages."""
    from pypdf import PdfReader
    from sqlalchemy import select

    from bench.evidence import Usage
    from bot import create_app
    from bot.db import db
    from bot.documents.pdf import render_pdf
    from bot.models import Plan, SummaryDocument, User
    from bot.services import plans
    from bot.summaries import request

    app = create_app(config)
    runtime = app.extensions["runtime"]
    with db.transaction() as session:
        plan_id = session.scalar(select(Plan.id))
    # Fonts, HarfBuzz and fpdf2 load on first use, once per process: a plan form first,
    # unmeasured, so that all three figures are the documents' own work.
    with db.transaction() as session:
        render_pdf(plans.plan_form(session, session.get(Plan, plan_id)))
    pdf = out_dir / f"{mode}.pdf"
    times = []
    growth = start = 0.0
    for attempt in range(REPEATS):
        if mode == "summary" and attempt:
            with db.transaction() as session:
                leader = session.scalar(select(User).where(User.line_user_id == USER_ID))
                request(session, session.get(Plan, plan_id), leader)
        with Usage() as memory:
            started = time.perf_counter()
            if mode == "summary":
                if not runtime.summaries.work_once():
                    raise RuntimeError("no summary waiting")
            elif mode == "plan_form":
                with db.transaction() as session:
                    form = plans.plan_form(session, session.get(Plan, plan_id))
                    pdf.write_bytes(render_pdf(form))
            else:
                _photos_only(runtime.storage, plan_id, pdf)
            times.append(time.perf_counter() - started)
        if not attempt:
            growth, start = memory.growth, memory.start
    if mode == "summary":
        with db.transaction() as session:
            jobs = list(session.scalars(select(SummaryDocument)))
            if any(job.status != "ready" or not job.storage_key for job in jobs):
                raise RuntimeError(f"summaries not ready: {[j.last_error for j in jobs]}")
            with runtime.storage.open(jobs[-1].storage_key or "") as stored:
                pdf.write_bytes(stored.read())
    runtime.stop()
    return {
        "seconds": round(statistics.median(times), 3),
        "all_seconds": [round(t, 3) for t in times],
        "rss_start_mb": round(start, 1),
        "rss_growth_mb": round(growth, 1),
        "bytes": pdf.stat().st_size,
        "pages": len(PdfReader(pdf).pages),
    }


def _photos_only(storage: Any, plan_id: int, out: Path) -> None:
    """fpdf2 placing the summary's 80 thumbnails, four to a page in its boxes, no text: what
    embedding the photos costs whatever the layout around them."""
    import shutil

    from fpdf import FPDF

    from bot.db import db
    from bot.documents.summary import MAX_PHOTOS, PHOTO_BOX_MM, PHOTO_GAP_MM, PHOTO_ROW_MM
    from bot.models import Plan
    from bot.services import evidence

    with db.transaction() as session:
        keys = [
            [row.thumb_key for row in evidence.shown(session, item.id) if row.thumb_key][
                :MAX_PHOTOS
            ]
            for item in session.get(Plan, plan_id).items
        ]
    work = Path(tempfile.mkdtemp(dir=storage.staging_dir(), prefix="photos-only-"))
    try:
        pdf = FPDF(format="A4")
        width = (pdf.epw - PHOTO_GAP_MM) / 2
        for n, key in enumerate(k for item in keys for k in item):
            path = work / f"{n}.jpg"
            with storage.open(key) as source, path.open("wb") as target:
                shutil.copyfileobj(source, target, 256 * 1024)
            if n % 4 == 0:
                pdf.add_page()
            x = pdf.l_margin + (n % 2) * (width + PHOTO_GAP_MM)
            y = pdf.t_margin + (n % 4 // 2) * PHOTO_ROW_MM
            pdf.image(path, x, y, width, PHOTO_BOX_MM, keep_aspect_ratio=True)
        pdf.output(str(out))
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ----- the table --------------------------------------------------------------------------------


def _rows(results: dict[str, Any], setup: dict[str, Any], per_activity: int) -> list[Row]:
    summary, form, photos = (results[m] for m in MODES)
    target = f"{ACTIVITIES} activities × {per_activity} photos ({setup['thumbs']} thumbnails)"

    def mb(n: int) -> str:
        return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 2**10:.0f} kB"

    return [
        Row(
            NAME,
            target,
            "build time (background job: read, copy 80 thumbnails, render, store, push link)",
            f"{summary['seconds']:.2f} s (median of {REPEATS})",
            f"plan form PDF alone {form['seconds']:.2f} s; fpdf2 placing the same 80 "
            f"thumbnails with no text {photos['seconds']:.2f} s",
        ),
        Row(
            NAME,
            target,
            "peak RSS growth of the building process",
            f"{summary['rss_growth_mb']:.1f} MB (from {summary['rss_start_mb']:.0f} MB)",
            f"plan form alone +{form['rss_growth_mb']:.1f} MB; photos only "
            f"+{photos['rss_growth_mb']:.1f} MB",
        ),
        Row(
            NAME,
            target,
            "PDF size, pages",
            f"{mb(summary['bytes'])}, {summary['pages']} pages",
            f"plan form {mb(form['bytes'])}, {form['pages']} pages; photos only "
            f"{mb(photos['bytes'])}, {photos['pages']} pages",
        ),
        Row(
            NAME,
            "set-up (not measured)",
            "photos taken in by the app's intake",
            f"{json.dumps(setup['evidence'])} in {setup['intake_seconds']:.0f} s",
            "all stored, each with a thumbnail",
        ),
    ]


if __name__ == "__main__":
    mode, config, out = sys.argv[1], json.loads(sys.argv[2]), Path(sys.argv[3])
    print(json.dumps(measure(mode, config, out)))
