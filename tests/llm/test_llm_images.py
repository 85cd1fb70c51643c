"""Frames to inline JPEG image parts, and their arrival at the server as data URLs."""

from __future__ import annotations

import numpy as np
import pytest

from actionbias.llm import decode_data_url, frames_to_image_parts, text_preview, user_message


def colour_clip(t: int = 3, h: int = 60, w: int = 90) -> np.ndarray:
    """Each frame one flat colour, so JPEG round trips can be checked by value."""
    colours = np.array([[220, 30, 30], [30, 200, 40], [20, 40, 210], [128, 128, 128]], np.uint8)
    return np.stack([np.broadcast_to(colours[i % 4], (h, w, 3)) for i in range(t)])


def test_parts_are_jpeg_data_urls_in_frame_order():
    clip = colour_clip()
    parts = frames_to_image_parts(clip, max_side=512, quality=90)
    assert len(parts) == 3
    for part, frame in zip(parts, clip, strict=True):
        assert part["type"] == "image_url"
        url = part["image_url"]["url"]
        assert url.startswith("data:image/jpeg;base64,")
        image = decode_data_url(url)
        assert image.shape == frame.shape  # small frames are not upscaled
        assert np.abs(image.astype(int) - frame.astype(int)).max() <= 6


def test_frames_are_downscaled_to_max_side_keeping_aspect():
    (part,) = frames_to_image_parts(colour_clip(1, 300, 600), max_side=128)
    assert decode_data_url(part["image_url"]["url"]).shape == (64, 128, 3)


def test_quality_trades_bytes_for_fidelity():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (1, 96, 96, 3), dtype=np.uint8)
    low = frames_to_image_parts(noise, quality=20)[0]["image_url"]["url"]
    high = frames_to_image_parts(noise, quality=95)[0]["image_url"]["url"]
    assert len(low) < len(high)


def test_input_forms_and_detail():
    frame = colour_clip(1)[0]
    assert len(frames_to_image_parts(frame)) == 1  # one (H, W, 3) image
    assert len(frames_to_image_parts([frame, frame])) == 2  # a list of images
    grey = frames_to_image_parts(np.full((20, 20), 100, np.uint8))
    assert decode_data_url(grey[0]["image_url"]["url"]).shape == (20, 20, 3)
    as_float = frames_to_image_parts(frame.astype(np.float32) / 255.0)
    assert np.abs(decode_data_url(as_float[0]["image_url"]["url"])[0, 0] - frame[0, 0]).max() <= 6
    assert frames_to_image_parts(frame, detail="low")[0]["image_url"]["detail"] == "low"
    assert "detail" not in frames_to_image_parts(frame)[0]["image_url"]


@pytest.mark.parametrize(
    ("frames", "match"),
    [
        (np.zeros((2, 3, 8, 8, 3), np.uint8), "expected"),
        (np.zeros((2, 8, 8, 4), np.uint8), r"frames\[0\]"),
        ([], "no frames"),
    ],
)
def test_bad_frames_are_rejected(frames, match):
    with pytest.raises(ValueError, match=match):
        frames_to_image_parts(frames)


def test_bad_encoder_settings_are_rejected():
    with pytest.raises(ValueError, match="quality"):
        frames_to_image_parts(colour_clip(1), quality=0)
    with pytest.raises(ValueError, match="max_side"):
        frames_to_image_parts(colour_clip(1), max_side=0)


def test_images_arrive_at_the_server_as_data_urls(fake_server, make_client):
    server = fake_server(lambda request: "ok")
    clip = colour_clip(4, 48, 64)
    message = user_message("Which action?", clip, max_side=32)
    assert text_preview([message]).count("<image_url>") == 4
    make_client(server).chat([message])
    (request,) = server.chat_requests()
    assert request.text == "Which action?"
    assert request.body["messages"][0]["content"][-1] == {"type": "text", "text": "Which action?"}
    images = [decode_data_url(url) for url in request.images]
    assert [im.shape for im in images] == [(24, 32, 3)] * 4
    for image, frame in zip(images, clip, strict=True):
        assert np.abs(image.mean((0, 1)) - frame[0, 0]).max() < 6


def test_text_first_messages():
    message = user_message("q", colour_clip(1), images_first=False)
    assert [p["type"] for p in message["content"]] == ["text", "image_url"]
    assert user_message("just text") == {"role": "user", "content": "just text"}
