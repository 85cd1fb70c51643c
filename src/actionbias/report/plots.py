"""The report's figures, rendered with matplotlib (Agg) to inline PNG data.

Each function takes plain numbers (no run objects) and returns PNG bytes, so
the figures are testable on their own and the page builder decides where they
go. Figures are built with the object API (`Figure`), never pyplot, so the
report neither depends on nor changes the caller's matplotlib backend and
leaves no open figures behind; PNGs are rendered by Agg.

Colours come from `Palette`: one Okabe-Ito colour per model (colour-blind
safe), the same in every figure; a variant of a model (e.g. trained with
scene-swap augmentation) keeps the model's colour and changes line style,
marker and hatch, so "dual_sum" and "dual_sum + scene-swap" read as a pair.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

DPI = 110

# Okabe & Ito (2008), ordered so that the first colours are the most distinct on
# white; yellow and black come last (yellow is faint, black reads as "text").
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
HIGH_COLOUR = "#D55E00"  # highest-SBErr classes
LOW_COLOUR = "#0072B2"  # lowest-SBErr classes
NEUTRAL_COLOUR = "#B8B8B8"
CHANCE_STYLE = {"color": "#555555", "linestyle": (0, (4, 3)), "linewidth": 1.0}

LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "P")
HATCHES = ("", "//", "..", "xx")


@dataclass(frozen=True)
class Style:
    colour: str
    variant: int  # 0 for the plain model, 1.. for its variants

    @property
    def linestyle(self) -> str:
        return LINESTYLES[self.variant % len(LINESTYLES)]

    @property
    def marker(self) -> str:
        return MARKERS[self.variant % len(MARKERS)]

    @property
    def hatch(self) -> str:
        return HATCHES[self.variant % len(HATCHES)]


class Palette:
    """Colour by model key, style variant by a secondary key, assigned in order of first use."""

    def __init__(self) -> None:
        self._colours: dict[str, str] = {}
        self._variants: dict[tuple[str, str], int] = {}

    def style(self, model: str, variant: str = "") -> Style:
        if model not in self._colours:
            self._colours[model] = OKABE_ITO[len(self._colours) % len(OKABE_ITO)]
        key = (model, variant)
        if key not in self._variants:
            self._variants[key] = sum(1 for m, _ in self._variants if m == model)
        return Style(self._colours[model], self._variants[key])


@dataclass(frozen=True)
class Interval:
    """A figure and its interval, all as fractions; low/high None when unknown."""

    value: float
    low: float | None = None
    high: float | None = None


def png_bytes(fig: Figure) -> bytes:
    """Render and close a figure; fixed metadata so equal inputs give equal bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _errors(items: Sequence[Interval]) -> np.ndarray:
    """Matplotlib's (2, n) error array in percent; zero length where unknown."""
    low = [100 * (i.value - i.low) if i.low is not None else 0.0 for i in items]
    high = [100 * (i.high - i.value) if i.high is not None else 0.0 for i in items]
    return np.clip(np.array([low, high]), 0.0, None)


