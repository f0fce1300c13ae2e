"""The one place that creates onnxruntime sessions: provider choice, thread counts, no spinning."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort
from onnx import TensorProto, helper

DEVICES = ("auto", "cpu", "cuda")
CPU_PROVIDER = "CPUExecutionProvider"
CUDA_PROVIDER = "CUDAExecutionProvider"
ORT_LOG_WARNING = 2  # onnxruntime's default logger severity
ORT_LOG_FATAL = 4  # hides the errors a failed CUDA probe prints
INTER_OP_THREADS = 1  # the graphs are sequential; parallelism is inside each op
VNNI_FLAGS = {"avx512_vnni", "avx_vnni", "amx_int8"}  # x86 int8 dot products without 16-bit saturation


@dataclass(frozen=True)
class RuntimeOptions:
    """How to run a model."""

    device: str = "auto"  # "auto" (CUDA when it really loads, else CPU), "cpu" or "cuda"
    threads: int | None = None  # intra-op threads; None = the physical cores this process may use

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, not {self.device!r}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1, not {self.threads}")


def physical_cores() -> int:
    """Physical cores available to this process (hyper-threads do not help the matmuls)."""
    logical = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cpuinfo = _cpuinfo()
    if cpuinfo is None:
        return logical
    cores, physical = set(), "0"
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "physical id":
            physical = value.strip()
        elif key.strip() == "core id":
            cores.add((physical, value.strip()))
    return max(1, min(logical, len(cores) or logical))


@functools.cache
def cuda_available() -> bool:
    """True when onnxruntime-gpu can really run on CUDA here (probed once, quietly)."""
    if CUDA_PROVIDER not in ort.get_available_providers():
        return False
    probe = helper.make_model(
        helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "cuda_probe",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])]),
        opset_imports=[helper.make_opsetid("", 17)])
    probe.ir_version = 8
    options = ort.SessionOptions()
    options.log_severity_level = ORT_LOG_FATAL
    ort.set_default_logger_severity(ORT_LOG_FATAL)
    try:
        session = ort.InferenceSession(probe.SerializeToString(), options, providers=[CUDA_PROVIDER])
        return CUDA_PROVIDER in session.get_providers()
    except Exception:  # noqa: BLE001 - any failure to load CUDA means "no CUDA"
        return False
    finally:
        ort.set_default_logger_severity(ORT_LOG_WARNING)


def _cpuinfo() -> str | None:
    """/proc/cpuinfo, or None where there is none (not Linux)."""
    try:
        return Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


@functools.cache
def _cpu_flags() -> frozenset[str] | None:
    """The CPU's feature flags from /proc/cpuinfo, or None where there are none to read."""
    for line in (_cpuinfo() or "").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return None


def int8_saturates(flags: frozenset[str] | set[str] | None = None) -> bool:
    """True on an x86 CPU with AVX2 but no VNNI (`flags`, default this CPU's): there onnxruntime's u8s8 int8
    matmul saturates its 16-bit sums (onnxruntime's quantization docs), and tiny.en int8 heard espeak's
    "New paragraph." as nothing, where fp32 heard it. `session_options` asks for exact u8u8 matmuls there.
    Where the flags cannot be read, False."""
    flags = _cpu_flags() if flags is None else flags
    return flags is not None and "avx2" in flags and not flags & VNNI_FLAGS


def resolve_device(device: str) -> str:
    """"auto" -> "cuda" or "cpu"; "cuda" without a working CUDA is a RuntimeError."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, not {device!r}")
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if device == "cuda" and not cuda_available():
        raise RuntimeError("device 'cuda' was asked for but onnxruntime cannot load CUDA here "
                           "(install onnxruntime-gpu with matching CUDA/cuDNN libraries, or run on the CPU: "
                           "`dictate transcribe --device cpu`, `dictate stream --provider cpu`)")
    return device


def session_options(options: RuntimeOptions) -> ort.SessionOptions:
    """Explicit thread counts, intra-op spinning off (spinning slows a busy small CPU), no CPU arena,
    no memory pattern; exact int8 matmuls where the fast ones saturate (`int8_saturates`).

    The arena would keep the largest activations it ever held for the life of the session (the
    encoder's, tens of MB per 30-s window); without it they go back to the allocator after each run.
    The memory pattern would allocate one block for all of a run's planned activations at once.
    """
    session = ort.SessionOptions()
    session.enable_cpu_mem_arena = False
    session.enable_mem_pattern = False
    session.intra_op_num_threads = options.threads or physical_cores()
    session.inter_op_num_threads = INTER_OP_THREADS
    session.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session.add_session_config_entry("session.inter_op.allow_spinning", "0")
    if int8_saturates():
        session.add_session_config_entry("session.x64quantprecision", "1")
    return session


def create_session(path: Path, options: RuntimeOptions = RuntimeOptions()) -> ort.InferenceSession:
    """An InferenceSession for `path` on the resolved device."""
    device = resolve_device(options.device)
    providers = [CUDA_PROVIDER, CPU_PROVIDER] if device == "cuda" else [CPU_PROVIDER]
    return ort.InferenceSession(str(path), session_options(options), providers=providers)
