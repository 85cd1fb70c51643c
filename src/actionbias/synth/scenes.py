"""Scene registry: each class's textured "home" scene and the neutral studios.

A scene is painted once per clip onto a canvas larger than the frame (the
margin absorbs camera pan and zoom) as an RGB image plus a label image naming
the element that owns each pixel ("sky", "court lines", "net", ...). Element
regions have hard edges, so element masks are exact; inside a region the
colour is textured (noise, stripes, lines in perspective), so that the scene's
signature is its palette and layout rather than one memorisable image. Every
clip re-draws its scene with its own seed: colours shift by a few percent,
horizon and props move.

Layout is written in *frame fractions* (0..1 across the visible frame,
outside values reach into the margin), so a scene looks the same at 64 or 112
pixels. The actor stands on the floor around y = 0.84..0.92.

`NEUTRAL_SCENES` ("grey studio", "violet studio") are used only by the mimetic
split: their element names and colours appear in no home scene.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from actionbias.synth.textures import fractal_noise, grain, modulate, stripes, value_noise

RGBLike = Sequence[float]


@dataclass(frozen=True)
class SceneSpec:
    """Which scene and the seed of its per-clip variation (colours, layout, texture).

    `lighting` (0..1) scales a per-clip change of the whole scene's look on top of
    the painter's own jitter: brightness, colour temperature and a hue rotation,
    the way one court looks different at noon, under floodlights or on another
    camera. `props` is the number of distractor props ("cone", "crate", "bucket")
    standing on the ground, drawn with no regard to the class. `contrast` (0..1]
    pulls every pixel towards the scene's mean colour and `blur` (a fraction of the
    frame) softens it, as a shallow depth of field does behind a filmed person: the
    scene keeps its palette and layout but loses the fine texture that competes with
    the actor's limbs. The defaults (0, 0, 1, 0) paint exactly what earlier
    versions painted.
    """

    name: str
    seed: int
    lighting: float = 0.0
    props: int = 0
    contrast: float = 1.0
    blur: float = 0.0


@dataclass(frozen=True)
class Scene:
    """A painted canvas: `labels` holds 1 + the index of the owning element."""

    image: np.ndarray
    labels: np.ndarray
    elements: tuple[str, ...]


class SceneCanvas:
    """Painting surface with frame-fraction coordinates and element bookkeeping."""

    def __init__(self, frame_size: int, canvas_size: int, rng: np.random.Generator):
        self.size = frame_size
        self.canvas = canvas_size
        self.margin = (canvas_size - frame_size) / 2.0
        self.rng = rng
        self.image = np.zeros((canvas_size, canvas_size, 3), np.float32)
        self.labels = np.zeros((canvas_size, canvas_size), np.uint8)
        self.elements: list[str] = []
        centres = (np.arange(canvas_size, dtype=np.float32) + 0.5 - self.margin) / frame_size
        self.fx = np.broadcast_to(centres[None, :], (canvas_size, canvas_size))
        self.fy = np.broadcast_to(centres[:, None], (canvas_size, canvas_size))

    # -- colours and textures -------------------------------------------------------
    def colour(self, rgb: RGBLike, jitter: float = 0.06) -> np.ndarray:
        """A base colour shifted in brightness and per channel by a few percent."""
        base = np.asarray(rgb, np.float32)
        bright = self.rng.uniform(1.0 - jitter, 1.0 + jitter)
        channel = self.rng.uniform(1.0 - jitter / 2, 1.0 + jitter / 2, size=3)
        return np.clip(base * bright * channel, 0.0, 255.0).astype(np.float32)

    def noise(self, cell: float) -> np.ndarray:
        return value_noise(self.rng, self.canvas, self.canvas, cell * self.size)

    def fractal(self, cells: tuple[float, ...] = (0.2, 0.07, 0.025)) -> np.ndarray:
        return fractal_noise(
            self.rng, self.canvas, self.canvas, tuple(c * self.size for c in cells)
        )

    def grain(self) -> np.ndarray:
        return grain(self.rng, self.canvas, self.canvas)

    def textured(self, rgb: RGBLike, amount: float = 0.12, cells=(0.2, 0.07, 0.025)) -> np.ndarray:
        return modulate(self.colour(rgb), self.fractal(cells), amount)

    def gradient(self, top: RGBLike, bottom: RGBLike, y0: float, y1: float) -> np.ndarray:
        t = np.clip((self.fy - y0) / max(y1 - y0, 1e-6), 0.0, 1.0)[..., None]
        return self.colour(top) * (1.0 - t) + self.colour(bottom) * t

    # -- regions --------------------------------------------------------------------
    def below(self, y: float) -> np.ndarray:
        return self.fy >= y

    def between(self, y0: float, y1: float) -> np.ndarray:
        return (self.fy >= y0) & (self.fy < y1)

    def _px(self, points: np.ndarray) -> np.ndarray:
        return np.round((np.asarray(points, np.float64) * self.size + self.margin) * 16).astype(
            np.int32
        )

    def polygon(self, points: Sequence[Sequence[float]]) -> np.ndarray:
        mask = np.zeros((self.canvas, self.canvas), np.uint8)
        cv2.fillPoly(mask, [self._px(points).reshape(-1, 1, 2)], 1, cv2.LINE_8, 4)
        return mask.astype(bool)

    def rect(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        return (self.fx >= x0) & (self.fx < x1) & (self.fy >= y0) & (self.fy < y1)

    def line(self, p0: Sequence[float], p1: Sequence[float], width: float) -> np.ndarray:
        """Straight band of `width` (frame fraction, at least one pixel)."""
        mask = np.zeros((self.canvas, self.canvas), np.uint8)
        a, b = self._px([p0, p1])
        thick = max(1, round(width * self.size))
        cv2.line(
            mask,
            (int(a[0]) >> 4, int(a[1]) >> 4),
            (int(b[0]) >> 4, int(b[1]) >> 4),
            1,
            thick,
            cv2.LINE_8,
        )
        return mask.astype(bool)

    def disc(self, cx: float, cy: float, r: float) -> np.ndarray:
        return (self.fx - cx) ** 2 + (self.fy - cy) ** 2 <= r * r

    def ellipse_ring(self, cx: float, cy: float, rx: float, ry: float, width: float) -> np.ndarray:
        d = np.sqrt(((self.fx - cx) / rx) ** 2 + ((self.fy - cy) / ry) ** 2)
        w = max(width, 0.9 / self.size) / max(rx, ry)
        return np.abs(d - 1.0) <= w / 2

    def converging(self, horizon: float, vx: float, x_bottom: float, width: float) -> np.ndarray:
        """A line on the ground running from the vanishing point to `x_bottom` at y=1."""
        t = (self.fy - horizon) / (1.0 - horizon)
        x_line = vx + (x_bottom - vx) * t
        half = np.maximum(width * t / 2, 0.55 / self.size)
        return (t > 0) & (np.abs(self.fx - x_line) <= half)

    def ground_line(self, horizon: float, distance: float, width: float) -> np.ndarray:
        """A line across the ground at perspective `distance` (1 = frame bottom)."""
        y = horizon + (1.0 - horizon) / distance
        half = max(width / distance / 2, 0.55 / self.size)
        return np.abs(self.fy - y) <= half

    def perspective_bands(self, horizon: float, period: float, phase: float = 0.0) -> np.ndarray:
        """Alternating bands on the ground that thin out towards the horizon."""
        dist = (1.0 - horizon) / np.maximum(self.fy - horizon, 1e-3)
        return stripes(dist, period, 0.5, phase) & (self.fy > horizon)

    # -- painting -------------------------------------------------------------------
    def paint(self, name: str, region: np.ndarray, colour: np.ndarray | RGBLike) -> None:
        """Give `region` to element `name` and colour it (a colour or an image)."""
        if name not in self.elements:
            self.elements.append(name)
        idx = self.elements.index(name) + 1
        region = np.asarray(region, bool)
        col = np.asarray(colour, np.float32)
        if col.ndim == 1:
            self.image[region] = col
        else:
            self.image[region] = col[region]
        self.labels[region] = idx

    def finish(self) -> Scene:
        image = np.clip(np.round(self.image), 0, 255).astype(np.uint8)
        return Scene(image=image, labels=self.labels.copy(), elements=tuple(self.elements))


Painter = Callable[[SceneCanvas], None]


def _u(cv: SceneCanvas, lo: float, hi: float) -> float:
    return float(cv.rng.uniform(lo, hi))


def _sky(cv: SceneCanvas, horizon: float, top: RGBLike, bottom: RGBLike, clouds: float) -> None:
    sky = cv.gradient(top, bottom, -0.1, horizon)
    cloud = np.clip((cv.fractal((0.35, 0.12, 0.04)) - (1.0 - clouds)) * 3.0, 0.0, 1.0)[..., None]
    sky = sky * (1.0 - 0.8 * cloud) + 245.0 * 0.8 * cloud
    cv.paint("sky", ~cv.below(horizon), sky)


# --- home scenes ------------------------------------------------------------------------


def _beach(cv: SceneCanvas) -> None:
    horizon = _u(cv, 0.40, 0.48)
    shore = horizon + _u(cv, 0.12, 0.17)
    _sky(cv, horizon, (60, 130, 215), (175, 215, 240), 0.35)
    cv.paint("sun", cv.disc(_u(cv, 0.1, 0.9), _u(cv, 0.05, 0.2), 0.06), cv.colour((255, 238, 150)))
    sea = cv.gradient((20, 80, 150), (40, 130, 185), horizon, shore)
    waves = stripes(cv.fy + 0.01 * cv.noise(0.1), 0.025, 0.25)
    sea[waves] = sea[waves] * 1.35
    cv.paint("sea", cv.between(horizon, shore), sea)
    sand = cv.textured((226, 200, 150), 0.12) + 10.0 * cv.grain()[..., None]
    wet = cv.between(shore, shore + 0.04)
    sand[wet] *= 0.8
    cv.paint("sand", cv.below(shore), sand)


def _boxing_ring(cv: SceneCanvas) -> None:
    floor = _u(cv, 0.56, 0.64)
    crowd = cv.textured((28, 24, 34), 0.5, (0.08, 0.03, 0.015))
    speck = cv.noise(0.012) > 0.82
    hues = np.stack([cv.noise(0.05), cv.noise(0.05), cv.noise(0.05)], -1) * 200 + 40
    crowd[speck] = hues[speck]
    cv.paint("crowd", ~cv.below(floor), crowd)
    canvas = cv.textured((172, 186, 204), 0.08)
    cv.paint("ring canvas", cv.below(floor), canvas)
    apron = cv.between(floor, floor + 0.035)
    cv.paint("ring apron", apron, cv.textured((20, 40, 120), 0.1))
    for x in (_u(cv, -0.05, 0.05), _u(cv, 0.95, 1.05)):
        cv.paint(
            "corner post",
            cv.rect(x - 0.025, floor - 0.4, x + 0.025, floor + 0.02),
            cv.colour((200, 200, 210)),
        )
    for k, rgb in enumerate(((210, 30, 35), (240, 240, 240), (35, 60, 205))):
        y = floor - 0.08 - 0.11 * k
        cv.paint("ropes", cv.line((-0.2, y), (1.2, y + _u(cv, -0.01, 0.01)), 0.022), cv.colour(rgb))


def _aerobics_studio(cv: SceneCanvas) -> None:
    floor = _u(cv, 0.58, 0.66)
    cv.paint("wall", ~cv.below(floor), cv.textured((238, 118, 178), 0.1))
    x0 = _u(cv, -0.3, 0.1)
    mirror = cv.rect(x0, floor - 0.38, x0 + 1.1, floor - 0.06)
    glass = cv.gradient((200, 222, 232), (165, 195, 212), floor - 0.38, floor - 0.06)
    streaks = stripes(cv.fx + cv.fy, 0.18, 0.15)
    glass[streaks] *= 1.08
    cv.paint("mirror", mirror, glass)
    barre_y = floor - _u(cv, 0.12, 0.16)
    cv.paint("barre", cv.line((-0.2, barre_y), (1.2, barre_y), 0.018), cv.colour((205, 205, 215)))
    wood = cv.textured((222, 178, 122), 0.1, (0.3, 0.03, 0.01))
    planks = cv.converging(floor, 0.5, 0.0, 0.0)
    for xb in np.arange(-1.5, 2.5, 0.16):
        planks |= cv.converging(floor, 0.5, float(xb), 0.008)
    wood[planks & cv.below(floor)] *= 0.82
    cv.paint("wooden floor", cv.below(floor), wood)


def _running_track(cv: SceneCanvas) -> None:
    horizon = _u(cv, 0.30, 0.36)
    infield = horizon + _u(cv, 0.10, 0.14)
    _sky(cv, horizon - 0.08, (80, 150, 225), (160, 200, 235), 0.25)
    stands = cv.textured((150, 150, 165), 0.25, (0.05, 0.02, 0.01))
    rows = stripes(cv.fy, 0.02, 0.3)
    stands[rows] *= 0.75
    cv.paint("stands", cv.between(horizon - 0.08, horizon), stands)
    cv.paint("grass", cv.between(horizon, infield), cv.textured((70, 150, 62), 0.15))
    track = cv.textured((200, 82, 52), 0.12) + 8.0 * cv.grain()[..., None]
    cv.paint("track", cv.below(infield), track)
    lanes = np.zeros_like(cv.labels, bool)
    for k in range(1, 9):
        lanes |= cv.ground_line(infield - 0.02, 0.35 + 0.35 * k, 0.02)
    cv.paint("lane lines", lanes & cv.below(infield), cv.colour((245, 245, 240)))


def _swimming_pool(cv: SceneCanvas) -> None:
    water_top = _u(cv, 0.30, 0.38)
    deck = _u(cv, 0.74, 0.79)
    tiles = cv.textured((236, 240, 246), 0.04)
    grid = stripes(cv.fx, 0.05, 0.12) | stripes(cv.fy, 0.05, 0.12)
    tiles[grid] = cv.colour((190, 208, 222))
    band = cv.between(water_top - 0.08, water_top - 0.05)
    tiles[band] = cv.colour((30, 90, 180))
    cv.paint("tiles", ~cv.below(water_top), tiles)
    water = cv.gradient((30, 150, 200), (50, 185, 215), water_top, deck)
    caustic = np.abs(cv.noise(0.06) - 0.5) < 0.05
    water[caustic] = water[caustic] * 1.25 + 20
    cv.paint("water", cv.between(water_top, deck), water)
    ropes = np.zeros_like(cv.labels, bool)
    white = np.zeros_like(cv.labels, bool)
    for k in range(1, 4):
        y = water_top + (deck - water_top) * (k / 4.0) ** 1.3
        band = np.abs(cv.fy - y) <= max(0.012 * (0.5 + k / 4.0), 0.55 / cv.size)
        ropes |= band
        white |= band & stripes(cv.fx, 0.06, 0.5)
    cv.paint("lane ropes", ropes, cv.colour((215, 35, 40)))
    cv.paint("lane ropes", white, cv.colour((245, 245, 245)))
    cv.paint("pool deck", cv.below(deck), cv.textured((215, 208, 192), 0.08))


def _ski_slope(cv: SceneCanvas) -> None:
    horizon = _u(cv, 0.42, 0.5)
    _sky(cv, horizon, (165, 195, 235), (228, 236, 246), 0.15)
    xs = np.linspace(-0.3, 1.3, 9)
    peaks = [(float(x), horizon - _u(cv, 0.08, 0.3)) for x in xs]
    outline = [(-0.3, horizon + 0.01), *peaks, (1.3, horizon + 0.01)]
    mountains = cv.polygon(outline)
    rock = cv.textured((105, 120, 148), 0.18)
    caps = cv.fy < (horizon - 0.1 + 0.05 * cv.noise(0.05))
    rock[caps] = cv.colour((236, 240, 250))
    cv.paint("mountains", mountains, rock)
    trees = np.zeros_like(cv.labels, bool)
    for x in np.arange(-0.25, 1.25, _u(cv, 0.05, 0.08)):
        h = _u(cv, 0.06, 0.12)
        base = horizon + 0.02
        trees |= cv.polygon([(x - 0.03, base), (x, base - h), (x + 0.03, base)])
    cv.paint("trees", trees, cv.textured((24, 68, 44), 0.2))
    snow = cv.textured((240, 245, 252), 0.05, (0.3, 0.1, 0.04))
    snow -= 18.0 * (cv.noise(0.15) > 0.7)[..., None] * np.array([1.0, 0.6, 0.0], np.float32)
    # The mountains' polygon ends at horizon + 0.01 and the snow starts at + 0.02; the
    # band between is the trees' base, which leaves gaps where the trees are spaced
    # apart. Snow fills whatever in that band is still unpainted (a no-op where the
    # trees closed it, so clips that rendered before keep their pixels).
    band = (cv.labels == 0) & cv.below(horizon)
    cv.paint("snow", (cv.below(horizon + 0.02) & ~trees) | band, snow)


def _weight_room(cv: SceneCanvas) -> None:
    floor = _u(cv, 0.6, 0.67)
    cv.paint("wall", ~cv.below(floor), cv.textured((38, 82, 82), 0.14))
    rack = np.zeros_like(cv.labels, bool)
    x0 = _u(cv, -0.1, 0.4)
    for k in range(4):
        x = x0 + 0.2 * k
        rack |= cv.rect(x, floor - 0.42, x + 0.02, floor)
    for y in (floor - 0.36, floor - 0.2):
        rack |= cv.rect(x0, y, x0 + 0.62, y + 0.018)
    cv.paint("weight rack", rack, cv.colour((70, 70, 74)))
    plate_colours = ((205, 40, 40), (40, 80, 200), (230, 200, 40), (40, 160, 70))
    for k in range(6):
        cx = x0 + 0.04 + 0.1 * k
        cy = floor - 0.36 + 0.16 * (k % 2)
        cv.paint("weight plates", cv.disc(cx, cy, 0.04), cv.colour(plate_colours[k % 4]))
    rubber = cv.textured((36, 36, 40), 0.2) + 6.0 * cv.grain()[..., None]
    flecks = cv.noise(0.01) > 0.85
    rubber[flecks] = cv.colour((90, 90, 95))
    cv.paint("rubber floor", cv.below(floor), rubber)


def _city_park(cv: SceneCanvas) -> None:
    horizon = _u(cv, 0.5, 0.58)
    _sky(cv, horizon, (110, 165, 220), (190, 215, 235), 0.3)
    foliage_field = cv.fractal((0.2, 0.08, 0.03))
    canopy = (cv.fy < horizon) & (cv.fy > horizon - 0.35 + 0.25 * foliage_field)
    leaves = np.stack([cv.noise(0.04)] * 3, -1)
    autumn = np.where(
        leaves > 0.5,
        cv.colour((222, 120, 30))[None, None] * (0.8 + 0.4 * leaves),
        cv.colour((180, 50, 30))[None, None] * (0.8 + 0.4 * leaves),
    )
    cv.paint("trees", canopy, autumn)
    trunks = np.zeros_like(cv.labels, bool)
    for x in np.arange(_u(cv, -0.1, 0.05), 1.2, 0.22):
        trunks |= cv.rect(float(x), horizon - 0.12, float(x) + 0.03, horizon)
    cv.paint("trees", trunks, cv.colour((80, 50, 30)))
    cv.paint("grass", cv.below(horizon), cv.textured((122, 140, 52), 0.2))
    path_top = horizon + _u(cv, 0.18, 0.24)
    path = cv.polygon([(-0.3, path_top), (1.3, path_top - 0.03), (1.3, 1.3), (-0.3, 1.3)])
    gravel = cv.textured((204, 182, 142), 0.1) + 14.0 * cv.grain()[..., None]
    cv.paint("path", path, gravel)


def _tennis_court(cv: SceneCanvas) -> None:
    horizon = _u(cv, 0.38, 0.44)
    fence = cv.textured((30, 84, 52), 0.12)
    mesh = stripes(cv.fx + cv.fy, 0.025, 0.18) | stripes(cv.fx - cv.fy, 0.025, 0.18)
    fence[mesh] = fence[mesh] * 0.55 + 40
    cv.paint("fence", ~cv.below(horizon), fence)
    cv.paint("court surround", cv.below(horizon), cv.textured((52, 132, 82), 0.06))
    court = cv.polygon([(0.18, horizon + 0.03), (0.82, horizon + 0.03), (1.35, 1.3), (-0.35, 1.3)])
    cv.paint("court", court, cv.textured((42, 92, 172), 0.06))
    lines = cv.converging(horizon + 0.03, 0.5, -0.22, 0.02) | cv.converging(
        horizon + 0.03, 0.5, 1.22, 0.02
    )
    lines |= cv.converging(horizon + 0.03, 0.5, 0.5, 0.012)
    lines |= cv.ground_line(horizon + 0.03, 4.0, 0.03) | cv.ground_line(horizon + 0.03, 1.6, 0.03)
    lines &= cv.below(horizon + 0.03) & (court | cv.ground_line(horizon + 0.03, 4.0, 0.03))
    cv.paint("court lines", lines, cv.colour((246, 246, 246)))
    net_top = horizon + _u(cv, 0.08, 0.11)
    net_bottom = net_top + 0.1
    net_region = cv.between(net_top, net_bottom)
    net = cv.textured((28, 28, 30), 0.1)
    holes = stripes(cv.fx, 0.016, 0.4) & stripes(cv.fy, 0.016, 0.4)
    net[holes] = net[holes] * 0.6 + 30
    cv.paint("net", net_region, net)
    cv.paint("net", cv.between(net_top, net_top + 0.014), cv.colour((240, 240, 240)))


def _city_street(cv: SceneCanvas) -> None:
    kerb = _u(cv, 0.5, 0.56)
    sidewalk = _u(cv, 0.73, 0.78)
    brick = cv.textured((162, 72, 52), 0.15)
    row = np.floor(cv.fy / 0.03)
    mortar = stripes(cv.fy, 0.03, 0.18) | stripes(cv.fx + 0.04 * np.mod(row, 2), 0.08, 0.1)
    brick[mortar] = cv.colour((196, 186, 176))
    cv.paint("buildings", ~cv.below(kerb), brick)
    windows = np.zeros_like(cv.labels, bool)
    x0 = _u(cv, -0.1, 0.05)
    for wx in np.arange(x0, 1.2, 0.24):
        for wy in (kerb - 0.42, kerb - 0.22):
            windows |= cv.rect(float(wx), wy, float(wx) + 0.12, wy + 0.13)
    cv.paint("windows", windows, cv.gradient((60, 75, 100), (35, 45, 65), kerb - 0.45, kerb))
    asphalt = cv.textured((72, 72, 78), 0.12) + 8.0 * cv.grain()[..., None]
    cv.paint("road", cv.between(kerb, sidewalk), asphalt)
    mid = (kerb + sidewalk) / 2
    dashes = (np.abs(cv.fy - mid) < 0.012) & stripes(cv.fx + _u(cv, 0, 1), 0.2, 0.55)
    cv.paint("road markings", dashes, cv.colour((236, 200, 40)))
    slabs = cv.textured((182, 178, 172), 0.06)
    joints = stripes(cv.fx, 0.16, 0.04) | (np.abs(cv.fy - sidewalk - 0.09) < 0.005)
    slabs[joints & cv.below(sidewalk)] *= 0.78
    cv.paint("sidewalk", cv.below(sidewalk), slabs)


def _theatre_stage(cv: SceneCanvas) -> None:
    floor = _u(cv, 0.6, 0.68)
    folds = 0.5 + 0.5 * np.sin(2 * math.pi * (cv.fx / 0.07 + 0.3 * cv.noise(0.2)))
    curtain = modulate(cv.colour((150, 18, 32)), folds, 0.35)
    cv.paint("curtain", ~cv.below(floor), curtain)
    valance = ~cv.below(_u(cv, -0.02, 0.06))
    cv.paint("curtain", valance, cv.colour((110, 10, 20)))
    wood = cv.textured((124, 76, 40), 0.12, (0.3, 0.03, 0.01))
    lines = np.zeros_like(cv.labels, bool)
    for k in range(1, 12):
        lines |= cv.ground_line(floor, 1.0 + 0.45 * k, 0.01)
    wood[lines & cv.below(floor)] *= 0.7
    cv.paint("stage floor", cv.below(floor), wood)
    cx = _u(cv, 0.3, 0.7)
    spot = ((cv.fx - cx) / 0.42) ** 2 + ((cv.fy - (floor + 0.22)) / 0.12) ** 2 <= 1.0
    cv.paint("spotlight", spot & cv.below(floor), cv.textured((240, 212, 140), 0.05))


def _football_pitch(cv: SceneCanvas) -> None:
    horizon = _u(cv, 0.36, 0.42)
    _sky(cv, horizon, (95, 165, 232), (175, 210, 238), 0.3)
    grass = cv.textured((64, 162, 64), 0.1)
    bands = cv.perspective_bands(horizon, 0.9, _u(cv, 0, 1))
    grass[bands] *= 0.82
    cv.paint("grass", cv.below(horizon), grass)
    lines = cv.ground_line(horizon, 2.2, 0.02) | cv.converging(
        horizon, _u(cv, 0.3, 0.7), _u(cv, -0.6, 1.6), 0.02
    )
    cv.paint("pitch lines", lines & cv.below(horizon), cv.colour((245, 245, 245)))
    gx = _u(cv, 0.1, 0.5)
    top = horizon - 0.16
    net = cv.rect(gx, top, gx + 0.5, horizon + 0.03)
    mesh = stripes(cv.fx, 0.02, 0.25) | stripes(cv.fy, 0.02, 0.25)
    net_img = np.where(
        mesh[..., None],
        cv.colour((230, 230, 230))[None, None],
        cv.colour((60, 140, 60))[None, None],
    )
    cv.paint("net", net, net_img)
    posts = cv.rect(gx - 0.012, top - 0.012, gx + 0.512, top + 0.008)
    posts |= cv.rect(gx - 0.012, top, gx + 0.008, horizon + 0.03)
    posts |= cv.rect(gx + 0.492, top, gx + 0.512, horizon + 0.03)
    cv.paint("goal", posts, cv.colour((250, 250, 250)))


def _dojo(cv: SceneCanvas) -> None:
    floor = _u(cv, 0.58, 0.65)
    paper = cv.textured((236, 226, 198), 0.05)
    cv.paint("shoji screen", ~cv.below(floor), paper)
    lattice = (stripes(cv.fx + _u(cv, 0, 1), 0.09, 0.1) | stripes(cv.fy, 0.11, 0.09)) & ~cv.below(
        floor
    )
    cv.paint("lattice", lattice, cv.textured((92, 60, 34), 0.1))
    beam = cv.between(floor - 0.03, floor)
    cv.paint("lattice", beam, cv.colour((70, 44, 26)))
    tatami = cv.textured((198, 190, 118), 0.1, (0.3, 0.02, 0.008))
    cv.paint("tatami", cv.below(floor), tatami)
    borders = np.zeros_like(cv.labels, bool)
    for xb in (-0.9, 0.2, 1.3):
        borders |= cv.converging(floor, 0.5, xb, 0.03)
    for dist in (1.3, 2.6):
        borders |= cv.ground_line(floor, dist, 0.03)
    cv.paint("mat borders", borders & cv.below(floor), cv.colour((32, 58, 40)))


def _basketball_court(cv: SceneCanvas) -> None:
    floor = _u(cv, 0.56, 0.63)
    cv.paint("wall", ~cv.below(floor), cv.textured((30, 42, 96), 0.14))
    bx = _u(cv, 0.15, 0.55)
    by = floor - _u(cv, 0.42, 0.48)
    board = cv.rect(bx, by, bx + 0.3, by + 0.19)
    cv.paint("backboard", board, cv.colour((240, 240, 245)))
    square = cv.rect(bx + 0.1, by + 0.07, bx + 0.2, by + 0.17) & ~cv.rect(
        bx + 0.112, by + 0.082, bx + 0.188, by + 0.17
    )
    cv.paint("backboard", square, cv.colour((210, 40, 40)))
    ring = cv.ellipse_ring(bx + 0.15, by + 0.2, 0.07, 0.018, 0.012)
    cv.paint("hoop", ring, cv.colour((240, 110, 20)))
    wood = cv.textured((208, 142, 80), 0.1, (0.3, 0.03, 0.01))
    planks = np.zeros_like(cv.labels, bool)
    for xb in np.arange(-1.5, 2.5, 0.12):
        planks |= cv.converging(floor, 0.5, float(xb), 0.006)
    wood[planks & cv.below(floor)] *= 0.85
    cv.paint("court", cv.below(floor), wood)
    key = cv.ground_line(floor, 2.0, 0.02) | cv.converging(floor, 0.5, _u(cv, -0.2, 0.1), 0.02)
    key |= cv.converging(floor, 0.5, _u(cv, 0.9, 1.2), 0.02)
    cv.paint("court lines", key & cv.below(floor + 0.005), cv.colour((245, 245, 245)))


# --- neutral studios (mimetic split only) -----------------------------------------------


def _studio(backdrop: RGBLike, floor_rgb: RGBLike) -> Painter:
    def paint(cv: SceneCanvas) -> None:
        floor = _u(cv, 0.62, 0.7)
        cv.paint(
            "studio backdrop",
            ~cv.below(floor),
            cv.gradient(backdrop, np.asarray(backdrop) * 0.92, 0.0, floor),
        )
        cv.paint(
            "studio floor",
            cv.below(floor),
            cv.gradient(np.asarray(floor_rgb) * 0.95, floor_rgb, floor, 1.0),
        )

    return paint


HOME_SCENES: dict[str, Painter] = {
    "beach": _beach,
    "boxing ring": _boxing_ring,
    "aerobics studio": _aerobics_studio,
    "running track": _running_track,
    "swimming pool": _swimming_pool,
    "ski slope": _ski_slope,
    "weight room": _weight_room,
    "city park": _city_park,
    "tennis court": _tennis_court,
    "city street": _city_street,
    "theatre stage": _theatre_stage,
    "football pitch": _football_pitch,
    "dojo": _dojo,
    "basketball court": _basketball_court,
}
NEUTRAL_SCENES: dict[str, Painter] = {
    "grey studio": _studio((128, 128, 128), (104, 104, 106)),
    "violet studio": _studio((122, 84, 172), (92, 62, 134)),
}
SCENES: dict[str, Painter] = {**HOME_SCENES, **NEUTRAL_SCENES}


#: Distractor props: scene elements that belong to no class and no scene.
PROP_NAMES = ("cone", "crate", "bucket")
_PROP_COLOURS = ((235, 110, 30), (150, 110, 70), (60, 120, 210), (220, 200, 40), (200, 60, 140))


def _paint_props(cv: SceneCanvas, count: int) -> None:
    """`count` props standing on the lower part of the frame (in front of every scene)."""
    for _ in range(count):
        kind = PROP_NAMES[int(cv.rng.integers(len(PROP_NAMES)))]
        x = _u(cv, -0.05, 1.05)
        base = _u(cv, 0.74, 0.98)
        h = _u(cv, 0.06, 0.13) * (0.6 + 0.5 * (base - 0.7) / 0.3)
        colour = cv.colour(_PROP_COLOURS[int(cv.rng.integers(len(_PROP_COLOURS)))], 0.1)
        if kind == "cone":
            region = cv.polygon([(x - 0.45 * h, base), (x, base - h), (x + 0.45 * h, base)])
        elif kind == "crate":
            region = cv.rect(x - 0.5 * h, base - h, x + 0.5 * h, base)
        else:
            region = cv.polygon(
                [
                    (x - 0.4 * h, base - h),
                    (x + 0.4 * h, base - h),
                    (x + 0.3 * h, base),
                    (x - 0.3 * h, base),
                ]
            )
        cv.paint(kind, region, modulate(colour, cv.noise(0.03), 0.15))


def _relight(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Brightness, colour temperature and hue of the whole canvas, scaled by `amount`."""
    hsv = cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV_FULL)
    hsv = hsv.astype(np.float32)
    hsv[..., 0] = np.mod(hsv[..., 0] + rng.uniform(-1, 1) * amount * 256 * 0.12, 256)
    rgb = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB_FULL)
    gain = math.exp(rng.uniform(-1, 1) * 0.45 * amount)
    tint = np.exp(rng.uniform(-1, 1, size=3) * 0.15 * amount)
    return rgb.astype(np.float32) * gain * tint.astype(np.float32)


