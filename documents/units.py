"""Page geometry in twips (1/20 pt), the unit of WordprocessingML lengths."""

from __future__ import annotations

import math

from documents.profiles import Profile

TWIPS_PER_MM = 1440 / 25.4
PT = 20  # twips per point
A4_TWIPS = (11906, 16838)


def mm(value: float) -> int:
    """Millimetres to twips."""
    return round(value * TWIPS_PER_MM)


def margins_twips(profile: Profile) -> tuple[int, int, int, int]:
    """Top, bottom, left, right margins rounded up to whole twips, so that "15 mm" never reads
    back as 14.99 mm."""
    top, bottom, left, right = (math.ceil(m * TWIPS_PER_MM) for m in profile.margins_mm)
    return top, bottom, left, right


def text_width(profile: Profile) -> int:
    """Width of the type area in twips (A4 less the left and right margins)."""
    _top, _bottom, left, right = margins_twips(profile)
    return A4_TWIPS[0] - left - right