def _style_axes(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e6e6e6", linewidth=0.8)
    ax.set_axisbelow(True)


def _chance(ax, chance: float | None, horizontal: bool = True, label: bool = True) -> None:
    if chance is None:
        return
    text = f"chance {100 * chance:.3g} %" if label else None
    if horizontal:
        ax.axhline(100 * chance, **CHANCE_STYLE, label=text)
    else:
        ax.axvline(100 * chance, **CHANCE_STYLE, label=text)


def plain(text: str) -> str:
    """User text drawn literally: `$` would start mathtext, a leading `_` hides a legend entry."""
    text = text.replace("$", r"\$")
    return "\u200b" + text if text.startswith("_") else text


def _wrap(label: str, width: int = 18) -> str:
    """Break long model names (HF ids) at separators so tick labels stay narrow."""
    if len(label) <= width:
        return label
    out, line = [], ""
    for part in label.replace("/", "/\u200b").replace(" ", " \u200b").split("\u200b"):
        if line and len(line) + len(part) > width:
            out.append(line.rstrip())
            line = ""
        line += part
    out.append(line.rstrip())
    return "\n".join(out)


def edge(colour: str) -> str:
    """Outline colour: Okabe-Ito yellow needs a dark edge to be seen on white."""
    return "#444444" if colour == OKABE_ITO[6] else colour


HORIZONTAL_FROM = 15  # from this many models on, bars run sideways so labels stay legible


def swap_bars(
    labels: Sequence[str],
    styles: Sequence[Style],
    shacc: Sequence[Interval],
    sberr: Sequence[Interval],
    chance: float | None,
) -> bytes:
    """SHAcc and SBErr side by side per model, 95 % interval whiskers, chance line.

    Vertical groups for a handful of models; horizontal (model names on the y
    axis, first model on top) for many, where vertical tick labels would collide.
    """
    n = len(labels)
    horizontal = n >= HORIZONTAL_FROM
    if horizontal:
        fig = Figure(figsize=(10.5, 1.2 + 0.42 * n), layout="constrained")
    else:
        fig = Figure(figsize=(min(16.0, max(6.0, 1.05 * n + 2.5)), 3.9), layout="constrained")
    ax = fig.subplots()
    pos = np.arange(n, dtype=float)
    bar = 0.38
    bar_fn = ax.barh if horizontal else ax.bar
    for i in range(n):
        colour = styles[i].colour
        bar_fn(pos[i] - bar / 2, 100 * shacc[i].value, bar, color=colour, edgecolor=edge(colour))
        bar_fn(
            pos[i] + bar / 2,
            100 * sberr[i].value,
            bar,
            color=colour + "40",
            edgecolor=edge(colour),
            hatch="////",
            linewidth=1.0,
        )
    err = {"fmt": "none", "ecolor": "#222222", "elinewidth": 1.0, "capsize": 3}
    for offset, items in ((-bar / 2, shacc), (bar / 2, sberr)):
        values = [100 * s.value for s in items]
        if horizontal:
            ax.errorbar(values, pos + offset, xerr=_errors(items), **err)
        else:
            ax.errorbar(pos + offset, values, yerr=_errors(items), **err)
    _chance(ax, chance, horizontal=not horizontal)
    ends = [100 * (s.high if s.high is not None else s.value) for s in (*shacc, *sberr)]
    top = max([e for e in ends if np.isfinite(e)] + [10.0])
    limit = min(100.0, top * 1.12 + 2)
    if horizontal:
        ax.set_yticks(pos, [plain(label) for label in labels], fontsize=8.5)
        ax.margins(y=0.5 / n)
        ax.invert_yaxis()
        ax.set_xlabel("% of swap videos")
        ax.set_xlim(0, limit)
        ax.grid(axis="x", color="#e6e6e6", linewidth=0.8)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_axisbelow(True)
    else:
        ax.set_xticks(pos, [plain(_wrap(label)) for label in labels], fontsize=8.5)
        ax.set_ylabel("% of swap videos")
        ax.set_ylim(0, limit)
        _style_axes(ax)
    handles = [
        Patch(facecolor="#777777", edgecolor="#777777", label="SHAcc (solid, higher is better)"),
        Patch(
            facecolor="#77777740",
            edgecolor="#777777",
            hatch="////",
            label="SBErr (hatched, lower is better)",
        ),
    ]
    if chance is not None:
        handles.append(ax.get_legend_handles_labels()[0][-1])
    # Above the axes, never over the bars (a fully scene-driven model reaches 100 %).
    ax.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        fontsize=8,
        frameon=False,
        ncols=3,
    )
    return png_bytes(fig)


