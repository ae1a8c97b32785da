"""The transitions a cut accepts: every ffmpeg `xfade` preset plus custom expression wipes, as data.

`TRANSITIONS` is what APIs list (name → one-line description); `xfade_filter` builds the video filter.
"""

from __future__ import annotations

from dataclasses import dataclass

from wubloader.media.errors import BadTransition


@dataclass(frozen=True, slots=True, kw_only=True)
class TransitionKind:
    """One named transition: an xfade preset, or a custom xfade expression over A, B, X, Y, W, H, P."""

    name: str
    description: str
    expression: str | None = None


_PRESETS = {
    "fade": "Cross-fade from one shot to the next",
    "fadeblack": "Fade through black",
    "fadewhite": "Fade through white",
    "fadegrays": "Fade through grayscale",
    "dissolve": "Random-pixel dissolve",
    "pixelize": "Pixelate out, then in",
    "distance": "Blend by colour distance",
    "hblur": "Horizontal blur cross-fade",
    "radial": "Radial (clock-hand) wipe",
    "circlecrop": "Circular crop closing then opening",
    "rectcrop": "Rectangular crop closing then opening",
    "circleopen": "Circle opening from the centre",
    "circleclose": "Circle closing to the centre",
    "vertopen": "Vertical split opening",
    "vertclose": "Vertical split closing",
    "horzopen": "Horizontal split opening",
    "horzclose": "Horizontal split closing",
    "wipeleft": "Wipe towards the left",
    "wiperight": "Wipe towards the right",
    "wipeup": "Wipe upwards",
    "wipedown": "Wipe downwards",
    "wipetl": "Wipe towards the top-left corner",
    "wipetr": "Wipe towards the top-right corner",
    "wipebl": "Wipe towards the bottom-left corner",
    "wipebr": "Wipe towards the bottom-right corner",
    "slideleft": "Slide the new shot in from the right",
    "slideright": "Slide the new shot in from the left",
    "slideup": "Slide the new shot in from the bottom",
    "slidedown": "Slide the new shot in from the top",
    "smoothleft": "Soft-edged wipe to the left",
    "smoothright": "Soft-edged wipe to the right",
    "smoothup": "Soft-edged wipe upwards",
    "smoothdown": "Soft-edged wipe downwards",
    "diagtl": "Diagonal wipe from the bottom-right to the top-left",
    "diagtr": "Diagonal wipe from the bottom-left to the top-right",
    "diagbl": "Diagonal wipe from the top-right to the bottom-left",
    "diagbr": "Diagonal wipe from the top-left to the bottom-right",
    "hlslice": "Horizontal slices, moving left",
    "hrslice": "Horizontal slices, moving right",
    "vuslice": "Vertical slices, moving up",
    "vdslice": "Vertical slices, moving down",
    "squeezeh": "Squeeze the old shot horizontally",
    "squeezev": "Squeeze the old shot vertically",
    "zoomin": "Zoom into the old shot while fading",
}

# xfade's progress P runs from 1 (all A, the outgoing shot) to 0 (all B).
_CUSTOM = {
    "clockwipe": (
        "Clockwise sweep from twelve o'clock",
        "if(lt(mod(atan2(X-W/2,H/2-Y)+2*PI,2*PI),(1-P)*2*PI),B,A)",
    ),
    "diamondwipe": ("Diamond growing from the centre", "if(lt(abs(X-W/2)/W+abs(Y-H/2)/H,1-P),B,A)"),
    "blinds": ("Venetian blinds opening left to right", "if(lt(mod(X,W/10)/(W/10),1-P),B,A)"),
    "irisround": (
        "Round iris opening from the centre",
        "if(lt(hypot(X-W/2,Y-H/2)/hypot(W/2,H/2),1-P),B,A)",
    ),
}

TRANSITIONS: dict[str, TransitionKind] = {
    **{name: TransitionKind(name=name, description=text) for name, text in _PRESETS.items()},
    **{
        name: TransitionKind(name=name, description=text, expression=expr)
        for name, (text, expr) in _CUSTOM.items()
    },
}


def transition_kind(name: str) -> TransitionKind:
    """The transition called `name`; BadTransition if unknown."""
    try:
        return TRANSITIONS[name]
    except KeyError:
        raise BadTransition(f"unknown transition {name!r}") from None


def xfade_filter(name: str, duration: float, offset: float) -> str:
    """The `xfade` filter (without pads) for a known transition of `duration` s starting at `offset` s."""
    kind = transition_kind(name)
    if kind.expression is not None:
        return f"xfade=transition=custom:duration={duration:.6f}:offset={offset:.6f}:expr='{kind.expression}'"
    return f"xfade=transition={name}:duration={duration:.6f}:offset={offset:.6f}"
