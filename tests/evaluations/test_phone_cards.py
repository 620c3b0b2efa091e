"""The phone cards: the detail page carries the grid and, for narrow
screens, one card per indicator drawn from the same layout, with its labels and values."""

from __future__ import annotations

import re
from html import unescape

import pytest

from evaluations.core import fields
from evaluations.core.formats import format_money, format_points
from evaluations.models import Status
from evaluations.workflow import evaluation_return, evaluation_submit
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db

CARD_LABELS = ("name", "target", "actual", "weight", "score", "deviation")


def text_of(html: str) -> str:
    """The visible text of an HTML fragment, tags dropped."""
    return unescape(re.sub(r"<[^>]+>", " ", html))


def cards_block(html: str) -> str:
    start = html.index('id="official-cards"')
    return html[start:]


def card(html: str, position: int) -> tuple[str, str]:
    """The card of an indicator and the cards block before it."""
    block = cards_block(html)
    start = block.index(f'id="indicator-card-{position}"')
    end = block.index("</article>", start)
    return block[start:end], block[:start]


def field_text(body: str, key: str) -> str:
    """The text shown for a field key in a card."""
    match = re.search(rf'<dd data-field="{re.escape(key)}"[^>]*>(.*?)</dd>', body, re.S)
    assert match, key
    return text_of(re.sub(r'<div class="computed-note">.*?</div>', "", match.group(1))).strip()


def test_the_detail_page_has_the_grid_and_a_card_per_indicator(client_a, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    evaluation.indicators.filter(position=2).update(deviation="进度略慢，\n下季度加快。")
    form = evaluation.as_form_data()
    html = client_a.get(f"/evaluations/{evaluation.pk}/").content.decode()

    assert 'id="official-table"' in html
    assert html.index('id="official-table"') < html.index('id="official-cards"')
    assert len(form.indicators) >= 5
    for position, ind in enumerate(form.indicators, start=1):
        assert f'id="indicator-{position}"' in html  # the grid's row
        body, _ = card(html, position)
        text = text_of(body)
        for key in CARD_LABELS:
            assert str(fields.INDICATOR[key].label) in text, (position, key)
        assert ind.name in text
        assert ind.target in text
        assert ind.actual in text
        key = f"indicators.{position}"
        assert field_text(body, f"{key}.weight") == format_points(ind.weight)
        assert field_text(body, f"{key}.score") == format_points(ind.score)
        # 一级/二级 on every card, though they merge over the rows of a group in the grid.
        assert field_text(body, f"{key}.level1") == ind.level1
        assert field_text(body, f"{key}.level2") == ind.level2
        assert str(fields.INDICATOR["level1"].label) in text
        assert str(fields.INDICATOR["level2"].label) in text
    body, _ = card(html, 2)
    assert "进度略慢，<br>下季度加快。" in body


def test_the_funding_block_is_labelled_fields(client_a, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    form = evaluation.as_form_data()
    html = cards_block(client_a.get(f"/evaluations/{evaluation.pk}/").content.decode())
    start = html.index('data-section="funding"')
    funding = html[start : html.index("</section>", start)]
    text = text_of(funding)
    for label in ("年度资金总额", "年初预算数", "全年预算数", "全年执行数", "执行率"):
        assert label in text
    total = form.funding[0]
    assert re.search(
        rf'data-field="funding\.total\.executed"[^>]*>\s*{re.escape(format_money(total.executed))}',
        funding,
    )


def test_the_review_page_shows_cards_with_findings_and_comments(client_finance, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    evaluation.indicators.filter(position=3).update(score=99)
    type(evaluation).objects.filter(pk=evaluation.pk).update(status=Status.SUBMITTED)
    html = client_finance.get(f"/review/{evaluation.pk}/").content.decode()
    assert 'id="official-table"' in html
    body, _ = card(html, 3)
    assert "finding finding-error" in body
    # The card carries a twin of the grid's comment field, disabled until the script enables
    # it on a narrow screen (and disables the grid's): one of them is sent.
    assert html.count('name="comment-indicator-3"') == 2
    twin = re.search(r'<textarea[^>]*data-phone-twin="id_comment-indicator-3"[^>]*>', body)
    assert twin and " disabled" in twin.group(0)
    assert 'id="id_comment-indicator-3"' in html
    assert "js/phone-comments.js" in html


def test_the_department_reads_the_row_comments_on_the_cards(client_a, dept_a, staff_a, finance):
    evaluation = make_evaluation(dept_a, staff_a)
    evaluation_submit(evaluation=evaluation, user=staff_a)
    evaluation_return(
        evaluation=evaluation,
        user=finance,
        reason="请补充",
        comments=[
            {"target": "indicator", "position": 4, "text": "完成时间请写到日"},
            {"target": "funding", "funding_kind": "total", "text": "执行数与账面不符"},
        ],
    )
    html = client_a.get(f"/evaluations/{evaluation.pk}/").content.decode()
    body, _ = card(html, 4)
    assert "完成时间请写到日" in text_of(body)
    block = cards_block(html)
    start = block.index('data-funding="total"')
    end = block.index('data-funding="current_year"', start)
    assert "执行数与账面不符" in text_of(block[start:end])
    assert "comment-indicator" not in html  # nothing to type on the read-only page
