"""``InferRequest`` and ``AsyncInferQueue``: written once, on top of ``CompiledModel.submit``."""

from __future__ import annotations

import collections
import datetime
import enum
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from queue import Empty, SimpleQueue
from types import NoneType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .binding import Results
from .errors import (
    ArgumentError,
    InputNameError,
    InputShapeError,
    InputTypeError,
    NoResultsError,
    ReentrancyError,
    RequestBusyError,
    RequestCancelledError,
)
from .event_loops import post_to_loop
from .fork import reset_after_fork
from .jobs import Job
from .model import Port, find_port
from .tensor import Tensor

if TYPE_CHECKING:
    import asyncio

    from .compiled_model import CompiledModel


class _CallbackState(threading.local):
    #: the (queue, request) whose callback runs in this thread, if any (a class default:
    #: cheaper to read than a missing attribute through getattr's default)
    current: tuple[AsyncInferQueue | None, InferRequest | None] = (None, None)


_in_callback = _CallbackState()


def _running_callback() -> tuple[AsyncInferQueue | None, InferRequest | None]:
    return _in_callback.current


def _call_back(
    queue: AsyncInferQueue | None, request: InferRequest, callback: Callable, *args: Any
) -> None:
    """Run a user callback, noting whose it is so that calls it makes back into ovlite can
    tell that they come from it."""
    outer = _running_callback()
    _in_callback.current = (queue, request)
    try:
        callback(*args)
    finally:
        _in_callback.current = outer


class _ProfilingStatus(enum.Enum):
    """Whether a node ran in the profiled inference (openvino's ``ProfilingInfo.Status``)."""

    NOT_RUN = 0
    OPTIMIZED_OUT = 1
    EXECUTED = 2

    def __int__(self) -> int:
        return self.value


_ProfilingStatus.__name__ = "Status"  # reads as openvino's: <Status.EXECUTED: 2>
_ProfilingStatus.__qualname__ = "ProfilingInfo.Status"


def _duration(value: Any, field: str) -> datetime.timedelta:
    """A timing as a ``timedelta``: numbers are microseconds (what plugins report)."""
    if isinstance(value, datetime.timedelta):
        return value
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return datetime.timedelta(microseconds=float(value))
    raise ArgumentError(
        f"ProfilingInfo.{field} takes a datetime.timedelta or a number of microseconds, "
        f"got {type(value).__name__} {value!r}"
    )


def _status(value: Any) -> _ProfilingStatus:
    if isinstance(value, _ProfilingStatus):
        return value
    try:
        return _ProfilingStatus[value] if isinstance(value, str) else _ProfilingStatus(value)
    except (KeyError, ValueError):
        raise ArgumentError(
            f"ProfilingInfo.status takes a ProfilingInfo.Status ("
            f"{', '.join(_ProfilingStatus.__members__)}) or its name, got {value!r}"
        ) from None


@dataclass
class ProfilingInfo:
    """Timing of one node in the last inference (``request.profiling_info``), as openvino's.

    ``real_time`` and ``cpu_time`` read as ``datetime.timedelta``; they may be given as
    timedeltas or as numbers of microseconds (plugins report microseconds), and
    ``real_time_us`` / ``cpu_time_us`` read them back as float microseconds.  ``status`` is a
    :class:`ProfilingInfo.Status` (a name such as ``"EXECUTED"`` is accepted); it defaults to
    ``EXECUTED``, since devices report the nodes that ran.  A timedelta counts whole
    microseconds, as openvino's does.
    """

    Status: ClassVar[type[_ProfilingStatus]] = _ProfilingStatus

    node_name: str = ""
    node_type: str = ""
    real_time: datetime.timedelta = datetime.timedelta(0)
    cpu_time: datetime.timedelta = datetime.timedelta(0)
    exec_type: str = ""  # the execution provider or kernel that ran it
    status: _ProfilingStatus = _ProfilingStatus.EXECUTED

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("real_time", "cpu_time"):
            value = _duration(value, name)
        elif name == "status":
            value = _status(value)
        object.__setattr__(self, name, value)

    @property
    def real_time_us(self) -> float:
        """``real_time`` in microseconds."""
        return self.real_time / _MICROSECOND

    @property
    def cpu_time_us(self) -> float:
        """``cpu_time`` in microseconds."""
        return self.cpu_time / _MICROSECOND


_MICROSECOND = datetime.timedelta(microseconds=1)


