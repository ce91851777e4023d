"""Calling compiled kernels from Python without the dispatcher's type resolution.

A numba dispatcher resolves the argument types on every call (about 85 ns per argument on the
reference machine, more for arrays). A kernel compiled for one explicit signature has exactly
one compiled entry point, which unboxes the arguments straight into that signature; hot call
sites that always pass the signature's types call it directly. Without JIT
(`NUMBA_DISABLE_JIT=1`) the kernel is a plain function and is returned as it is.
"""

from __future__ import annotations

from typing import TypeVar, cast

_F = TypeVar("_F")


def compiled_entry_point(kernel: _F) -> _F:
    """The entry point of `kernel`'s only compiled signature; `kernel` itself without JIT.

    The caller must pass exactly the signature's types (floats as floats, int64 arrays as
    int64 arrays): the entry point does not dispatch or convert as the dispatcher does.
    """
    overloads = getattr(kernel, "overloads", None)
    if not overloads:
        return kernel
    if len(overloads) != 1:
        raise ValueError(f"{kernel!r} has {len(overloads)} compiled signatures, expected one")
    (compiled,) = overloads.values()
    return cast("_F", compiled.entry_point)