def canvas_size(frame_size: int, margin: float = 0.14) -> int:
    """Canvas edge for a frame: room for camera pan and zoom-out on every side."""
    return math.ceil(frame_size * (1.0 + 2.0 * margin))


def build_scene(spec: SceneSpec, frame_size: int, size: int | None = None) -> Scene:
    """Paint scene `spec.name` for frames of `frame_size` on a canvas of `size` pixels."""
    if spec.name not in SCENES:
        raise KeyError(f"unknown scene {spec.name!r}; known: {', '.join(SCENES)}")
    cv = SceneCanvas(frame_size, size or canvas_size(frame_size), np.random.default_rng(spec.seed))
    SCENES[spec.name](cv)
    if not np.all(cv.labels > 0):
        raise AssertionError(f"scene {spec.name!r} left pixels unpainted")
    # Props and lighting draw from their own streams, so a scene without them is
    # painted exactly as before and adding them moves nothing the painter drew.
    if spec.props > 0:
        cv.rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 1]))
        _paint_props(cv, spec.props)
    if spec.lighting > 0:
        cv.image = _relight(
            cv.image, spec.lighting, np.random.default_rng(np.random.SeedSequence([spec.seed, 2]))
        )
    if spec.blur > 0:
        sigma = spec.blur * frame_size
        cv.image = cv2.GaussianBlur(cv.image, (0, 0), sigmaX=sigma, sigmaY=sigma)
    if spec.contrast < 1.0:
        mean = cv.image.reshape(-1, 3).mean(axis=0)
        cv.image = mean + spec.contrast * (cv.image - mean)
    return cv.finish()


def scene_elements(name: str, frame_size: int = 64) -> tuple[str, ...]:
    """Element names scene `name` paints (drawn once at a small size to find out)."""
    return build_scene(SceneSpec(name, 0), frame_size).elements