class InferRequest:
    """One reusable inference slot: input tensors, the last results, sync and async runs.

    A request runs one inference at a time; starting it while busy raises
    :class:`RequestBusyError`.  With ``share_inputs=False`` (the default, as in openvino)
    input data is copied into the request's own tensors; ``True`` binds the caller's arrays.
    """

    def __init__(self, compiled: CompiledModel) -> None:
        self._compiled = compiled
        self._checker = compiled.input_checker
        self._inputs: list[np.ndarray | None] = [None] * self._checker.count
        # True where the bound input is the request's own buffer, which a copying call may
        # overwrite; a caller's array (share_inputs, set_tensor) never is
        self._owned = [False] * self._checker.count
        # The Tensor objects whose memory an input is: the request's own tensor once handed
        # out, or the caller's from set_tensor.  ``_seen`` holds the array each had when bound:
        # a tensor given a new shape (``t.shape = [2, 64]``) has a new array, bound anew.
        self._views: list[Tensor | None] = [None] * self._checker.count
        self._seen: list[np.ndarray | None] = [None] * self._checker.count
        # inputs given as one tensor per batch item (set_tensors): index -> (axis, tensors)
        self._batches: dict[int, tuple[int, list[Tensor]]] = {}
        self._tracked = False  # any views or batches: _bind has to look at them
        # The fast path (_bind_same): after a copying call with a dict of plain arrays of the
        # inputs' own element types, {key: (index, dtype, shape)} for each key given; ``_same_one``
        # the same for one bare array given to a one-input model.  A call whose arrays match
        # it is copied into the request's own buffers without checking again; anything that
        # binds inputs otherwise (share_inputs, set_tensor, a tensor handed out) drops it.
        self._same: dict[str, tuple[int, np.dtype, tuple[int, ...]]] | None = None
        self._same_one: tuple[np.dtype, tuple[int, ...]] | None = None
        # the sync run: the compiled model's own run when no timeout watches it
        self._run = compiled._run if not compiled._timeout_ms else compiled.run_checked
        # the caller's output tensors (set_output_tensor), written by each inference
        self._out_tensors: dict[int, Tensor] = {}
        # the last results were handed out unshared (share_outputs=False): the request's
        # output tensors get their own copies when first asked for
        self._lent = False
        self._outputs: list[np.ndarray] | None = None
        self._info: dict[str, Any] | None = None
        self._error: BaseException | None = None
        # Held while an inference is in flight: acquiring it without blocking is the busy check.
        self._busy = threading.Lock()
        # Held while an async inference is in flight, for wait(): taking it and letting it go
        # again is waiting for the end (a lock costs less than an Event on the hot path).
        self._running = threading.Lock()
        self._job: Job | None = None
        self._started = 0.0
        self._latency_ms = 0.0
        self._callback: Callable[[Any], Any] | None = None
        self._callback_userdata: Any = None
        self._queue: AsyncInferQueue | None = None
        self._queue_id = -1
        self._waiter: Callable[[], Any] | None = None
        self.userdata: Any = None
        reset_after_fork(self)

    def _after_fork(self) -> None:
        """In a forked child, an inference in flight at the fork never ends (the parent runs
        it): the request is idle again, and ``wait()`` says what became of it."""
        if self._job is None and not self._busy.locked():
            self._running = threading.Lock()  # a thread in wait() may have held it at the fork
            return
        self._job = self._waiter = None
        self._outputs, self._info = None, None
        self._error = RequestCancelledError(
            "the process forked while this request's inference was in flight: it runs in the "
            "parent process, and this child gets no result for it"
        )
        self._busy = threading.Lock()
        self._running = threading.Lock()

    # ---- inputs and outputs ----------------------------------------------------------------

    @property
    def model_inputs(self) -> list[Port]:
        return self._compiled.inputs

    @property
    def model_outputs(self) -> list[Port]:
        return self._compiled.outputs

    def _input_tensor(self, index: int) -> Tensor:
        if index in self._batches:
            raise ArgumentError(
                "get_tensor shall not be used together with batched set_tensors/"
                f"set_input_tensors (as openvino says): input "
                f"{self._checker.ports[index].any_name!r} was given as "
                f"{len(self._batches[index][1])} tensors; use the tensors you passed, or "
                "set_tensor to bind one"
            )
        view = self._views[index]
        if view is not None:
            return view
        array = self._inputs[index]
        if array is None:
            port = self._checker.ports[index]
            shape = [max(d, 0) for d in port.partial_shape] if port.partial_shape.rank else []
            try:
                array = np.zeros(shape, dtype=port.element_type.to_dtype())
            except (ValueError, MemoryError) as exc:
                raise InputShapeError(
                    f"input {port.any_name!r} of shape {port.partial_shape} is too large to "
                    f"allocate here ({exc}); bind your own data with set_tensor"
                ) from None
            self._inputs[index] = array
            self._owned[index] = True
        if not isinstance(array, np.ndarray):
            return Tensor.wrap(array)  # a device tensor (OrtValue): not tracked
        view = Tensor.wrap(array, self._checker.word_types.get(index))
        self._track(index, view, array)
        return view

    def _track(self, index: int, view: Tensor | None, array: Any = None) -> None:
        """Note ``view`` as the tensor input ``index`` reads from (``None``: none)."""
        self._same = self._same_one = None
        self._views[index], self._seen[index] = view, array
        self._batches.pop(index, None)
        self._tracked = bool(self._batches) or any(v is not None for v in self._views)

    def _sync_tensors(self) -> None:
        """Bind anew the inputs whose tensors changed shape, and gather batched inputs."""
        check = self._checker.check
        for index, view in enumerate(self._views):
            if view is not None and view._array is not self._seen[index]:
                self._inputs[index] = check(index, view)
                self._seen[index] = view._array
        for index, (axis, tensors) in self._batches.items():
            self._inputs[index] = self._gather(index, axis, tensors)
            self._owned[index] = False

    def _output_tensor(self, index: int) -> Tensor:
        tensor = self._out_tensors.get(index)
        if tensor is not None:
            return tensor
        if self._outputs is None:
            raise self._no_results()
        if self._lent:  # the caller holds the last results: the request's tensors are copies
            self._lent = False
            self._outputs = [
                np.array(a, copy=True) if i not in self._out_tensors else a
                for i, a in enumerate(self._outputs)
            ]
        # the last results, which later inferences replace rather than write into
        return Tensor.wrap(self._outputs[index], self._compiled.output_word_types.get(index))

    def get_tensor(self, key: str | int | Port) -> Tensor:
        """The input or output tensor for a name or port (an int means an input index).

        An input tensor is the request's own memory: write into ``tensor.data`` and start the
        request without inputs.  An input of dynamic shape starts empty: give the tensor a
        shape (``tensor.shape = [2, 64]``) or use ``set_tensor``.
        """
        if isinstance(key, Port) and key.kind == "output":
            return self._output_tensor(find_port(self._compiled.outputs, key, "output").index)
        try:
            return self._input_tensor(self._checker.index_of(key))
        except InputNameError:
            if isinstance(key, int):
                raise
        return self._output_tensor(find_port(self._compiled.outputs, key, "output").index)

    def set_tensor(self, key: str | int | Port, tensor: Tensor | np.ndarray) -> None:
        """Bind a tensor (shared, not copied) to an input by name, index or port.

        The request reads the tensor at each inference: data written into it later, and a new
        shape given to it (``tensor.shape = ...``), are what the next inference uses.  A name
        or port of an output sets that output's tensor, as :meth:`set_output_tensor`.
        """
        self._ensure_idle()
        try:
            index = self._checker.index_of(key)
        except InputNameError:
            if isinstance(key, int) or not self._is_output(key):
                raise
            self.set_output_tensor(find_port(self._compiled.outputs, key, "output").index, tensor)
            return
        array = self._checker.check(index, tensor)
        self._same = self._same_one = None
        self._inputs[index] = array
        self._owned[index] = False
        if isinstance(tensor, Tensor):
            self._track(index, tensor, tensor._array)
        elif self._views[index] is not None or index in self._batches:
            self._track(index, None)

    def _is_output(self, key: Any) -> bool:
        try:
            find_port(self._compiled.outputs, key, "output")
        except InputNameError:
            return False
        return True

    def set_tensors(self, key: Any, tensors: Sequence[Tensor | np.ndarray] | None = None) -> None:
        """``set_tensors(name_or_port, [t0, t1, ...])``: feed an input one tensor per batch item.

        As openvino: the input's layout must have a batch dimension ``N`` (set it with
        ``ov.layout_helpers.set_layout`` or the PrePostProcessor), each tensor has length 1
        there and the same shape and element type as the others, and a static batch must
        equal the number of tensors.  The tensors are read at each inference (gathered into
        one batch), so data written into them later is used.  ``get_tensor`` on such an input
        raises, as in openvino.  ``set_tensors({key: tensor, ...})`` sets one tensor per key.
        """
        if tensors is None and isinstance(key, dict):
            for name, tensor in key.items():
                self.set_tensor(name, tensor)
            return
        self._ensure_idle()
        if (
            isinstance(key, Port)
            and key.kind == "output"
            or (not isinstance(key, int) and self._is_output(key) and not self._is_input(key))
        ):
            raise ArgumentError(
                f"set_tensors takes an input; {_key_name(key)!r} is an output of the model"
            )
        index = self._checker.index_of(key)
        axis, tensors = self._check_batch(index, tensors)
        self._inputs[index] = self._gather(index, axis, tensors)
        self._owned[index] = False
        self._track(index, None)
        self._batches[index] = (axis, tensors)
        self._tracked = True

    def _is_input(self, key: Any) -> bool:
        try:
            self._checker.index_of(key)
        except InputNameError:
            return False
        return True

    def _check_batch(self, index: int, tensors: Any) -> tuple[int, list[Tensor]]:
        """The batch axis and the tensors for ``set_tensors`` on input ``index``, or raise."""
        port = self._checker.ports[index]
        name = port.any_name
        if isinstance(tensors, np.ndarray | Tensor) or not isinstance(tensors, Sequence):
            raise ArgumentError(
                f"set_tensors({name!r}, tensors) takes a list of tensors, one per batch item, "
                f"got {type(tensors).__name__}"
            )
        if not tensors:
            raise ArgumentError(f"set_tensors({name!r}, []) needs at least one tensor")
        items = [
            t if isinstance(t, Tensor) else Tensor(_tensor_array(t, name), shared_memory=True)
            for t in tensors
        ]
        layout = port.layout
        if not layout.has_name("N"):
            raise ArgumentError(
                f"set_tensors needs input {name!r} to have a batch dimension 'N' in its layout "
                f"({'it has no layout' if layout.empty else f'its layout is {layout}'}); set "
                "one, e.g. "
                "ov.layout_helpers.set_layout(model.input(...), ov.Layout('NC...'))"
            )
        shape = port.partial_shape
        axis = layout.get_index_by_name("N")
        rank = None if shape.rank_is_dynamic else len(shape)
        if axis < 0 and rank is not None:
            axis += rank
        first = items[0]
        item_shape, item_type = list(first.shape), first.element_type
        for position, item in enumerate(items):
            dims = list(item.shape)
            if not 0 <= axis < len(dims) or dims[axis] != 1:
                raise InputShapeError(
                    f"set_tensors({name!r}): tensor {position} has shape {dims}; each tensor "
                    f"is one batch item, with length 1 on the batch axis {axis} of layout {layout}"
                )
            if dims != item_shape or item.element_type is not item_type:
                raise InputShapeError(
                    f"set_tensors({name!r}): tensor {position} is {item.element_type} {dims}, "
                    f"tensor 0 is {item_type} {item_shape}; all must have one shape and type"
                )
        if rank is not None:
            batch = shape[axis]
            if batch >= 0 and int(batch) != len(items):
                raise InputShapeError(
                    f"set_tensors({name!r}): the input's batch is {int(batch)} "
                    f"(shape {shape}), got {len(items)} tensors"
                )
        return axis, items

    def _gather(self, index: int, axis: int, tensors: list[Tensor]) -> np.ndarray:
        """One batch from the item tensors, checked against input ``index``."""
        arrays = [t.data for t in tensors]
        shape = arrays[0].shape
        if any(a.shape != shape for a in arrays):
            port = self._checker.ports[index]
            raise InputShapeError(
                f"the tensors set with set_tensors for input {port.any_name!r} no longer have "
                f"one shape: {[list(a.shape) for a in arrays]}"
            )
        return self._checker.check(index, np.concatenate(arrays, axis=axis))

    def get_input_tensor(self, index: int = 0) -> Tensor:
        return self._input_tensor(self._checker.index_of(index))

    def set_input_tensor(self, index_or_tensor: Any, tensor: Any = None) -> None:
        if tensor is None:
            index_or_tensor, tensor = 0, index_or_tensor
        self.set_tensor(int(index_or_tensor), tensor)

    def set_input_tensors(self, tensors: Any, batch: Any = None) -> None:
        """``{key: tensor}``: one tensor per input; ``[t0, t1, ...]`` or ``(index, [...])``:
        the only (or the ``index``-th) input as one tensor per batch item (see
        :meth:`set_tensors`)."""
        if isinstance(tensors, dict):
            for key, tensor in tensors.items():
                self.set_tensor(key, tensor)
        elif batch is None:
            self.set_tensors(0, tensors)
        else:
            self.set_tensors(int(tensors), batch)

    def get_output_tensor(self, index: int = 0) -> Tensor:
        """The output's tensor: the last results, which later inferences do not write into
        (openvino's are written; use :meth:`set_output_tensor` for a tensor that is)."""
        return self._output_tensor(find_port(self._compiled.outputs, index, "output").index)

    def set_output_tensor(self, index_or_tensor: Any, tensor: Any = None) -> None:
        """``set_output_tensor(tensor)`` or ``(index, tensor)``: write an output into the
        caller's tensor.

        As openvino: each inference copies that output into the tensor, which takes the
        output's shape when it changes (one over memory it does not own cannot grow, and the
        inference then fails); ``get_output_tensor`` returns it.  The tensor must have the
        output's element type and a shape the output allows (or no elements).
        """
        if tensor is None:
            index_or_tensor, tensor = 0, index_or_tensor
        self._ensure_idle()
        port = find_port(self._compiled.outputs, index_or_tensor, "output")
        if not isinstance(tensor, Tensor):
            tensor = Tensor(_tensor_array(tensor, port.any_name), shared_memory=True)
        if tensor.element_type != port.element_type:
            raise InputTypeError(
                f"output {port.any_name!r} is {port.element_type}; the tensor set for it is "
                f"{tensor.element_type} (output tensors are not converted)"
            )
        dims = list(tensor.shape)
        if tensor.get_size() and not port.partial_shape.accepts(dims):
            raise InputShapeError(
                f"output {port.any_name!r} has shape {port.partial_shape}; the tensor set for "
                f"it has shape {dims}"
            )
        self._out_tensors[port.index] = tensor

    def set_output_tensors(self, tensors: dict[Any, Any]) -> None:
        """``{index, name or port: tensor}``: :meth:`set_output_tensor` for each."""
        for key, tensor in tensors.items():
            self.set_output_tensor(key, tensor)

    def get_compiled_model(self) -> CompiledModel:
        """The compiled model this request runs."""
        return self._compiled

    def _write_out_tensors(self, outputs: Sequence[Any]) -> list[Any]:
        """Copy outputs into the caller's output tensors; the request's outputs, with those
        tensors' memory in their places."""
        mine = list(outputs)
        for index, tensor in self._out_tensors.items():
            array = np.asarray(outputs[index])
            if tuple(tensor.shape) != array.shape:
                try:
                    tensor.set_shape(array.shape)
                except InputShapeError as exc:
                    port = self._compiled.outputs[index]
                    raise InputShapeError(
                        f"output {port.any_name!r} came out {list(array.shape)}; the tensor set "
                        f"for it with set_output_tensor cannot take that shape: {exc}"
                    ) from None
            np.copyto(tensor.data, array)
            mine[index] = tensor.data
        return mine

    @property
    def input_tensors(self) -> list[Tensor]:
        return [self._input_tensor(i) for i in range(self._checker.count)]

    @property
    def output_tensors(self) -> list[Tensor]:
        return [self._output_tensor(i) for i in range(len(self._compiled.outputs))]

    @property
    def results(self) -> Results:
        """The last inference's outputs, indexable by port, index and name."""
        if self._outputs is None:
            raise self._no_results()
        return Results(self._compiled.outputs, self._outputs)

    @property
    def latency(self) -> float:
        """Duration of the last inference in milliseconds, submit to completion."""
        return self._latency_ms

    @property
    def profiling_info(self) -> list[ProfilingInfo]:
        """Per-node timings of the last inference; needs ``PERF_COUNT`` (enable_profiling)."""
        return list((self._info or {}).get("profiling", []))

    def get_profiling_info(self) -> list[ProfilingInfo]:
        return self.profiling_info

    @property
    def executed_on(self) -> str | None:
        """The device that ran the last inference (useful under MULTI and AUTO)."""
        return (self._info or {}).get("device")

    def _no_results(self) -> BaseException:
        if self._error is not None:
            return self._error
        return NoResultsError("the request has no results yet: run infer() or start_async() first")

    # ---- running ---------------------------------------------------------------------------

    def _ensure_idle(self) -> None:
        if self._busy.locked():
            raise _busy_error()

    def _claim(self) -> None:
        if not self._busy.acquire(False):
            raise _busy_error()

    def _bind_same(self, inputs: Any) -> list[np.ndarray] | None:
        """The fast path of a copying call: when ``inputs`` has the keys, element types and
        shapes of the last checked copying call, copy them into the request's own buffers
        (which have those shapes) and return the bound arrays; else ``None`` (check them).

        Only plain ``numpy.ndarray`` values of the inputs' exact element types qualify, so
        nothing is converted, and every input not given keeps what the last call found
        complete and consistent (anything binding it since dropped the table)."""
        bound = self._inputs
        if type(inputs) is dict:
            same = self._same
            if same is None or len(inputs) != len(same):
                return None
            for key, value in inputs.items():
                entry = same.get(key)
                if entry is None or type(value) is not np.ndarray:
                    return None
                index, dtype, shape = entry
                if value.dtype is not dtype or value.shape != shape:
                    return None
                bound[index][...] = value  # type: ignore[index]  # (cheaper than np.copyto)
            return list(bound)  # type: ignore[arg-type]
        one = self._same_one
        if one is None or type(inputs) is not np.ndarray:
            return None
        if inputs.dtype is not one[0] or inputs.shape != one[1]:
            return None
        bound[0][...] = inputs  # type: ignore[index]
        return list(bound)  # type: ignore[arg-type]

    def _note_same(self, inputs: Any) -> None:
        """After a checked copying bind: the table :meth:`_bind_same` compares the next
        call with, when every value was a plain array of its input's exact element type,
        now copied into the request's own buffer of that shape."""
        checker, owned, dtypes = self._checker, self._owned, self._checker._dtypes
        if type(inputs) is np.ndarray:
            if owned[0] and inputs.dtype is dtypes[0] and dtypes[0] is not None:
                self._same_one = (inputs.dtype, inputs.shape)
            return
        if type(inputs) is not dict:
            return
        same = {}
        for key, value in inputs.items():
            if type(key) is not str or type(value) is not np.ndarray:
                return
            index = checker.index_of(key)
            if not owned[index] or value.dtype is not dtypes[index] or dtypes[index] is None:
                return
            same[key] = (index, value.dtype, value.shape)
        self._same = same

    def _bind(self, inputs: Any, share_inputs: bool) -> list[np.ndarray]:
        checker, bound, owned = self._checker, self._inputs, self._owned
        self._same = self._same_one = None
        if inputs is not None:
            check, index_of = checker.check, checker.index_of
            for key, value in checker.items(inputs):
                index = index_of(key)
                array = check(index, value)
                current = bound[index]
                if not isinstance(array, np.ndarray) or (share_inputs and array.flags.writeable):
                    # a device tensor, never copied; or shared (a read-only array is copied,
                    # as openvino does: the request's input tensor is writable memory)
                    bound[index] = array
                    owned[index] = False
                elif owned[index] and current.shape == array.shape:  # type: ignore[union-attr]
                    np.copyto(current, array)  # type: ignore[arg-type]
                else:
                    bound[index] = np.array(array, copy=True)  # writeable even if array is not
                    owned[index] = True
                if self._tracked:  # data given here wins over a tensor bound before
                    self._track(index, None)
        if self._tracked:
            self._sync_tensors()
        arrays = list(bound)
        if NoneType in map(type, arrays):
            checker.require_all(arrays)
        if checker.shared_dims:
            checker.check_shared_dims(arrays)  # type: ignore[arg-type]
        if not share_inputs and not self._tracked:
            self._note_same(inputs)
        return arrays  # type: ignore[return-value]

    def infer(
        self, inputs: Any = None, share_inputs: bool = False, share_outputs: bool = False
    ) -> Results:
        """Run one inference and wait for it; returns the results.

        With ``share_outputs=False`` (the default, as in openvino) the results do not share
        memory with the request's output tensors; ``True`` returns those tensors' own memory
        (the caller's, after ``set_output_tensor``), which the next inference overwrites.
        ``wait()`` concerns asynchronous inferences only; an ``infer`` or ``start_async`` on
        a request that is running one raises :class:`RequestBusyError`.
        """
        if not self._busy.acquire(False):
            raise _busy_error()
        try:
            arrays = None if share_inputs else self._bind_same(inputs)
            if arrays is None:
                arrays = self._bind(inputs, share_inputs)
            started = time.perf_counter()
            try:
                outputs, self._info = self._run(arrays)
                returned = outputs
                if self._out_tensors:
                    outputs = self._write_out_tensors(outputs)
                    if share_outputs:
                        returned = outputs
                self._outputs = outputs  # type: ignore[assignment]
                self._lent = not share_outputs
                self._error = None
            except BaseException as error:
                self._outputs, self._info, self._error = None, None, error
                raise
            finally:
                self._started = started
                self._latency_ms = (time.perf_counter() - started) * 1000.0
        finally:
            self._busy.release()
        return Results(self._compiled.outputs, returned)

    def start_async(
        self, inputs: Any = None, userdata: Any = None, share_inputs: bool = False
    ) -> None:
        """Start an inference and return at once; ``wait()`` or a callback follows it."""
        self._start(inputs, userdata, share_inputs, None)

    def _start(
        self, inputs: Any, userdata: Any, share_inputs: bool, waiter: Callable[[], Any] | None
    ) -> None:
        self._claim()
        # blocks only while a thread in wait() holds it for an instant after the last inference
        self._running.acquire()
        try:
            self._waiter = waiter
            arrays = None if share_inputs else self._bind_same(inputs)
            if arrays is None:
                arrays = self._bind(inputs, share_inputs)
            job = Job(arrays, self._finish)
            self._callback_userdata = userdata if userdata is not None else self._callback_userdata
            self.userdata = userdata
            self._error = None
            self._job = job
            self._started = time.perf_counter()
            self._compiled.start(job)
        except BaseException:
            if self._job is None or not self._job.done:
                self._job = None
                self._release()
            raise

    def _store(self, job: Job) -> None:
        self._latency_ms = (time.perf_counter() - self._started) * 1000.0
        self._info = job.info
        self._lent = False
        if job.error is None and self._out_tensors:
            try:
                job.outputs = self._write_out_tensors(job.outputs)  # type: ignore[arg-type]
            except BaseException as error:
                job.error = error
        if job.error is None:
            self._outputs = job.outputs  # type: ignore[assignment]
            self._error = None
        else:
            self._outputs = None
            self._error = job.error

    def _finish(self, job: Job) -> None:
        """Runs once per async job, in the thread that finished it."""
        self._store(job)
        queue = self._queue
        if queue is not None:
            queue._request_finished(self)
        elif self._error is None and self._callback is not None:
            try:
                _call_back(None, self, self._callback, self._callback_userdata)
            except BaseException as exc:
                self._error = exc
        waiter, self._waiter = self._waiter, None
        self._job = None
        self._release()
        if queue is not None:
            queue._request_idle(self)
        if waiter is not None:
            waiter()

    def wait(self) -> None:
        """Wait for the inference in flight; raise its error (or its callback's) if it failed.

        Called from the request's own callback it returns at once: the inference has ended.
        """
        if _running_callback()[1] is self:
            return
        with self._running:
            pass
        if self._error is not None and self._queue is None:
            raise self._error

    def wait_for(self, timeout: float) -> bool:
        """Wait up to ``timeout`` milliseconds; ``True`` when the request is done.

        A negative timeout waits without limit, as ``wait()``; so does one longer than
        Python's waits accept (``threading.TIMEOUT_MAX``, about 292 years).
        """
        if isinstance(timeout, bool) or not isinstance(timeout, int | float | np.number):
            raise ArgumentError(
                f"wait_for takes a timeout in milliseconds (a number), got "
                f"{type(timeout).__name__} {timeout!r}"
            )
        if timeout != timeout:
            raise ArgumentError("wait_for takes a timeout in milliseconds, got NaN")
        endless = timeout < 0 or timeout / 1000.0 > threading.TIMEOUT_MAX
        if endless or _running_callback()[1] is self:
            self.wait()
            return True
        if not self._running.acquire(timeout=timeout / 1000.0):
            return False
        self._running.release()
        if self._error is not None and self._queue is None:
            raise self._error
        return True

    def cancel(self) -> None:
        """Cancel the inference in flight if it has not started running on the device."""
        job = self._job
        if job is not None:
            job.cancel()

    def set_callback(self, callback: Callable[[Any], Any], userdata: Any = None) -> None:
        """Call ``callback(userdata)`` after each successful async inference.

        It runs in the thread that finished the inference; an exception it raises is raised by
        the next ``wait()``.  A failed inference skips it and ``wait()`` raises the failure.
        """
        self._callback = callback
        self._callback_userdata = userdata

    async def infer_async(self, inputs: Any = None, share_inputs: bool = False) -> Results:
        """``await request.infer_async(inputs)``: like ``infer`` without blocking the loop."""
        import asyncio  # here, not at import: most programs never use it

        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._start(inputs, None, share_inputs, lambda: post_to_loop(loop, _set_done, future))
        await future
        if self._error is not None:
            raise self._error
        return self.results

    def _release(self) -> None:
        self._busy.release()
        self._running.release()

    @property
    def is_busy(self) -> bool:
        return self._busy.locked()


