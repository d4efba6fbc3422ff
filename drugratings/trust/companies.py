"""Company names as declared by physicians, labelled by FDA and paid through Open Payments
rarely match letter for letter ("Pfizer" vs "Parke-Davis Div of Pfizer Inc"), so they are
compared as sets of distinctive words."""

from __future__ import annotations

import re

_SUFFIXES = frozenset(
    """inc incorporated llc lp llp ltd limited corp corporation co company plc gmbh ag sa nv bv spa
    pharmaceuticals pharmaceutical pharma pharmaceutica laboratories laboratory labs lab
    holdings holding international intl usa us america north global group the and of div
    division subsidiary a an""".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def company_words(name: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(name.lower().replace("&", " ")) if w not in _SUFFIXES)


def same_company(a: str, b: str) -> bool:
    """True when one name's distinctive words are all in the other's (a parent or a division)."""
    left, right = company_words(a), company_words(b)
    if not left or not right:
        return False
    return left <= right or right <= left
