"""Stitching a stored page: branches (nested too) resolved per reader, holes filled, markers
never left over, and a marker's name or argument restricted to plain words."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from drugratings.web.stitching import leftover, stitch

STORED = Template(
    '{% load stitch %}<p>{% ifperson "rated" %}Edit{% ifperson "saved" %} (saved){% endifperson %}'
    "{% else %}Rate{% endifperson %}</p>{% for c in comments %}"
    '{% ifperson "own" c %}-{% else %}<b>{{ c }}</b>{% endifperson %}{% endfor %}'
    '<i>{% hole "csrf" %}</i>{{ text }}'
)


def render(**context) -> str:
    return STORED.render(Context({"comments": [1, 2], "text": "", **context}))


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"rated"}, "<p>Edit</p>"),
        ({"rated", "saved"}, "<p>Edit (saved)</p>"),
        ({"saved"}, "<p>Rate</p>"),
    ],
)
def test_branches_nest_and_each_reader_keeps_their_own(facts, expected):
    html = stitch(render(), lambda name, arg: "TOKEN", lambda name, arg: name in facts)
    assert html.startswith(expected)
    assert html.endswith("<b>1</b><b>2</b><i>TOKEN</i>")
    assert not leftover(html)


def test_arguments_reach_the_predicate_and_the_filler():
    seen = []
    stitch(render(), lambda *a: seen.append(a) or "", lambda *a: seen.append(a) or a[1] == "2")
    assert ("own", "1") in seen and ("own", "2") in seen and ("csrf", "") in seen


def test_text_that_looks_like_a_marker_stays_text():
    html = stitch(render(text="<!--x h:csrf:-->"), lambda *a: "TOKEN", lambda *a: False)
    assert html.count("TOKEN") == 1 and "&lt;!--x h:csrf:--&gt;" in html


def test_a_marker_takes_only_plain_words():
    with pytest.raises(ValueError):
        Template('{% load stitch %}{% hole "csrf" "a b" %}').render(Context())
