"""Indicator categories as data: the first- and second-level lists of each form template."""

from __future__ import annotations

# The template in use through 2020/2021 in the sample files.
STANDARD_2020 = "standard-2020"
# 2021 central guidance: 成本指标 becomes a first-level category.
CENTRAL_2021 = "central-2021"

TEMPLATES: dict[str, dict[str, list[str]]] = {
    STANDARD_2020: {
        "产出指标": ["数量指标", "质量指标", "时效指标", "成本指标"],
        "效益指标": ["经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"],
        "满意度指标": ["满意度指标", "服务对象满意度指标"],
    },
    CENTRAL_2021: {
        "产出指标": ["数量指标", "质量指标", "时效指标"],
        "效益指标": ["经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"],
        "成本指标": ["经济成本指标", "社会成本指标", "生态环境成本指标"],
        "满意度指标": ["满意度指标", "服务对象满意度指标"],
    },
}

TEMPLATE_LABELS = {
    STANDARD_2020: "2020版（成本指标属产出指标）",
    CENTRAL_2021: "2021版（成本指标为一级指标）",
}

DEFAULT_TEMPLATE = STANDARD_2020


def level1_choices(template: str = DEFAULT_TEMPLATE) -> list[str]:
    """First-level indicator names of a template."""
    return list(TEMPLATES.get(template, TEMPLATES[DEFAULT_TEMPLATE]))


def level2_choices(template: str = DEFAULT_TEMPLATE) -> dict[str, list[str]]:
    """Second-level names per first level of a template."""
    return {k: list(v) for k, v in TEMPLATES.get(template, TEMPLATES[DEFAULT_TEMPLATE]).items()}


def all_level2(template: str = DEFAULT_TEMPLATE) -> list[str]:
    """Every second-level name of a template, in order, without repeats."""
    seen: list[str] = []
    for names in TEMPLATES.get(template, TEMPLATES[DEFAULT_TEMPLATE]).values():
        for name in names:
            if name not in seen:
                seen.append(name)
    return seen


# The rows a new form starts with: one per second level of the template, in the order of
# the printed form (docs/domain.md's table). 满意度指标 offers two names for the same row;
# a new form starts with the one most forms use (服务对象满意度指标). A row left with
# only its categories is dropped on save, so unused rows cost nothing.
_ONE_ROW_OF = {"满意度指标": "服务对象满意度指标"}


def standard_rows(template: str = DEFAULT_TEMPLATE) -> list[tuple[str, str]]:
    """(一级, 二级) of each standard row of a new form of ``template``."""
    rows = []
    for level1, names in level2_choices(template).items():
        if level1 in _ONE_ROW_OF and _ONE_ROW_OF[level1] in names:
            names = [_ONE_ROW_OF[level1]]
        rows.extend((level1, name) for name in names)
    return rows
