"""Draw the app icons once (committed under drugratings/web/static/web/icons/).

Run: .venv/bin/python scripts/make_icons.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parents[1] / "drugratings" / "web" / "static" / "web" / "icons"
ACCENT = (11, 92, 173, 255)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def draw(size: int, maskable: bool) -> Image.Image:
    image = Image.new("RGBA", (size, size), ACCENT if maskable else (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if not maskable:  # rounded tile; maskable icons fill the square and keep a safe zone
        pen.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 5, fill=ACCENT)
    scale = 0.36 if maskable else 0.5
    font = ImageFont.truetype(FONT, int(size * scale))
    pen.text((size / 2, size / 2), "Rx", font=font, fill="white", anchor="mm")
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, False).save(OUT / f"icon-{size}.png", optimize=True)
        draw(size, True).save(OUT / f"maskable-{size}.png", optimize=True)
    draw(180, True).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