def swap_scatter(
    labels: Sequence[str],
    styles: Sequence[Style],
    shacc: Sequence[Interval],
    sberr: Sequence[Interval],
    chance: float | None,
) -> bytes:
    """SBErr (x) against SHAcc (y), both intervals; the ideal corner is top left."""
    ncols = max(1, -(-len(labels) // 22))  # at most 22 entries per legend column
    longest = max((len(label) for label in labels), default=10)
    legend_width = ncols * (0.5 + 0.062 * longest)
    fig = Figure(figsize=(5.6 + legend_width, 5.0), layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 100], [0, 100], color="#999999", linewidth=0.8, linestyle=":")
    ax.text(
        62, 55, "SHAcc = SBErr", rotation=45, color="#777777", fontsize=8, ha="center", va="center"
    )
    ax.fill_between([0, 100], [0, 0], [0, 100], color="#D55E00", alpha=0.04, linewidth=0)
    ax.text(97, 4, "scene wins\n(SBErr > SHAcc)", color="#a04000", fontsize=8, ha="right")
    ax.plot([0], [100], marker="*", markersize=16, color="#009E73", clip_on=False, zorder=5)
    ax.annotate(
        "ideal: all human,\nno scene",
        xy=(0, 100),
        xytext=(6, 86),
        fontsize=8,
        color="#006040",
        arrowprops={"arrowstyle": "->", "color": "#006040", "linewidth": 0.8},
    )
    if chance is not None:
        ax.axhline(100 * chance, **CHANCE_STYLE)
        ax.axvline(100 * chance, **CHANCE_STYLE, label=f"chance {100 * chance:.3g} %")
    for i, label in enumerate(labels):
        s = styles[i]
        ax.errorbar(
            [100 * sberr[i].value],
            [100 * shacc[i].value],
            xerr=_errors([sberr[i]]),
            yerr=_errors([shacc[i]]),
            fmt=s.marker,
            color=s.colour,
            markeredgecolor=edge(s.colour),
            markersize=7,
            elinewidth=1.0,
            capsize=2.5,
            label=plain(label),
        )
    # A little room past 0 and 100 so that points on the edges (a fully
    # scene-driven model sits at SBErr 100, SHAcc 0) are drawn whole.
    ax.set_xlim(-3, 103)
    ax.set_ylim(-3, 103)
    ax.set_xticks(range(0, 101, 20))
    ax.set_yticks(range(0, 101, 20))
    ax.set_aspect("equal")
    ax.set_xlabel("SBErr: % predicted as the scene's class (lower is better)")
    ax.set_ylabel("SHAcc: % predicted as the human's class")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(color="#eeeeee", linewidth=0.8)
    ax.set_axisbelow(True)
    fig.legend(loc="outside right center", fontsize=8, frameon=False, ncols=ncols)
    return png_bytes(fig)


@dataclass(frozen=True)
class ClassBar:
    name: str
    n: int
    sberr: Interval
    shacc: float


def class_sberr_bars(
    rows: Sequence[ClassBar],
    high: set[str],
    low: set[str],
    chance: float | None,
    max_rows: int = 40,
) -> tuple[bytes, int]:
    """Per-background-class SBErr (bars, 95 % whiskers) and SHAcc (dots), highest first.

    With more than `max_rows` classes only the highest and lowest halves are
    drawn (Table 1 right shows five of each); returns the PNG and how many
    classes were left out.
    """
    ordered = sorted(rows, key=lambda r: (-r.sberr.value, r.name))
    hidden = 0
    if len(ordered) > max_rows:
        half = max_rows // 2
        hidden = len(ordered) - 2 * half
        ordered = ordered[:half] + ordered[-half:]
    n = len(ordered)
    fig = Figure(figsize=(6.2, 1.1 + 0.24 * n), layout="constrained")
    ax = fig.subplots()
    y = np.arange(n)
    colours = [
        HIGH_COLOUR if r.name in high else LOW_COLOUR if r.name in low else NEUTRAL_COLOUR
        for r in ordered
    ]
    ax.barh(y, [100 * r.sberr.value for r in ordered], color=colours, height=0.7)
    ax.errorbar(
        [100 * r.sberr.value for r in ordered],
        y,
        xerr=_errors([r.sberr for r in ordered]),
        fmt="none",
        ecolor="#333333",
        elinewidth=0.8,
        capsize=2,
    )
    ax.scatter(
        [100 * r.shacc for r in ordered],
        y,
        marker="D",
        s=16,
        color="white",
        edgecolors="#222222",
        linewidths=1.2,
        zorder=4,
        label="SHAcc",
    )
    if hidden:
        split = n // 2 - 0.5
        ax.axhline(split, color="#888888", linewidth=0.8, linestyle=(0, (1, 2)))
        ax.text(100, split, f"{hidden} classes not shown ", fontsize=7, ha="right", va="center")
    _chance(ax, chance, horizontal=False)
    ax.set_yticks(y, [plain(f"{r.name}  (n={r.n})") for r in ordered], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of swap videos with this background", fontsize=8.5)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#eeeeee", linewidth=0.8)
    ax.set_axisbelow(True)
    handles = [
        Patch(color=HIGH_COLOUR, label="SBErr, highest"),
        Patch(color=LOW_COLOUR, label="SBErr, lowest"),
        Patch(color=NEUTRAL_COLOUR, label="SBErr"),
        *ax.get_legend_handles_labels()[0],
    ]
    ax.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.04 if n < 6 else 1.0 + 0.25 / n),
        fontsize=7,
        frameon=False,
        ncols=5,
    )
    return png_bytes(fig), hidden


