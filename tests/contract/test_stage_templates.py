"""The stage templates artifact other services read is production's templates.yaml, unedited."""

from __future__ import annotations

from looptrace_production.templates import load_templates
from looptrace_shared.contracts import stage_templates


def test_the_committed_artifact_is_production_s_templates() -> None:
    assert stage_templates.ARTIFACT.read_text(encoding="utf-8") == stage_templates.render(), (
        "shared/looptrace_shared/contracts/stage_templates.json differs from production's "
        "templates.yaml: run `python3 dev.py contracts`"
    )


def test_the_artifact_reads_back_as_production_s_stages() -> None:
    loaded = stage_templates.load()
    templates = load_templates()
    assert set(loaded) == set(templates)
    for key, template in templates.items():
        names = [(s.number, s.name, s.duration_days, s.qc, s.depends_on) for s in template.stages]
        assert [
            (s.number, s.name, s.duration_days, s.qc, s.depends_on) for s in loaded[key]
        ] == names
