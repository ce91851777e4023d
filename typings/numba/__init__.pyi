"""Minimal typed surface of numba used by thalex_trio: `njit` keeps the decorated signature."""

from collections.abc import Callable
from typing import TypeVar, overload

# Unbounded on purpose: a bound of Callable[..., object] would be an explicit Any under strict.
_F = TypeVar("_F")

__version__: str

@overload
def njit(func: _F, /) -> _F: ...
@overload
def njit(
    *signatures: str,
    cache: bool = ...,
    fastmath: bool = ...,
    nogil: bool = ...,
    boundscheck: bool = ...,
    error_model: str = ...,
) -> Callable[[_F], _F]: ...