@dataclass(frozen=True)
class SweepSeries:
    label: str
    style: Style
    frames: Sequence[int]
    shacc: Sequence[Interval]
    sberr: Sequence[Interval]


def sweep_curves(series: Sequence[SweepSeries], chance: float | None) -> bytes:
    """SHAcc and SBErr against the number of frames (Figure 1b), one line per model."""
    fig = Figure(figsize=(11.0, 3.8), layout="constrained")
    axes = fig.subplots(1, 2, sharex=True)
    ticks = sorted({f for s in series for f in s.frames})
    for ax, metric, title in (
        (axes[0], "shacc", "SHAcc (higher is better)"),
        (axes[1], "sberr", "SBErr (lower is better)"),
    ):
        for s in series:
            values: Sequence[Interval] = getattr(s, metric)
            x = np.asarray(s.frames, dtype=float)
            y = np.array([100 * v.value for v in values])
            ax.plot(
                x,
                y,
                color=s.style.colour,
                linestyle=s.style.linestyle,
                marker=s.style.marker,
                markersize=5,
                linewidth=1.6,
                label=plain(s.label),
            )
            if all(v.low is not None and v.high is not None for v in values):
                ax.fill_between(
                    x,
                    [100 * v.low for v in values],  # type: ignore[operator]
                    [100 * v.high for v in values],  # type: ignore[operator]
                    color=s.style.colour,
                    alpha=0.15,
                    linewidth=0,
                )
        _chance(ax, chance)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("frames per video")
        ax.set_ylabel("% of swap videos")
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_ylim(bottom=0)
        _style_axes(ax)
    axes[1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    return png_bytes(fig)


def class_accuracy_heatmap(
    classes: Sequence[str], models: Sequence[str], accuracy: np.ndarray
) -> bytes:
    """Accuracy (%) per true class (rows) and model (columns), the number in every cell.

    A heatmap rather than bars: the question is which classes fail for which
    models, and a class that every scene-seeing model loses reads as one dark
    row. NaN cells (a model without videos of that class) stay blank.
    """
    values = 100 * np.asarray(accuracy, dtype=float)
    n_rows, n_cols = values.shape
    fig = Figure(figsize=(2.2 + 0.78 * n_cols, 1.3 + 0.3 * n_rows), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", vmin=0, vmax=100, aspect="auto")
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            colour = "black" if v >= 55 else "white"
            ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=7.5, color=colour)
    ax.set_xticks(range(n_cols), [plain(_wrap(m, 14)) for m in models], fontsize=7.5)
    ax.tick_params(axis="x", labelrotation=35)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set_yticks(range(n_rows), [plain(c) for c in classes], fontsize=8)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    bar.set_label("accuracy (%)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return png_bytes(fig)
