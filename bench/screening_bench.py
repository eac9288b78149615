"""Photo pre-screening: ms per photo (decode + downscale + features + classifier + overlay),
photos per second and peak RSS, on 12-megapixel synthetic fabric photos.

    .venv/bin/python bench/screening_bench.py [--photos 20] [--model PATH] [--format JPEG|PNG]

The model is the one at ``--model`` (default: the quality service's setting; the baseline
shipped in the package while that file is missing). Photos are synthetic fabrics with defects,
enlarged to 4000 x 3000 and encoded as a phone would (JPEG quality 90) or as PNG. Timing is
of ``screen`` plus ``overlay_png`` on the encoded bytes, single process, one photo at a time.
"""

from __future__ import annotations

import io
import os
import resource
import statistics
import time
from pathlib import Path

import click
import numpy as np
from PIL import Image

from looptrace_quality.config import QualitySettings
from looptrace_quality.screening import store, synth
from looptrace_quality.screening.overlay import overlay_png
from looptrace_quality.screening.report import screen


def twelve_megapixel(rng: np.random.Generator, fmt: str) -> bytes:
    pixels, _ = synth.photo(rng, defect_rate=0.7)
    big = Image.fromarray(pixels).resize((4000, 3000), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    big.save(buffer, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buffer.getvalue()


@click.command()
@click.option("--photos", default=20, show_default=True)
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None)
@click.option("--format", "fmt", type=click.Choice(["JPEG", "PNG"]), default="JPEG")
def main(photos: int, model_path: Path | None, fmt: str) -> None:
    model = store.current(model_path or QualitySettings().screening_model_path)
    rng = np.random.default_rng(4)
    inputs = [twelve_megapixel(rng, fmt) for _ in range(photos)]
    screen(inputs[0], model)  # warm up (imports, first allocation)
    times, cpu, flagged = [], [], 0
    for data in inputs:
        start, start_cpu = time.perf_counter(), time.process_time()
        result = screen(data, model)
        overlay_png(result)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        flagged += bool(result.flagged)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{photos} photos of 4000x3000 {fmt} ({statistics.mean(map(len, inputs)) / 1e6:.1f} MB avg)"
    )
    print(
        f"ms per photo: median {statistics.median(times):.1f}, p95 "
        f"{sorted(times)[int(0.95 * (len(times) - 1))]:.1f}, max {max(times):.1f}"
    )
    print(
        f"CPU ms per photo: median {statistics.median(cpu):.1f}, max {max(cpu):.1f} "
        "(what one free core would take; wall time above includes waiting for a busy CPU)"
    )
    print(f"photos per second: {1000 / statistics.mean(times):.1f} (one process, one at a time)")
    print(
        f"peak RSS: {rss:.0f} MB; flagged {flagged}/{photos}; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
