"""Photo pre-screening across the seam: a stage photo stored in production (its HTTP API) is
screened by quality (over the real broker), published on quality.events.v1 and served with the
photo's access rules. Both services run in process on the session's tansu and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from aiokafka import AIOKafkaProducer
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from looptrace_production.app import create_app as create_production
from looptrace_production.config import ProductionSettings
from looptrace_quality.app import create_app as create_quality
from looptrace_quality.config import QualitySettings
from looptrace_quality.models import PhotoScreeningRow
from looptrace_quality.screening import model as m
from looptrace_quality.screening import synth
from looptrace_quality.screening.labels import labelled_tiles
from looptrace_quality.screening.overlay import FRAME
from looptrace_quality.screening.retrain import retrain
from looptrace_shared.envelope import new_envelope
from looptrace_shared.events.orders import OrderSupplierAssigned, Party
from looptrace_shared.testing import bearer, broker_settings, eventually, order_envelopes, serving
from looptrace_shared.topics import ORDERS_EVENTS

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def services(
    database_url: str, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
):  # type: ignore[no-untyped-def]
    folder = Path(tmp_path_factory.mktemp("screening"))
    model_path = folder / "model.joblib"
    m.save(await asyncio.to_thread(m.train, 11, 24), model_path)  # small, synthetic, seeded
    common = broker_settings(database_url, kafka_bootstrap)
    quality = QualitySettings(**common, screening_model_path=model_path)
    production = ProductionSettings(
        **common, photo_dir=folder / "photos", photo_max_bytes=3_000_000, sweep_interval_s=3600
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    async with serving(create_quality(quality)) as q, serving(create_production(production)) as p:
        yield quality, q, p, producer
    await producer.stop()


def fabric_jpeg(seed: int, size: tuple[int, int] = (1600, 1200)) -> bytes:
    pixels, _ = synth.photo(np.random.default_rng(seed), defect_rate=1.0)
    buffer = io.BytesIO()
    Image.fromarray(pixels).resize(size).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


async def planned_order(p: httpx.AsyncClient, producer: AIOKafkaProducer, settings: Any) -> str:
    oid = str(uuid.uuid4())
    assigned = OrderSupplierAssigned(
        order_id=oid, order_number=f"PO-{oid[:8]}", buyer=Party(id="b-scr", name="Buyer"),
        product_category="knitwear", quantity=500, target_date=date.today() + timedelta(days=150),
        has_print=False, supplier=Party(id="s-scr", name="Factory"), assigned_by="ops",
    )  # fmt: skip
    envelope = new_envelope("order.supplier_assigned", "test", oid, assigned)
    await producer.send_and_wait(ORDERS_EVENTS, envelope.to_bytes(), key=oid.encode())

    async def planned() -> bool:
        r = await p.get(f"/v1/orders/{oid}/timeline", headers=bearer(settings, "admin", "ops"))
        return r.status_code == 200

    await eventually(planned, timeout_s=30)
    return oid


async def upload(p: httpx.AsyncClient, settings: Any, oid: str, data: bytes, kind: str) -> str:
    files = {"file": (f"p.{kind}", data, f"image/{kind}")}
    r = await p.post(f"/v1/orders/{oid}/stages/1/photos", files=files,
                     headers=bearer(settings, "supplier", "s-scr"))  # fmt: skip
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def screened(bootstrap: str, oid: str) -> list[dict[str, Any]]:
    """The order's screening events on the topic now (a 2 s read: callers poll)."""
    found = await order_envelopes(bootstrap, "quality.events.v1", oid, 10**6, timeout_s=2)
    return [e["data"] for e in found if e["type"] == "quality.photo_screened"]


