"""Helpers for browser tests in headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import shutil
from itertools import pairwise
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def no_horizontal_overflow(page) -> bool:
    """Nothing wider than the device: on an emulated phone the layout viewport grows to fit
    wide content, so compare with the configured width, not window.innerWidth."""
    width = page.viewport_size["width"]
    return page.evaluate(
        "(w) => document.documentElement.scrollWidth <= w && document.body.scrollWidth <= w", width
    )


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


AXE = (
    Path(__file__).resolve().parents[2]
    / "tests-browser"
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """axe-core's violations of the given impacts on the current page (the context must be
    created with bypass_csp=True: axe is injected as an inline script)."""
    if not AXE.exists():
        raise RuntimeError("axe-core is missing: run `npm ci` in tests-browser/")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async (tags) => await axe.run(document, {runOnly: tags})", AXE_TAGS)
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def small_tap_targets(page, minimum: int = 44) -> list[str]:
    """Links, buttons and form controls smaller than minimum x minimum px (inline links in
    running text are exempt, as WCAG 2.5.8 allows)."""
    return page.evaluate(
        """(min) => Array.from(document.querySelectorAll(
              'a[href], button, input:not([type=hidden]), select, textarea, summary'))
            .filter(e => e.offsetParent !== null)
            .filter(e => !(e.tagName === 'A' && e.closest('p, li, dd, td, small')
                           && !e.classList.contains('button') && !e.closest('nav')))
            .map(e => { const r = e.getBoundingClientRect();
                        const box = e.type === 'radio' || e.type === 'checkbox'
                          ? (e.closest('label') || e).getBoundingClientRect() : r;
                        return [e, box]; })
            .filter(([e, r]) => r.width < min || r.height < min)
            .map(([e, r]) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}`
                 + `.${(e.className || '').toString().split(' ')[0]} `
                 + `"${(e.innerText || e.value || e.name || '').trim().slice(0, 30)}"`
                 + ` ${Math.round(r.width)}x${Math.round(r.height)}`)""",
        minimum,
    )


def headings_in_order(page) -> list[str]:
    """Headings that skip a level (h2 straight to h4) or pages without exactly one h1."""
    levels = page.eval_on_selector_all(
        "h1, h2, h3, h4, h5, h6", "els => els.map(e => Number(e.tagName[1]))"
    )
    problems = [] if levels.count(1) == 1 else [f"{levels.count(1)} h1"]
    for before, after in pairwise(levels):
        if after > before + 1:
            problems.append(f"h{before} -> h{after}")
    return problems
