"""GPU.N from device records: recorded lists (written from the documented API shape, see each
fixture's note) and this machine's real onnxruntime."""

from __future__ import annotations

import onnxruntime as ort
import pytest
from ovlite_gpu.backends import CUDA, MIGRAPHX
from ovlite_gpu.enumeration import (
    enumerate_gpus,
    normalize_bus_id,
    parse_nvidia_smi,
    read_ep_devices,
)

from ovlite import models


def test_two_cuda_gpus_are_numbered_by_pci_bus_id_once_each(box):
    gpus = box("cuda_2gpu")
    assert [g.index for g in gpus] == ["0", "1"]
    assert [g.pci_bus_id for g in gpus] == ["0000:65:00.0", "0000:b3:00.0"]
    assert [g.ordinal for g in gpus] == [0, 1]
    assert all(g.backend is CUDA and g.source == "onnxruntime device API" for g in gpus)


def test_nvidia_smi_adds_name_memory_and_driver_to_device_api_records(box):
    first = box("cuda_2gpu")[0]
    assert first.name == "NVIDIA A100-SXM4-40GB"
    assert first.memory_bytes == 40960 * 2**20
    assert first.driver == "550.54.15"
    assert first.uuid.startswith("GPU-3a6f")


@pytest.mark.parametrize(
    ("visible", "buses"),
    [
        ("1", ["0000:b3:00.0"]),
        ("1,0", ["0000:b3:00.0", "0000:65:00.0"]),
        ("GPU-9c1d", ["0000:b3:00.0"]),
        ("0,7,1", ["0000:65:00.0"]),  # like CUDA: the list ends at the first unknown entry
        ("", []),
        ("-1", []),
    ],
)
def test_cuda_visible_devices_hides_and_renumbers(visible, buses, box):
    gpus = box("cuda_2gpu", visible)
    assert [g.pci_bus_id for g in gpus] == buses
    assert [g.ordinal for g in gpus] == list(range(len(buses)))


def test_amd_migraphx_box_uses_the_records_device_id_option(box):
    (gpu,) = box("amd_migraphx")
    assert gpu.backend is MIGRAPHX
    assert gpu.ordinal == 0
    assert gpu.vendor == "AMD"  # from the PCI vendor id: the record has no vendor string
    assert gpu.pci_bus_id == "0000:03:00.0"
    assert MIGRAPHX.provider_options(gpu.ordinal) == {"device_id": "0"}


def test_a_box_with_only_the_cpu_enumerated_has_no_gpu(box):
    assert box("cpu_only") == []


def test_without_device_api_gpus_cuda_falls_back_to_nvidia_smi(box):
    gpus = box("cuda_no_device_api")
    assert [(g.index, g.name, g.source) for g in gpus] == [
        ("0", "NVIDIA GeForce RTX 4090", "nvidia-smi"),
        ("1", "NVIDIA RTX A4000", "nvidia-smi"),
    ]
    assert gpus[1].pci_bus_id == "0000:ca:00.0"


def test_without_any_device_list_one_default_device_is_assumed(raw_box):
    box = raw_box("cuda_no_device_api")
    (gpu,) = enumerate_gpus(box["records"], box["available_providers"])
    assert (gpu.ordinal, gpu.source) == (0, "default device")


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("00000000:65:00.0", "0000:65:00.0"),
        ("0000:B3:00.0", "0000:b3:00.0"),
        ("3:0.1", "0000:03:00.1"),
        ("not-a-bus", "not-a-bus"),
    ],
)
def test_bus_ids_from_nvml_and_sysfs_compare_equal(text, normal):
    assert normalize_bus_id(text) == normal


def test_nvidia_smi_parser_skips_malformed_lines():
    assert parse_nvidia_smi("garbage\n\n") == []


def test_this_machines_real_device_list_has_no_gpu():
    records = read_ep_devices(ort)
    assert any(r["ep_name"] == "CPUExecutionProvider" for r in records)
    assert all({"ep_name", "ep_options", "device"} <= r.keys() for r in records)
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        assert enumerate_gpus(records, ort.get_available_providers()) == []


def test_recorded_gpus_appear_as_devices_with_properties(box, make_core):
    core = make_core(box("cuda_2gpu"))
    assert [d for d in core.available_devices if d.startswith("GPU")] == ["GPU.0", "GPU.1"]
    assert core.get_property("GPU.1", "FULL_DEVICE_NAME") == "NVIDIA A100-SXM4-40GB (CUDA)"
    assert core.get_property("GPU.1", "GPU_DEVICE_TOTAL_MEM_SIZE") == 40960 * 2**20
    assert core.get_property("GPU.1", "OVLITE_GPU_PCI_BUS_ID") == "0000:b3:00.0"
    assert core.get_property("GPU.0", "OVLITE_GPU_BACKEND") == "CUDA"
    assert core.get_property("GPU.0", "OVLITE_GPU_DRIVER_VERSION") == "550.54.15"
    assert core.get_property("GPU.0", "DEVICE_TYPE") == "discrete"
    assert core.get_property("GPU", "AVAILABLE_DEVICES") == ["0", "1"]
    device = core.devices()["GPU"]
    assert device.onnxruntime_provider("1", {}) == ("CUDAExecutionProvider", {"device_id": "1"})


def test_an_unknown_gpu_index_is_refused_with_the_known_ones(box, make_core):
    import ovlite as ov

    core = make_core(box("cuda_2gpu"))
    with pytest.raises(ov.errors.DeviceNotFoundError, match="GPU.0"):
        core.get_property("GPU.2", "FULL_DEVICE_NAME")


def test_a_failing_discovery_leaves_the_gpu_unavailable_with_the_reason():
    from ovlite_gpu import GPUDevice

    import ovlite as ov
    from ovlite.testing import StandInPlugin

    def broken():
        raise OSError("nvidia-smi hung")

    core = ov.Core()
    core.register_plugin(StandInPlugin(GPUDevice(broken)), name="gpu-broken")
    assert "GPU" not in core.available_devices
    with pytest.raises(ov.DeviceUnavailableError, match="nvidia-smi hung"):
        core.compile_model(models.tiny_mlp(batch=None), "GPU")