async def test_a_stored_photo_is_screened_published_and_served(
    services, kafka_bootstrap: str
) -> None:  # type: ignore[no-untyped-def]
    settings, q, p, producer = services
    oid = await planned_order(p, producer, settings)
    photo = await upload(p, settings, oid, fabric_jpeg(3), "jpeg")
    tiny = io.BytesIO()
    Image.new("RGB", (90, 90), (200, 10, 10)).save(tiny, "PNG")
    small = await upload(p, settings, oid, tiny.getvalue(), "png")

    async def both() -> bool:
        return len(await screened(kafka_bootstrap, oid)) >= 2

    await eventually(both, timeout_s=60)
    events = {e["photo_id"]: e for e in await screened(kafka_bootstrap, oid)}
    assert events[photo]["status"] == "screened" and 0 <= events[photo]["score"] <= 1
    assert events[photo]["flagged_count"] == len(events[photo]["flagged"])
    assert (events[small]["status"], events[small]["reason"]) == ("unscreenable", "too_small")

    supplier = bearer(settings, "supplier", "s-scr")
    got = await q.get(f"/v1/orders/{oid}/photos/{photo}/screening", headers=supplier)
    assert got.status_code == 200 and got.json()["score"] == events[photo]["score"]
    body = got.json()
    assert body["actions"] and "SYNTHETIC" in body["note"]
    for tile in body["flagged"]:  # boxes are in the uploaded photo's pixels (1600 x 1200)
        x, y, w, h = tile["box"]
        assert 0 <= x < 1600 and 0 <= y < 1200 and 120 < w < 140
    for other in (bearer(settings, "supplier", "s-other"), bearer(settings, "buyer", "b-other")):
        hidden = await q.get(f"/v1/orders/{oid}/photos/{photo}/screening", headers=other)
        assert hidden.status_code == 404
    buyer = bearer(settings, "buyer", "b-scr")
    png = await q.get(f"/v1/orders/{oid}/photos/{photo}/screening/overlay", headers=buyer)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    drawn = np.asarray(Image.open(io.BytesIO(png.content)).convert("RGB"))
    assert drawn.shape[:2] == (576, 768)
    assert bool(body["flagged"]) == bool((drawn == FRAME).all(axis=2).sum() > 100)

    async def on_the_timeline() -> bool:
        r = await p.get(f"/v1/orders/{oid}/timeline", headers=supplier)
        shown = {ph["id"]: ph["screening"] for ph in r.json()["stages"][0]["photos"]}
        return all(shown.get(i) for i in (photo, small))

    await eventually(on_the_timeline, timeout_s=30)
    line = (await p.get(f"/v1/orders/{oid}/timeline", headers=supplier)).json()
    shown = {ph["id"]: ph["screening"] for ph in line["stages"][0]["photos"]}
    assert shown[photo]["score"] == events[photo]["score"]
    assert shown[photo]["flagged_tiles"] == events[photo]["flagged_count"]
    assert (shown[small]["status"], shown[small]["reason"]) == ("unscreenable", "too_small")

    refused = await q.get(f"/v1/orders/{oid}/photos/{small}/screening", headers=buyer)
    assert refused.json()["status"] == "unscreenable" and "128" in refused.json()["message"]
    no_overlay = await q.get(f"/v1/orders/{oid}/photos/{small}/screening/overlay", headers=buyer)
    assert no_overlay.status_code == 404 and "too_small" in no_overlay.json()["detail"]


async def test_labels_are_checked_and_kept(services, kafka_bootstrap: str) -> None:  # type: ignore[no-untyped-def]
    settings, q, p, producer = services
    oid = await planned_order(p, producer, settings)
    photo = await upload(p, settings, oid, fabric_jpeg(8), "jpeg")

    async def done() -> bool:
        r = await q.get(f"/v1/orders/{oid}/photos/{photo}/screening",
                        headers=bearer(settings, "inspector"))  # fmt: skip
        return r.status_code == 200

    await eventually(done, timeout_s=60)
    url = f"/v1/orders/{oid}/photos/{photo}/screening/labels"
    buyer = bearer(settings, "buyer", "b-scr")
    ok = await q.post(url, json={"kind": "stain", "tiles": [0, 1, 1]}, headers=buyer)
    assert ok.status_code == 201 and ok.json()["labelled"] == 2
    whole = await q.post(url, json={"kind": "none"}, headers=bearer(settings, "inspector"))
    assert whole.status_code == 201 and whole.json()["labelled"] == 1
    wrong = await q.post(url, json={"kind": "smudge", "tiles": [0]}, headers=buyer)
    assert wrong.status_code == 422 and "stain" in wrong.json()["detail"]
    outside = await q.post(url, json={"kind": "hole", "tiles": [9999]}, headers=buyer)
    assert outside.status_code == 422 and "9999" in outside.json()["detail"]
    supplier = await q.post(
        url, json={"kind": "none"}, headers=bearer(settings, "supplier", "s-scr")
    )
    assert supplier.status_code == 403
    stranger = await q.post(url, json={"kind": "none"}, headers=bearer(settings, "buyer", "b-x"))
    assert stranger.status_code == 404


async def test_labels_given_over_http_retrain_the_model(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Label every tile of a screened photo as a hole over HTTP, run the train command's
    function against quality's database: the new model scores those tiles higher."""
    settings, q, p, producer = services
    oid = await planned_order(p, producer, settings)
    photo = await upload(p, settings, oid, fabric_jpeg(21), "jpeg")
    inspector = bearer(settings, "inspector")
    url = f"/v1/orders/{oid}/photos/{photo}/screening"

    async def done() -> bool:
        return (await q.get(url, headers=inspector)).status_code == 200

    await eventually(done, timeout_s=60)
    body = (await q.get(url, headers=inspector)).json()
    tiles = list(range(body["rows"] * body["cols"]))
    r = await q.post(f"{url}/labels", json={"kind": "hole", "tiles": tiles}, headers=inspector)
    assert r.status_code == 201 and r.json()["labelled"] == len(tiles)

    engine = create_async_engine(settings.database_url)
    async with AsyncSession(engine) as session:
        row = await session.get(PhotoScreeningRow, photo)
        labelled = await labelled_tiles(session)
    await engine.dispose()
    assert row is not None and row.feature_count
    features = np.frombuffer(row.features, np.float32).reshape(-1, row.feature_count)
    assert (labelled.labels == synth.KINDS.index("hole")).sum() >= len(tiles)
    old = m.load(settings.screening_model_path)
    new = await retrain(settings.database_url, tmp_path / "retrained.joblib", 11, 24)
    assert old is not None and new.trained_on["labelled_tiles"] >= len(tiles)
    before, _ = old.defect_probability(features)
    after, _ = new.defect_probability(features)
    assert after.mean() > before.mean() + 0.3
