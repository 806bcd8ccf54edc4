"""Draws the Teams app icons next to this file: `python manifests/teams/icons.py`.

The symbol is a dial with its needle near the top: a cap, and how close spend is to it.
Teams' rules (its app package guidelines): `color.png` is 192 x 192 with the symbol in the
middle 96 x 96 on a solid square background, corners not rounded; `outline.png` is 32 x 32,
white (255, 255, 255) on a fully transparent background, the symbol reaching the edges.
tests/unit/test_teams_manifest.py checks both files against these rules and against this
drawing.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent
BACKGROUND = (0x1D, 0x35, 0x57)
"""The manifest's accentColor, as Slack's background_color."""
WHITE = (255, 255, 255)
NEAR_CAP = (0xE6, 0x39, 0x46)
SCALE = 8
"""Drawn this many times larger, then reduced: smooth edges without a font or a renderer."""


def _dial(size: int, *, ring: float, colour_zone: bool) -> tuple[Image.Image, Image.Image]:
    """The dial filling a `size` square, drawn large: its white mask and its red zone's mask."""
    big = size * SCALE
    white = Image.new("L", (big, big), 0)
    zone = Image.new("L", (big, big), 0)
    width = round(big * ring)
    box = (0, 0, big - 1, big - 1)
    draw = ImageDraw.Draw(white)
    # The ring, open at the bottom like a gauge's scale, from 7:30 round to 4:30.
    draw.arc(box, start=135, end=405, fill=255, width=width)
    if colour_zone:
        # The last stretch of the scale, before the cap, in red on the colour icon.
        ImageDraw.Draw(white).arc(box, start=315, end=405, fill=0, width=width)
        ImageDraw.Draw(zone).arc(box, start=315, end=405, fill=255, width=width)
    centre = big / 2
    hub = big * 0.14
    draw.ellipse((centre - hub, centre - hub, centre + hub, centre + hub), fill=255)
    angle = math.radians(-25)  # the needle points into the red
    tip = (centre + math.cos(angle) * big * 0.40, centre + math.sin(angle) * big * 0.40)
    draw.line((centre, centre, *tip), fill=255, width=round(big * 0.09))
    # A foot under the dial, so the symbol spans its square from edge to edge.
    foot = big * 0.12
    draw.rectangle((centre - big * 0.30, big - foot, centre + big * 0.30, big - 1), fill=255)
    return white, zone


def _reduce(mask: Image.Image, size: int) -> Image.Image:
    return mask.resize((size, size), Image.Resampling.LANCZOS)


def color_icon() -> Image.Image:
    """192 x 192: the white dial with its red zone on the accent colour, 48 px of padding."""
    icon = Image.new("RGB", (192, 192), BACKGROUND)
    white, zone = _dial(96, ring=0.13, colour_zone=True)
    icon.paste(Image.new("RGB", (96, 96), WHITE), (48, 48), _reduce(white, 96))
    icon.paste(Image.new("RGB", (96, 96), NEAR_CAP), (48, 48), _reduce(zone, 96))
    return icon


def outline_icon() -> Image.Image:
    """32 x 32: the dial in white on transparent, every pixel white, only alpha varying."""
    white, _ = _dial(32, ring=0.16, colour_zone=False)
    icon = Image.new("RGBA", (32, 32), (*WHITE, 0))
    icon.putalpha(_reduce(white, 32))
    return icon


if __name__ == "__main__":
    color_icon().save(HERE / "color.png", optimize=True)
    outline_icon().save(HERE / "outline.png", optimize=True)
    print(f"wrote {HERE / 'color.png'} and {HERE / 'outline.png'}")
