"""The simulated picture: a moving texture and bar, and the camera id in block digits.

Frames are made directly in YUV 4:2:0 (planar, as the encoders take them) with numpy; the
digits come from a 5×7 block font defined here, so no font file is needed. `label_box` gives
the label's position and luma so that a test can find it again in a decoded frame.

A PTZ camera's picture also shows where it points: its heading in whole degrees in a second
label at the bottom left (`heading_box`), and the texture shifted sideways with the heading, so
that a pan is seen in the picture as well as in the stamp.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Plane = npt.NDArray[np.uint8]

INK = 235
PAPER = 16
LABEL_ORIGIN = (16, 16)
"""Top-left corner (y, x) of the label box in every frame."""
HEADING_MARGIN = 16
"""Distance of the heading label from the frame's bottom and left edges."""

_FONT: dict[str, tuple[str, ...]] = {
    "0": ("01110", "10001", "10011", "10101", "11001", "10001", "01110"),
    "1": ("00100", "01100", "00100", "00100", "00100", "00100", "01110"),
    "2": ("01110", "10001", "00001", "00010", "00100", "01000", "11111"),
    "3": ("11111", "00010", "00100", "00010", "00001", "10001", "01110"),
    "4": ("00010", "00110", "01010", "10010", "11111", "00010", "00010"),
    "5": ("11111", "10000", "11110", "00001", "00001", "10001", "01110"),
    "6": ("00110", "01000", "10000", "11110", "10001", "10001", "01110"),
    "7": ("11111", "00001", "00010", "00100", "01000", "01000", "01000"),
    "8": ("01110", "10001", "10001", "01110", "10001", "10001", "01110"),
    "9": ("01110", "10001", "10001", "01111", "00001", "00010", "01100"),
}


def _cells(text: str) -> npt.NDArray[np.bool_]:
    """The label as a grid of cells: a one-cell margin, digits 5×7 with one cell between."""
    grid = np.zeros((9, 6 * len(text) + 1), dtype=np.bool_)
    for index, char in enumerate(text):
        rows = _FONT[char]
        for y, row in enumerate(rows):
            for x, bit in enumerate(row):
                if bit == "1":
                    grid[1 + y, 1 + 6 * index + x] = True
    return grid


def label_scale(text: str, width: int, height: int) -> int:
    """Pixels per font cell: about height/60, at least 2, fitting the frame's width."""
    scale = max(2, height // 60)
    columns = 6 * len(text) + 1
    while scale > 1 and LABEL_ORIGIN[1] + columns * scale > width - LABEL_ORIGIN[1]:
        scale -= 1
    return scale


def render_label(text: str, scale: int) -> Plane:
    """Luma of a label box: INK digits on PAPER; each side a multiple of 2 (for chroma)."""
    if not text or any(char not in _FONT for char in text):
        raise ValueError(f"a label is digits only: {text!r}")
    cells = _cells(text)
    plane = np.where(cells, INK, PAPER).astype(np.uint8)
    plane = np.repeat(np.repeat(plane, scale, axis=0), scale, axis=1)
    height = plane.shape[0] + plane.shape[0] % 2
    width = plane.shape[1] + plane.shape[1] % 2
    box = np.full((height, width), PAPER, dtype=np.uint8)
    box[: plane.shape[0], : plane.shape[1]] = plane
    return box


def label_box(camera_id: int, width: int, height: int) -> tuple[int, int, Plane]:
    """(y, x, luma) of the label naming `camera_id` in a width×height frame."""
    text = str(camera_id)
    box = render_label(text, label_scale(text, width, height))
    y, x = LABEL_ORIGIN
    box = box[: max(0, height - y), : max(0, width - x)]
    return y, x, box


def heading_box(heading: int, width: int, height: int) -> tuple[int, int, Plane]:
    """(y, x, luma) of the label showing a heading (degrees, three digits) at the bottom left."""
    text = f"{heading % 360:03d}"
    box = render_label(text, label_scale(text, width, height))
    box = box[: max(0, height - 2 * HEADING_MARGIN), : max(0, width - 2 * HEADING_MARGIN)]
    y = max(0, height - HEADING_MARGIN - box.shape[0]) & ~1
    return y, HEADING_MARGIN, box


class Pattern:
    """Frames of a scrolling texture with a bar sweeping across; deterministic per size."""

    def __init__(self, width: int, height: int, seed: int = 20261) -> None:
        if width % 2 or height % 2 or width < 16 or height < 16:
            raise ValueError(f"frame size {width}x{height} must be even and at least 16x16")
        self.width = width
        self.height = height
        rng = np.random.default_rng(seed)
        small = rng.integers(40, 215, (height // 4 + 2, width // 4 + 2)).astype(np.float32)
        texture = np.kron(small, np.ones((8, 8), dtype=np.float32))
        for axis in (0, 1):  # soften the blocks: a little detail, not noise
            texture = (
                texture
                + np.roll(texture, 2, axis)
                + np.roll(texture, -2, axis)
                + np.roll(texture, 4, axis)
                + np.roll(texture, -4, axis)
            ) / 5
        self._texture = texture.astype(np.uint8)
        ys = np.linspace(0, 1, height // 2, dtype=np.float32)[:, None]
        xs = np.linspace(0, 1, width // 2, dtype=np.float32)[None, :]
        self._u = (96 + 64 * xs + 0 * ys).astype(np.float32)
        self._v = (160 - 64 * ys + 0 * xs).astype(np.float32)

    def frame(self, index: int, label: Plane | None = None, *, heading: int | None = None) -> Plane:
        """Frame `index` as one yuv420p array of shape (height * 3 / 2, width).

        With a heading (degrees), the texture is shifted by it and the heading label drawn.
        """
        w, h = self.width, self.height
        out = np.empty((h * 3 // 2, w), dtype=np.uint8)
        tex_h, tex_w = self._texture.shape
        oy = (index * 2) % (tex_h - h)
        shift = 0 if heading is None else round((heading % 360) / 360 * (tex_w - w))
        ox = (index * 3 + shift) % (tex_w - w)
        luma = out[:h]
        luma[:] = self._texture[oy : oy + h, ox : ox + w]
        bar = max(4, w // 24) & ~1
        bx = (index * max(2, w // 60)) % (w + bar) - bar
        luma[:, max(0, bx) : max(0, bx + bar)] = 230
        shift = np.float32((index % 60) * 2)
        u = out[h : h + h // 4].reshape(h // 2, w // 2)
        v = out[h + h // 4 :].reshape(h // 2, w // 2)
        u[:] = (self._u + shift).clip(0, 255).astype(np.uint8)
        v[:] = (self._v - shift).clip(0, 255).astype(np.uint8)
        if label is not None:
            y, x = LABEL_ORIGIN
            _draw(luma, u, v, y, x, label)
        if heading is not None:
            y, x, box = heading_box(heading, w, h)
            _draw(luma, u, v, y, x, box)
        return out


def _draw(luma: Plane, u: Plane, v: Plane, y: int, x: int, box: Plane) -> None:
    """Put a label box's luma at (y, x), grey in chroma; clipped to the frame."""
    h, w = luma.shape
    lh = min(box.shape[0], h - y)
    lw = min(box.shape[1], w - x)
    luma[y : y + lh, x : x + lw] = box[:lh, :lw]
    u[y // 2 : (y + lh) // 2, x // 2 : (x + lw) // 2] = 128
    v[y // 2 : (y + lh) // 2, x // 2 : (x + lw) // 2] = 128
