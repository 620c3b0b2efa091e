"""The form renderer writes the common widgets exactly as Django's widget templates do."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from common.form_renderer import WidgetRenderer

TRICKY = ["a \"quoted\" <b>bold</b> & 'single'", mark_safe("<i>safe</i>"), "", "0", 0, None]
VALUES = [*TRICKY, Decimal("12.50"), 2021, True, False, gettext_lazy("年度"), "多行\n文字"]
ATTRS = [
    {},
    {"class": "form-control", "required": True, "disabled": False, "data-x": '"<&>"'},
    {
        "aria-labelledby": "a b",
        "maxlength": 20,
        "data-safe": mark_safe("<x>"),
        "step": Decimal("0.01"),
    },
]
CHOICES = [
    ("", "—"),
    ("产出指标", "产出指标"),
    (3, 2021),
    ("<&>", '"quoted"'),
    ("组", [("a", "甲"), ("b", mark_safe("<b>乙</b>"))]),
    (gettext_lazy("年度"), [(None, "无")]),
]
WIDGETS = [
    forms.TextInput,
    forms.NumberInput,
    forms.EmailInput,
    forms.URLInput,
    forms.PasswordInput,
    forms.HiddenInput,
    forms.DateInput,
    forms.DateTimeInput,
    forms.TimeInput,
    forms.Textarea,
]


def both(widget: forms.Widget, value: object) -> tuple[str, str]:
    """The widget's HTML from Django's renderer and from the project's."""
    django = widget.render("field-name", value, renderer=DjangoTemplates())
    ours = widget.render("field-name", value, renderer=WidgetRenderer())
    return django, ours


@pytest.mark.parametrize("attrs", ATTRS)
@pytest.mark.parametrize("widget_class", WIDGETS)
def test_inputs_and_text_areas_are_written_as_django_writes_them(widget_class, attrs) -> None:
    for value in [*VALUES, datetime.date(2021, 12, 31), datetime.datetime(2021, 12, 31, 8, 5)]:
        django, ours = both(widget_class(attrs=dict(attrs)), value)
        assert ours == django, (widget_class, value)


@pytest.mark.parametrize("attrs", ATTRS)
def test_selects_are_written_as_django_writes_them(attrs) -> None:
    for widget in (
        forms.Select(attrs=dict(attrs), choices=CHOICES),
        forms.SelectMultiple(attrs=dict(attrs), choices=CHOICES),
        forms.NullBooleanSelect(attrs=dict(attrs)),
        forms.Select(choices=[]),
    ):
        lists = [["a", "b"]] if widget.allow_multiple_selected else []
        for value in [*VALUES, "a", 3, "<&>", *lists]:
            django, ours = both(widget, value)
            assert ours == django, (widget, value)


def test_other_widgets_still_go_through_their_templates() -> None:
    widgets = [
        forms.CheckboxInput(),
        forms.RadioSelect(choices=CHOICES[:3]),
        forms.ClearableFileInput(),
    ]
    for widget in widgets:
        django, ours = both(widget, "a")
        assert ours == django


def test_a_select_whose_options_have_their_own_template_uses_it() -> None:
    class Starred(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    django, ours = both(Starred(choices=CHOICES[:3]), "")
    assert ours == django
    assert "<input" in ours


def test_the_project_renders_forms_with_it(settings) -> None:
    assert settings.FORM_RENDERER == "common.form_renderer.WidgetRenderer"
    assert isinstance(get_default_renderer(), WidgetRenderer)
