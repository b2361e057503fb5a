"""The OCR example reads text with a real trained model (PP-OCRv4 recognition).

The model comes from ``pip install --no-deps rapidocr-onnxruntime``; the text is drawn with
Pillow. Without either, or without the CPU plugin, these tests are skipped.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import ovlite as ov

ROOT = Path(__file__).parent.parent

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("rapidocr_onnxruntime") is None,
        reason="rapidocr-onnxruntime (the model) is not installed: "
        "pip install --no-deps rapidocr-onnxruntime",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("PIL") is None, reason="Pillow (to draw the text) is not installed"
    ),
    pytest.mark.skipif(
        "CPU" not in ov.Core().available_devices,
        reason="the ovlite-cpu plugin is not installed here",
    ),
]


def run_example(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "examples/ocr_recognition.py", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_reads_the_rendered_line_and_each_word() -> None:
    out = run_example("--text", "HELLO 123", "-d", "CPU")
    assert "recognized: 'HELLO 123'" in out, out
    assert "'HELLO' -> 'HELLO'" in out, out
    assert "'123' -> '123'" in out, out


def test_reads_an_image_file(tmp_path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 40)
    except OSError:
        font = ImageFont.load_default(size=40)
    left, top, right, bottom = font.getbbox("Invoice 42")
    image = Image.new("L", (right - left + 10, bottom - top + 20), 255)  # grayscale, tight crop
    ImageDraw.Draw(image).text((5 - left, 10 - top), "Invoice 42", font=font, fill=0)
    image.save(tmp_path / "line.png")
    out = run_example("--image", str(tmp_path / "line.png"), "--text", "ok")
    assert "recognized: 'Invoice 42'" in out, out
