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
    `fill(name, arg)` (HTML, inserted as it is). Holes and branches inside a branch that is
    not kept are never asked about.

    One pass over the markers (`str.split`, no backtracking): a regular expression per branch
    cost the drug page 1 ms per request on its 27 branches and 51 holes."""
    prefix = f"<!--{_tag()}"
    pieces = html.split(prefix)
    out = [pieces[0]]
    frames: list[list] = []  # per open branch: [number, keep the first part, in the first part]
    shown = True  # every open branch is in the part it keeps
    for piece in pieces[1:]:
        marker, end, text = piece.partition("-->")
        if not end:
            raise ValueError(f"stitching: unterminated marker {marker[:40]!r}")
        kind, rest = marker[:1], marker[1:]
        if kind == "h":
            if shown:
                _, name, arg = rest.split(":", 2)
                out.append(fill(name, arg))
        elif kind == "c":
            number, name, arg = rest.split(":", 2)
            frames.append([number, shown and holds(name, arg), True])
        elif kind in ("e", "z") and frames and frames[-1][0] == rest:
            if kind == "e":
                frames[-1][2] = False
            else:
                frames.pop()
        else:
            raise ValueError(f"stitching: unexpected marker {marker[:40]!r}")
        shown = all(keep == first for _, keep, first in frames)
        if shown:
            out.append(text)
    if frames:
        raise ValueError("stitching: a branch is not closed")
    return mark_safe("".join(out))


def leftover(html: str) -> bool:
    """Whether any marker is left in `html` (tests: a stitched page must carry none)."""
    return f"<!--{_tag()}" in html
