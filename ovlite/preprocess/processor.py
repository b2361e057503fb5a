"""``PrePostProcessor``: openvino's way to add preprocessing to a model, built into its graph."""

from __future__ import annotations

from ..errors import PreprocessError
from ..model import Model, Port, find_port
from .build import Plan, apply, plan_input, plan_output
from .info import InputInfo, OutputInfo


class PrePostProcessor:
    """Describe the user's tensors and the steps to the model's, then :meth:`build` them in.

        ppp = PrePostProcessor(model)
        ppp.input().tensor().set_element_type(Type.u8).set_layout(Layout("NHWC"))
        ppp.input().preprocess().resize(ResizeAlgorithm.RESIZE_LINEAR).mean([123.7, 116.3, 103.5])
        ppp.input().model().set_layout(Layout("NCHW"))
        model = ppp.build()

    The steps become ONNX nodes ahead of the model's inputs and after its outputs (``Cast``,
    ``Transpose``, ``Resize``, ``Sub``, ``Mul``, ...), so they run inside the device's session.
    """

    def __init__(self, model: Model) -> None:
        if not isinstance(model, Model):
            raise PreprocessError(
                f"PrePostProcessor needs an ovlite Model, not {type(model).__name__}"
            )
        self._model = model
        self._inputs: dict[int, InputInfo] = {}
        self._outputs: dict[int, OutputInfo] = {}

    def _port(self, ports: list[Port], key: int | str | Port | None, kind: str) -> Port:
        if key is None:
            if len(ports) != 1:
                raise PreprocessError(
                    f"{kind}() without a name or index needs a model with one {kind}; "
                    f"{self._model.friendly_name!r} has {len(ports)}: "
                    + ", ".join(repr(p.any_name) for p in ports)
                )
            return ports[0]
        return find_port(ports, key, kind)

    def input(self, key: int | str | Port | None = None) -> InputInfo:
        """The model input to preprocess, by index or name (none for a one-input model)."""
        port = self._port(self._model.inputs, key, "input")
        return self._inputs.setdefault(port.index, InputInfo())

    def output(self, key: int | str | Port | None = None) -> OutputInfo:
        """The model output to postprocess, by index or name (none for a one-output model)."""
        port = self._port(self._model.outputs, key, "output")
        return self._outputs.setdefault(port.index, OutputInfo())

    def _plans(self) -> tuple[list[Plan], list[Plan]]:
        model, opset = self._model, self._model.opset
        inputs = [
            plan_input(model.inputs[i], info, opset) for i, info in sorted(self._inputs.items())
        ]
        outputs = [
            plan_output(model.outputs[i], info, opset) for i, info in sorted(self._outputs.items())
        ]
        return inputs, outputs

    def build(self) -> Model:
        """Add the steps to the model's graph (in place, as openvino does) and return the model.

        The model's ports then describe the user's tensors: element type, shape and layout.
        """
        inputs, outputs = self._plans()
        apply(self._model, inputs, outputs)
        return self._model

    def __str__(self) -> str:
        try:
            inputs, outputs = self._plans()
        except PreprocessError as exc:
            return f"PrePostProcessor for {self._model.friendly_name!r}: cannot build: {exc}"
        lines = []
        for plan in inputs:
            info = self._inputs[plan.port.index]
            lines.append(f'Input "{plan.port.any_name}":')
            lines.append(
                f"    User's input tensor: {_describe(plan.tensor_shape, plan.tensor_layout, plan.tensor_type)}"
            )
            lines.append(
                f"    Model's expected tensor: {_describe(plan.port.partial_shape, plan.model_layout, plan.port.element_type)}"
            )
            _steps(lines, "Pre-processing steps", [s.describe() for s in info.preprocess().steps])
            _steps(lines, "Implicit pre-processing steps", plan.implicit)
        for plan in outputs:
            info = self._outputs[plan.port.index]
            lines.append(f'Output "{plan.port.any_name}":')
            lines.append(
                f"    Model's data tensor: {_describe(plan.port.partial_shape, plan.model_layout, plan.port.element_type)}"
            )
            _steps(lines, "Post-processing steps", [s.describe() for s in info.postprocess().steps])
            _steps(lines, "Post-processing implicit steps", plan.implicit)
            lines.append(
                f"    User's output tensor: {_describe(plan.tensor_shape, plan.tensor_layout, plan.tensor_type)}"
            )
        return "\n".join(lines) + "\n"

    __repr__ = __str__


def _describe(shape, layout, element_type) -> str:
    dims = "[" + ",".join("?" if d < 0 else str(d) for d in shape) + "]"
    return f"{dims}, {layout if layout is not None and not layout.empty else '<no layout>'}, {element_type}"


def _steps(lines: list[str], title: str, steps: list[str]) -> None:
    if steps:
        lines.append(f"    {title} ({len(steps)}):")
        lines.extend(f"      {step}:" for step in steps)


__all__ = ["PrePostProcessor"]
