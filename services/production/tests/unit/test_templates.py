from pathlib import Path

import pytest

from looptrace_production.rules import UnknownCategory
from looptrace_production.schedule import template_for
from looptrace_production.templates import (
    StageTemplate,
    TemplateFileInvalid,
    load_templates,
    parse_templates,
)


def test_shipped_templates() -> None:
    templates = load_templates()
    knitwear = templates["knitwear"]
    assert [stage.name for stage in knitwear.stages][:3] == ["Yarn Received", "Knitting", "Linking"]
    assert [stage.number for stage in knitwear.stages if stage.qc] == [5]
    assert [stage.name for stage in knitwear.stages if stage.shipping] == ["Shipped"]
    cut_and_sew = templates["cut-and-sew"]
    assert [stage.duration_days for stage in cut_and_sew.stages] == [2, 10, 5, 3, 5, 14, 3, 2, 2, 2]
    assert [stage.number for stage in cut_and_sew.stages if stage.optional] == [5]
    assert [stage.number for stage in cut_and_sew.stages if stage.qc] == [8, 9]
    assert cut_and_sew.stages[0].depends_on == ()
    assert cut_and_sew.stages[5].depends_on == (5,)


@pytest.mark.parametrize("name", ["Cut and Sew", "cut_and_sew", "cut-and-sew", " CUT  AND-sew "])
def test_category_lookup_ignores_case_spaces_and_separators(name: str) -> None:
    assert template_for(load_templates(), name).category == "cut-and-sew"


def test_unknown_category_lists_the_known_ones() -> None:
    with pytest.raises(UnknownCategory, match="cut-and-sew, knitwear") as caught:
        template_for(load_templates(), "denim")
    assert "'denim'" in str(caught.value)
    assert caught.value.rule == "unknown_category"


def _one_category(*stages: dict[str, object]) -> dict[str, object]:
    return {"categories": {"socks": {"stages": list(stages)}}}


def test_explicit_dependencies_and_flags_are_read() -> None:
    templates = parse_templates(
        _one_category(
            {"number": 1, "name": "A", "duration_days": 1},
            {"number": 2, "name": "B", "duration_days": 2, "depends_on": []},
            {"number": 3, "name": "C", "duration_days": 3, "depends_on": [1, 2], "qc": True},
        )
    )
    assert templates["socks"].stages == (
        StageTemplate(1, "A", 1),
        StageTemplate(2, "B", 2),
        StageTemplate(3, "C", 3, qc=True, depends_on=(1, 2)),
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"stages": []}, "top-level 'categories:'"),
        ({"categories": {}}, "no categories"),
        ({"categories": {"socks": {"stages": []}}}, "category 'socks': needs a non-empty"),
        (
            _one_category(
                {"number": 1, "name": "A", "duration_days": 1},
                {"number": 1, "name": "B", "duration_days": 1},
            ),
            "duplicate stage numbers [1]",
        ),
        (
            _one_category(
                {"number": 1, "name": "A", "duration_days": 1},
                {"number": 2, "name": "a", "duration_days": 1},
            ),
            "duplicate stage names",
        ),
        (
            _one_category({"number": 1, "name": "A", "duration_days": 1, "depends_on": [7]}),
            "stage 1: depends_on 7 is not a stage of this category (stages: [1])",
        ),
        (
            _one_category(
                {"number": 1, "name": "A", "duration_days": 1, "depends_on": [2]},
                {"number": 2, "name": "B", "duration_days": 1},
            ),
            "must be an earlier stage",
        ),
        (_one_category({"number": 1, "name": "A", "duration_days": 0}), "duration_days must be"),
        (_one_category({"number": 1, "name": "A", "duration_days": 1, "qc": "ja"}), "qc must be"),
        (
            _one_category({"number": 1, "name": "A", "duration_days": 1, "mile": True}),
            "unknown keys",
        ),
        (_one_category({"number": 1, "duration_days": 1}), "needs a non-empty 'name'"),
        (
            _one_category(
                {"number": 2, "name": "A", "duration_days": 1, "depends_on": []},
                {"number": 1, "name": "B", "duration_days": 1},
            ),
            "increasing number order",
        ),
        (
            {
                "categories": {
                    "Cut and Sew": {"stages": [{"number": 1, "name": "A", "duration_days": 1}]},
                    "cut_and_sew": {"stages": [{"number": 1, "name": "A", "duration_days": 1}]},
                }
            },
            "listed twice",
        ),
    ],
)
def test_invalid_templates_are_refused_with_a_clear_message(document: object, message: str) -> None:
    with pytest.raises(TemplateFileInvalid) as caught:
        parse_templates(document)
    assert message in str(caught.value)


def test_loading_a_file_names_it_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "templates.yaml"
    path.write_text("categories:\n  socks:\n    stages: []\n", encoding="utf-8")
    with pytest.raises(TemplateFileInvalid, match=str(path)):
        load_templates(path)
    path.write_text("categories: [unclosed\n", encoding="utf-8")
    with pytest.raises(TemplateFileInvalid, match="not valid YAML"):
        load_templates(path)


def test_an_operator_can_add_a_category(tmp_path: Path) -> None:
    path = tmp_path / "templates.yaml"
    path.write_text(
        "categories:\n  Denim Jeans:\n    stages:\n"
        "      - {number: 1, name: Cutting, duration_days: 2}\n"
        "      - {number: 2, name: Laundry, duration_days: 4, qc: true}\n",
        encoding="utf-8",
    )
    template = template_for(load_templates(path), "denim_jeans")
    assert [(stage.name, stage.depends_on) for stage in template.stages] == [
        ("Cutting", ()),
        ("Laundry", (1,)),
    ]
