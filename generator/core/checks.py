"""Helpers for the independent float64 path that problems use in `check`.

They work on plain NumPy float64 arrays and know nothing of SymPy, so a check
built from them is a second computation, not the first one re-printed.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .numeric import float_value
from .problem import CheckFailed

__all__ = ["as_float", "assert_close", "assert_close_scaled", "numeric_gradient"]


def as_float(value: Any) -> np.ndarray:
    """Exact values (SymPy numbers, matrices, tuples) as float64: the nearest doubles."""
    return np.asarray(float_value(value), dtype=np.float64)


def numeric_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central finite differences of a scalar function at x (any shape)."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        grad[index] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def assert_close(name: str, exact: Any, numeric: Any, rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Raise CheckFailed when the exact result and the float64 one disagree."""
    exact_f = as_float(exact)
    numeric_f = np.asarray(numeric, dtype=np.float64)
    if exact_f.shape != numeric_f.shape:
        raise CheckFailed(f"{name}: shape {exact_f.shape} vs float64 {numeric_f.shape}")
    # np.allclose's rule (|a - b| <= atol + rtol·|b|, NaN never close), on plain floats:
    # for the few entries of an exam answer that is several times faster.
    pairs = zip(exact_f.ravel().tolist(), numeric_f.ravel().tolist())
    if not all(abs(a - b) <= atol + rtol * abs(b) for a, b in pairs):
        raise CheckFailed(f"{name}: exact {exact_f.tolist()} vs float64 {numeric_f.tolist()}")


def assert_close_scaled(name: str, exact: Any, numeric: Any, rtol: float = 1e-9,
                        tiny: float = 1e-300) -> None:
    """Raise CheckFailed unless |a − b| ≤ rtol·max(‖b‖_∞, tiny) for every entry.

    The tolerance scales with the magnitude of the whole answer, not entry by entry: a
    float64 recomputation's error is bounded relative to the largest entry (the entries
    share their inputs), so a small entry next to large ones is not held to its own
    relative precision.  NaN or infinity on either side never passes."""
    exact_f = as_float(exact)
    numeric_f = np.asarray(numeric, dtype=np.float64)
    if exact_f.shape != numeric_f.shape:
        raise CheckFailed(f"{name}: shape {exact_f.shape} vs float64 {numeric_f.shape}")
    if not (np.all(np.isfinite(exact_f)) and np.all(np.isfinite(numeric_f))):
        raise CheckFailed(f"{name}: exact {exact_f.tolist()} vs float64 {numeric_f.tolist()} "
                          f"(not finite)")
    scale = max(float(np.max(np.abs(numeric_f), initial=0.0)), tiny)
    error = float(np.max(np.abs(exact_f - numeric_f), initial=0.0))
    if not error <= rtol * scale:
        raise CheckFailed(f"{name}: exact {exact_f.tolist()} vs float64 {numeric_f.tolist()} "
                          f"(largest difference {error:.3g} > {rtol:.3g} × {scale:.3g})")
