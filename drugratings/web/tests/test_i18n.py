"""The interface in English, Spanish, French and German: the message catalogue covers every
interface string, and the home, drug and rating pages show none left in English."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings

from drugratings.ratings.models import Comment, Rating

LOCALE = Path(settings.BASE_DIR) / "drugratings" / "locale"
LANGUAGES = ("es", "fr", "de")


def catalogue(lang: str) -> dict[str, list[str]]:
    """msgid -> msgstr(s) from a .po file (fuzzy entries count as untranslated)."""
    text = (LOCALE / lang / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = {}
    for block in text.split("\n\n")[1:]:
        if "#, fuzzy" in block:
            entries[_join(block, "msgid")] = [""]
            continue
        strs = [_join(block, f"msgstr[{i}]") for i in range(2)] if "msgid_plural" in block else []
        entries[_join(block, "msgid")] = strs or [_join(block, "msgstr")]
    return entries


def _join(block: str, key: str) -> str:
    match = re.search(rf'^{re.escape(key)} ((?:".*"\n?)+)', block + "\n", re.M)
    return "".join(re.findall(r'"(.*)"', match.group(1))) if match else ""


def test_the_catalogue_covers_every_interface_string():
    coverage = {}
    for lang in LANGUAGES:
        entries = catalogue(lang)
        missing = [m for m, strs in entries.items() if not all(strs)]
        coverage[lang] = (len(entries) - len(missing), len(entries))
        assert missing == [], f"{lang}: untranslated {missing}"
        assert (LOCALE / lang / "LC_MESSAGES" / "django.mo").stat().st_mtime >= (
            LOCALE / lang / "LC_MESSAGES" / "django.po"
        ).stat().st_mtime - 1, f"{lang}: run compilemessages"
    print("catalogue coverage:", {k: f"{a}/{b}" for k, (a, b) in coverage.items()})
    assert len({b for _, b in coverage.values()}) == 1  # the same strings in every language


@pytest.fixture
def pages(small_catalog, personas):
    rating = Rating.objects.create(
        physician=personas.other_verified.physician,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        efficacy=4,
    )
    Comment.objects.create(
        physician=personas.other_verified.physician,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        rating=rating,
        body="Dependable.",
    )
    Rating.objects.create(
        physician=personas.verified.physician,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.migraine,
        off_label=True,
        safety=2,
    )
    return [
        "/",
        "/drugs/atorvastatin-calcium/",
        "/drugs/atorvastatin-calcium/rate/",
        f"/drugs/atorvastatin-calcium/rate/?indication={small_catalog.migraine.pk}",
    ]


def text_pieces(html: str) -> set[str]:
    """Each piece of text between tags, and each placeholder/label/title attribute, trimmed
    (so catalogue data such as "Other specialty" is never mistaken for the word "Other")."""
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    attrs = re.findall(r'(?:placeholder|aria-label|title)="([^"]*)"', html)
    pieces = re.split(r"<[^>]+>", html) + attrs
    return {unescape(" ".join(p.split())).strip(" ·:→(") for p in pieces} - {""}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_pages_show_no_english_interface_string(pages, personas, web_as, lang):
    english_client, client = web_as(personas.verified), web_as(personas.verified)
    entries = catalogue(lang)
    for path in pages:
        english = text_pieces(
            english_client.get(path, headers={"Accept-Language": "en"}).content.decode()
        )
        page = client.get(path, headers={"Accept-Language": lang})
        assert page.status_code == 200
        translated = text_pieces(page.content.decode())
        assert f'lang="{lang}"' in page.content.decode()
        for msgid, strs in entries.items():
            shown = msgid.replace("%%", "%")
            if "%(" in shown or shown in strs:
                continue  # placeholders are checked through their rendered text below
            if shown in english:
                assert shown not in translated, f"{lang} {path}: untranslated {shown!r}"
        if path.startswith("/drugs/"):  # names from the catalogue stay as they are
            assert any("Atorvastatin calcium" in p for p in translated), path


def test_numbers_and_the_language_switch(pages, personas, web_as):
    client = web_as(personas.verified)
    html = client.get("/", headers={"Accept-Language": "de"}).content.decode()
    assert "Arzneimittelbewertungen verifizierter Ärzte" in html
    assert 'action="/i18n/setlang/"' in html
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert "Que valent vraiment les médicaments" in client.get("/").content.decode()
