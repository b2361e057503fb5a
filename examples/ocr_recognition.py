"""Read text from an image with a real trained model: PP-OCRv4 text-line recognition.

    pip install --no-deps rapidocr-onnxruntime Pillow    # only the model files are needed
    python examples/ocr_recognition.py                   # renders "ovlite runs OCR 2026"
    python examples/ocr_recognition.py --text "HELLO 123" -d CPU
    python examples/ocr_recognition.py --image line.png  # a crop holding one line of text

The model (shipped inside rapidocr-onnxruntime, with its character list in the ONNX metadata)
turns a 48-pixel-high text line into one probability row per column strip of the image; a greedy
CTC decode reads the string off those rows. Text is drawn with the first font that loads:
Pillow's built-in scalable font (Pillow >= 10.1), DejaVu Sans, then Pillow's small bitmap font.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np

import ovlite as ov
import ovlite.properties as props

try:
    from PIL import Image, ImageDraw, ImageFont
except ImportError:
    sys.exit("this example needs Pillow: pip install Pillow")

HEIGHT, MIN_WIDTH = 48, 320  # PP-OCR's recognition input: 3 x 48 x (320 or wider)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", default="ovlite runs OCR 2026", help="a line to render and read")
    parser.add_argument("--image", help="read this image instead of rendering --text")
    parser.add_argument("-d", "--device", default="CPU")
    args = parser.parse_args()

    core = ov.Core()
    model = core.read_model(find_model())
    charset = character_list(model)
    config = {props.hint.performance_mode: props.hint.PerformanceMode.THROUGHPUT}
    compiled = core.compile_model(model, args.device, config)
    print(f"{Path(model.path).name} on {args.device}: {len(charset)} classes")

    # One synchronous inference on the whole line.
    image = Image.open(args.image) if args.image else render(args.text)
    text, confidence = ctc_decode(compiled(preprocess(image))[0][0], charset)
    print(f"recognized: {text!r}")
    print(f"confidence: {confidence:.3f}")

    # Each word of --text drawn on its own image, several in flight through an AsyncInferQueue.
    words = args.text.split()
    found: dict[int, tuple[str, float]] = {}

    def on_done(request: ov.InferRequest, i: int) -> None:
        found[i] = ctc_decode(request.results[0][0], charset)

    queue = ov.AsyncInferQueue(compiled)  # OPTIMAL_NUMBER_OF_INFER_REQUESTS requests
    queue.set_callback(on_done)
    for i, word in enumerate(words):
        queue.start_async({0: preprocess(render(word))}, userdata=i)
    queue.wait_all()
    print(f"words through a queue of {len(queue)} requests:")
    for i, word in enumerate(words):
        print(f"  {word!r:>12} -> {found[i][0]!r} ({found[i][1]:.3f})")


def find_model() -> Path:
    """The rec model inside the installed rapidocr_onnxruntime package, without importing it
    (its ``__init__`` needs OpenCV, which a ``--no-deps`` install leaves out)."""
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("this example needs the PP-OCR model: pip install --no-deps rapidocr-onnxruntime")
    models = Path(next(iter(spec.submodule_search_locations))) / "models"
    found = sorted(models.glob("*rec*.onnx"))
    if not found:
        sys.exit(f"no *rec*.onnx model in {models}")
    return found[-1]


def character_list(model: ov.Model) -> list[str]:
    """Class index -> character, as PP-OCR numbers them: 0 is the CTC blank, then the model's
    dictionary (one character a line in the "character" metadata), then a space."""
    metadata = {p.key: p.value for p in model.proto.metadata_props}
    if "character" not in metadata:
        sys.exit(f"{model.path} carries no 'character' metadata; a ppocr_keys file is needed")
    return ["<blank>", *metadata["character"].splitlines(), " "]


def render(text: str, size: int = 32) -> Image.Image:
    """Black ``text`` on white. The side margins stay narrow: the model tends to read a wide
    blank margin as a space."""
    font = load_font(size)
    left, top, right, bottom = font.getbbox(text)
    mx, my = size // 8, size // 4
    image = Image.new("RGB", (right - left + 2 * mx, bottom - top + 2 * my), "white")
    ImageDraw.Draw(image).text((mx - left, my - top), text, font=font, fill="black")
    return image


def load_font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's built-in scalable font, else DejaVu Sans, else Pillow's 11-pixel bitmap font."""
    try:
        font = ImageFont.load_default(size=size)  # TypeError before Pillow 10.1
        if isinstance(font, ImageFont.FreeTypeFont):  # not when Pillow lacks FreeType
            return font
    except TypeError:
        pass
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)  # found in the system font folders
    except (OSError, ImportError):
        return ImageFont.load_default()


def preprocess(image: Image.Image) -> np.ndarray:
    """PP-OCR's resize and normalization: height 48 keeping the aspect ratio, BGR channels,
    (x / 255 - 0.5) / 0.5, zero-padded on the right to a width of at least 320, NCHW."""
    width = max(1, round(HEIGHT * image.width / image.height))
    pixels = np.asarray(image.convert("RGB").resize((width, HEIGHT), Image.BILINEAR))
    chw = (pixels[:, :, ::-1].transpose(2, 0, 1).astype(np.float32) / 255 - 0.5) / 0.5
    batch = np.zeros((1, 3, HEIGHT, max(MIN_WIDTH, width)), np.float32)
    batch[0, :, :, :width] = chw
    return batch


def ctc_decode(probs: np.ndarray, charset: list[str]) -> tuple[str, float]:
    """Greedy CTC: the likeliest class per time step, repeats merged, blanks dropped; the
    confidence is the mean probability of the characters kept."""
    best = probs.argmax(axis=1)
    keep = best != 0
    keep[1:] &= best[1:] != best[:-1]
    text = "".join(charset[i] for i in best[keep])
    return text, float(probs.max(axis=1)[keep].mean()) if keep.any() else 0.0


if __name__ == "__main__":
    main()
