"""Pages stored once for every reader of a kind, and stitched with one reader's parts per request.

A stored page is rendered without the request, so its template cannot reach the user, the
session or the CSRF token: whatever belongs to one person is left as a marker, written by the
tags of `templatetags/stitch.py`:

* `{% hole "name" arg %}` is replaced per request by HTML the view supplies (the CSRF token,
  the physician's own ratings, flash messages);
* `{% ifperson "name" arg %}A{% else %}B{% endifperson %}` stores both branches; per request
  one stays, as the view's predicate decides (has this reader rated this indication, voted for
  this comment). Branches may nest.

Markers are HTML comments carrying a tag derived from SECRET_KEY. Text users write is escaped
when rendered (no `<` survives) and the tag cannot be guessed either, so no user content can
open a hole or a branch. `stitch` consumes every marker: none reaches a browser.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from functools import cache

from django.utils.crypto import salted_hmac
from django.utils.safestring import SafeString, mark_safe

_ARG = re.compile(r"[\w-]*")
_numbers = itertools.count()  # branch numbers: unique within any one stored page


@cache
def _tag() -> str:
    return salted_hmac("drugratings.web.stitching", "marker").hexdigest()[:12]


@cache
def _holes() -> re.Pattern[str]:
    return re.compile(rf"<!--{_tag()}h:(\w+):([\w-]*)-->")


@cache
def _branches() -> re.Pattern[str]:
    t = _tag()
    return re.compile(rf"<!--{t}c(\d+):(\w+):([\w-]*)-->(.*?)<!--{t}e\1-->(.*?)<!--{t}z\1-->", re.S)


def _checked(name: str, arg: object) -> tuple[str, str]:
    text = "" if arg is None else str(arg)
    if not name.isidentifier() or not _ARG.fullmatch(text):
        raise ValueError(f"stitching marker {name!r} {text!r}: use a name and a plain argument")
    return name, text


def hole(name: str, arg: object = None) -> SafeString:
    name, text = _checked(name, arg)
    return mark_safe(f"<!--{_tag()}h:{name}:{text}-->")


def branch(name: str, arg: object, yes: str, no: str) -> SafeString:
    name, text = _checked(name, arg)
    n, t = next(_numbers), _tag()
    return mark_safe(f"<!--{t}c{n}:{name}:{text}-->{yes}<!--{t}e{n}-->{no}<!--{t}z{n}-->")


def stitch(
    html: str, fill: Callable[[str, str], str], holds: Callable[[str, str], bool]
) -> SafeString:
    """`html` with each branch resolved by `holds(name, arg)` and each hole replaced by
    `fill(name, arg)` (HTML, inserted as it is)."""

    def resolve(match: re.Match[str]) -> str:
        kept = match[4] if holds(match[2], match[3]) else match[5]
        return _branches().sub(resolve, kept)

    html = _branches().sub(resolve, html)
    return mark_safe(_holes().sub(lambda m: fill(m[1], m[2]), html))


def leftover(html: str) -> bool:
    """Whether any marker is left in `html` (tests: a stitched page must carry none)."""
    return f"<!--{_tag()}" in html