def _key_name(key: Any) -> Any:
    return key.any_name if isinstance(key, Port) else key


def _tensor_array(value: Any, name: str) -> np.ndarray:
    """An ``ovlite.Tensor``'s or numpy array's memory, for the tensor-setting calls."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray):
        return value
    raise InputTypeError(
        f"{name!r} takes ovlite.Tensor objects (or numpy arrays), got {type(value).__name__}"
    )


def _busy_error() -> RequestBusyError:
    return RequestBusyError("the request is busy with an inference; wait() for it first")


def _set_done(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


class AsyncInferQueue:
    """A pool of requests that keeps a compiled model busy (OpenVINO's ``AsyncInferQueue``).

    ``jobs=0`` creates ``OPTIMAL_NUMBER_OF_INFER_REQUESTS`` requests.  ``start_async`` takes
    the request that has been idle longest, blocking until one is free.  A request returns to
    the pool only after its callback finished.  An exception raised by a callback, or the error
    of a failed inference (whose callback is skipped), is raised by the next ``start_async``,
    ``wait_all``, ``is_ready`` or ``get_idle_request_id``, each error once.
    """

    def __init__(self, compiled: CompiledModel, jobs: int = 0) -> None:
        if isinstance(jobs, bool) or not isinstance(jobs, int | np.integer) or jobs < 0:
            raise ArgumentError(
                f"jobs must be a whole number >= 0 (0 means the optimal number), got {jobs!r}"
            )
        jobs = int(jobs)
        count = jobs or compiled.optimal_number_of_requests
        self._compiled = compiled
        self._requests = [compiled.create_infer_request() for _ in range(count)]
        for index, request in enumerate(self._requests):
            request._queue = self
            request._queue_id = index
        self._start_afresh()
        reset_after_fork(self)
        self._errors: collections.deque[BaseException] = collections.deque()
        self._callback: Callable[[InferRequest, Any], Any] | None = None
        self.userdata: list[Any] = [None] * count

    def __len__(self) -> int:
        return len(self._requests)

    def __iter__(self) -> Iterator[InferRequest]:
        return iter(self._requests)

    def __getitem__(self, index: int) -> InferRequest:
        return self._requests[index]

    def set_callback(self, callback: Callable[[InferRequest, Any], Any]) -> None:
        """Call ``callback(request, userdata)`` after each successful inference."""
        self._callback = callback

    def _raise_pending(self) -> None:
        if self._errors:
            raise self._errors.popleft()

    def start_async(
        self, inputs: Any = None, userdata: Any = None, share_inputs: bool = False
    ) -> None:
        """Run ``inputs`` on the longest-idle request, waiting for one if all are busy."""
        if self._errors:
            self._raise_pending()
        index = self._take_idle()
        self.userdata[index] = userdata
        try:
            self._requests[index].start_async(inputs, userdata, share_inputs)
        except BaseException:
            if not self._requests[index].is_busy:
                with self._lock:  # first in line again: it has been idle longest
                    self._idle.appendleft(index)
                self._tokens.put(None)
            raise

    def get_idle_request_id(self) -> int:
        """Id of the request ``start_async`` will use next, waiting until one is idle."""
        self._raise_pending()
        self._take_token()
        with self._lock:
            index = self._idle[0]
        self._tokens.put(None)
        return index

    def _start_afresh(self) -> None:
        """Every request idle, in id order: at creation, and in a forked child (where those
        in flight at the fork finish in the parent)."""
        # ``_idle``: the idle requests' ids, longest-idle first, guarded by ``_lock``.
        # ``_tokens`` holds one token per idle request: taking one is waiting for an idle
        # request in C, with no Python-level Condition (its lock allocation and waiter list
        # cost several microseconds per inference).  A token is put after its id is appended
        # and taken before an id is popped, so ``_idle`` never runs short of a token's id.
        self._idle = collections.deque(range(len(self._requests)))
        self._lock = threading.Lock()
        self._tokens: SimpleQueue[None] = SimpleQueue()
        for _ in self._requests:
            self._tokens.put(None)
        self._condition = threading.Condition()  # wait_all's
        self._waiting = 0  # threads in wait_all: only then is there one to notify

    _after_fork = _start_afresh

    def _take_token(self) -> None:
        """Wait for an idle request and claim it (a token).  Called from one of this queue's
        callbacks (feeding the next frame, say) with every request busy, it adds a request
        instead: waiting there could wait for itself."""
        try:
            self._tokens.get_nowait()
            return
        except Empty:
            if _running_callback()[0] is not self:
                self._tokens.get()
                return
        while True:  # another thread may take the new request's token first
            self._add_request()
            try:
                self._tokens.get_nowait()
                return
            except Empty:
                pass

    def _take_idle(self) -> int:
        """Take the longest-idle request's id, waiting for one."""
        self._take_token()
        with self._lock:
            return self._idle.popleft()

    def _add_request(self) -> None:
        """Grow the pool by one idle request."""
        with self._lock:
            request = self._compiled.create_infer_request()
            request._queue = self
            request._queue_id = len(self._requests)
            self.userdata.append(None)
            self._requests.append(request)
            self._idle.append(request._queue_id)
        self._tokens.put(None)

    def is_ready(self) -> bool:
        """True when at least one request is idle."""
        self._raise_pending()
        return bool(self._idle)

    def wait_all(self) -> None:
        """Wait until every request is idle (their callbacks done).

        Raises :class:`ReentrancyError` when called from one of this queue's callbacks, which
        would wait for itself.
        """
        if _running_callback()[0] is self:
            raise ReentrancyError(
                "AsyncInferQueue.wait_all() was called from one of the queue's callbacks: it "
                "would wait for that very callback to end; call it from the thread that starts "
                "the inferences"
            )
        with self._condition:
            self._waiting += 1
            try:
                while len(self._idle) < len(self._requests):
                    self._condition.wait()
            finally:
                self._waiting -= 1
        self._raise_pending()

    def _request_finished(self, request: InferRequest) -> None:
        if request._error is not None:
            self._errors.append(request._error)
        elif self._callback is not None:
            try:
                userdata = self.userdata[request._queue_id]
                _call_back(self, request, self._callback, request, userdata)
            except BaseException as exc:
                self._errors.append(exc)

    def _request_idle(self, request: InferRequest) -> None:
        with self._lock:
            self._idle.append(request._queue_id)
        self._tokens.put(None)
        # wait_all counts itself in before it reads _idle, so either it sees this id or
        # this reads its count and wakes it
        if self._waiting:
            with self._condition:
                self._condition.notify_all()
