"""The figures: valid, deterministic PNGs; consistent colours; literal user text."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from actionbias.report import plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _image(png: bytes) -> np.ndarray:
    assert png.startswith(PNG_MAGIC)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _intervals(values: list[float]) -> list[plots.Interval]:
    return [plots.Interval(v, max(0.0, v - 0.05), min(1.0, v + 0.05)) for v in values]


def test_palette_is_consistent_per_model_and_variant() -> None:
    palette = plots.Palette()
    base = palette.style("baseline", "none")
    aug = palette.style("baseline", "scene-swap")
    other = palette.style("dual_sum", "none")
    assert base.colour == aug.colour == plots.OKABE_ITO[0]
    assert other.colour == plots.OKABE_ITO[1]
    assert (base.variant, aug.variant) == (0, 1)
    assert base.hatch != aug.hatch and base.linestyle != aug.linestyle
    assert palette.style("baseline", "scene-swap") == aug  # stable on repeat
    colours = [palette.style(f"m{i}").colour for i in range(10)]
    assert set(colours) <= set(plots.OKABE_ITO)


def test_plain_keeps_user_text_literal() -> None:
    assert plots.plain("cost $5 $x$") == r"cost \$5 \$x\$"
    assert plots.plain("_private").startswith("\u200b")
    assert plots.plain("walking") == "walking"


@pytest.mark.parametrize("n", [3, plots.HORIZONTAL_FROM])
def test_swap_bars_render_and_are_deterministic(n: int) -> None:
    palette = plots.Palette()
    labels = [f"model $x$ {i}" if i else "_under" for i in range(n)]
    styles = [palette.style(label) for label in labels]
    shacc = _intervals(list(np.linspace(0.1, 0.6, n)))
    sberr = _intervals(list(np.linspace(0.6, 0.1, n)))
    sberr[0] = plots.Interval(float("nan"))  # a run whose swap group is empty
    a = plots.swap_bars(labels, styles, shacc, sberr, 0.2)
    b = plots.swap_bars(labels, styles, shacc, sberr, 0.2)
    assert a == b
    image = _image(a)
    height = image.shape[0]
    # vertical bars: a fixed 3.9 in (429 px) tall strip; horizontal: grows with the model count
    assert (height > 600) == (n >= plots.HORIZONTAL_FROM)
    # the first model's colour is really drawn
    assert (np.abs(image.astype(int) - [0, 114, 178]).sum(axis=2) < 30).sum() > 100


def test_scatter_and_sweep_render() -> None:
    palette = plots.Palette()
    styles = [palette.style("a"), palette.style("b")]
    png = plots.swap_scatter(
        ["a", "b"], styles, _intervals([0.4, 0.2]), _intervals([0.2, 0.5]), None
    )
    assert _image(png).shape[1] > 400
    series = [
        plots.SweepSeries(
            "a", styles[0], [1, 4, 16], _intervals([0.2, 0.3, 0.4]), _intervals([0.5, 0.4, 0.3])
        ),
        plots.SweepSeries(
            "b",
            styles[1],
            [2, 8],
            [plots.Interval(0.3), plots.Interval(0.35)],
            _intervals([0.3, 0.2]),
        ),
    ]
    assert _image(plots.sweep_curves(series, 0.2)).shape[0] > 200


def test_class_bars_leave_out_the_middle_of_long_lists() -> None:
    rows = [
        plots.ClassBar(f"class {i:03d}", 10, plots.Interval(i / 100, None, None), 0.1)
        for i in range(60)
    ]
    png, hidden = plots.class_sberr_bars(rows, {"class 059"}, {"class 000"}, 1 / 60, max_rows=40)
    assert hidden == 20
    short_png, none_hidden = plots.class_sberr_bars(rows[:6], set(), set(), None)
    assert none_hidden == 0
    assert _image(png).shape[0] > _image(short_png).shape[0]


def test_data_uri_round_trip() -> None:
    import base64

    png = plots.swap_bars(
        ["m"], [plots.Palette().style("m")], _intervals([0.3]), _intervals([0.5]), None
    )
    uri = plots.data_uri(png)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == png


def test_class_accuracy_heatmap_renders_blank_cells_and_is_deterministic() -> None:
    grid = np.array([[0.1, 0.9], [np.nan, 0.5], [1.0, 0.0]])
    png = plots.class_accuracy_heatmap(["a", "b", "$c"], ["model", "_other"], grid)
    assert png == plots.class_accuracy_heatmap(["a", "b", "$c"], ["model", "_other"], grid)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[1] > 100
