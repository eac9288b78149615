"""The report: a synthetic season fed through the batch processor, `looptrace analytics report`
writes one HTML file, and headless Chromium draws its charts without touching the network."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import sync_playwright

from looptrace_predictions.analytics.cli import analytics
from looptrace_predictions.analytics.consumer import consumer_groups
from looptrace_predictions.analytics.sample import Season
from looptrace_predictions.config import PredictionsSettings
from looptrace_predictions.models import Base, plumbing
from looptrace_shared.db import make_sessionmaker
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.testing import fresh_schema, scratch_database

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


async def feed(url: str, n_orders: int) -> None:
    engine = await fresh_schema(url, Base.metadata)
    settings = PredictionsSettings(database_url=url)
    processor = BatchProcessor(
        consumer_groups(None)[0], make_sessionmaker(engine), plumbing, settings
    )  # type: ignore[arg-type]
    records = [
        Record(m.topic, 0, i, m.key, m.value)
        for i, m in enumerate(Season(n_orders, seed=4).messages())
    ]
    for i in range(0, len(records), 1000):
        await processor.process(records[i : i + 1000])
    await engine.dispose()


def drawn(page, selector: str) -> int:  # type: ignore[no-untyped-def]
    """How many marks (paths, with a visible box) the chart has."""
    return page.evaluate(
        """(sel) => { const svg = document.querySelector(sel); if (!svg) return -1;
            return [...svg.querySelectorAll('path, rect, use')].filter(e => {
              const b = e.getBoundingClientRect(); return b.width > 0 && b.height > 0; }).length; }""",
        selector,
    )


def test_the_report_is_one_file_whose_charts_chromium_draws(
    infra, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    assert shutil.which(CHROMIUM), "install Chromium: apt-get install -y chromium (see .ci/run)"
    with scratch_database(infra.server_url, "looptrace_report") as url:
        asyncio.run(feed(url, 90))
        monkeypatch.setenv("DATABASE_URL", url)
        out = tmp_path / "report.html"
        result = CliRunner().invoke(
            analytics, ["report", "--out", str(out), "--from", "2026-01-01"]
        )
        assert result.exit_code == 0, result.output
        refused = CliRunner().invoke(
            analytics, ["report", "--out", str(out), "--from", "2026-05-01", "--to", "2026-04-01"]
        )
        assert refused.exit_code == 2 and "from" in refused.output
    page_html = out.read_text()
    assert "<script" not in page_html and "<metadata" not in page_html
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.goto(out.as_uri())
        bars = drawn(page, "svg.bottlenecks")
        trend = drawn(page, "svg.on-time")
        weeks = drawn(page, "svg.delivery")
        sparklines = page.locator("table.scorecards svg.sparkline").count()
        suppliers = page.locator("table.scorecards tbody tr").count()
        bottleneck = page.locator("h2:has-text('Stage bottlenecks') + p b").inner_text()
        browser.close()
    assert bars > 10 and trend > 3 and weeks > 3, (bars, trend, weeks)
    assert suppliers == 6 and sparklines == 6  # every supplier of the season, each with its trend
    assert bottleneck == "Sewing & Assembly"  # the longest stage slips the most days in the sample
    assert requests == [out.as_uri()]  # nothing fetched but the file itself
