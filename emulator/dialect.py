"""A dialect is one exchange's protocol over the shared engine machinery: its endpoints,
its request signing and the shape and codes of its errors."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from emulator.endpoints import EndpointTable
from emulator.errors import MexcError


@dataclass(frozen=True)
class SignedRequest:
    """What a signature check may look at: headers, parsed parameters and the raw texts."""

    headers: Mapping[str, str]
    params: dict[str, str]
    raw_query: str
    raw_body: str
    now_ms: int


@dataclass(frozen=True)
class Dialect:
    name: str
    endpoints: EndpointTable
    api_key_header: str
    authenticate: Callable[[dict, SignedRequest], object]
    # Any error raised while serving (MEXC-coded shared errors, engine rejections) -> the
    # dialect's own code, message and HTTP status, still carried as a MexcError.
    translate: Callable[[Exception], MexcError]
    error_body: Callable[[MexcError, int], dict]
    new_engine: Callable[..., object]  # (seed, account specs[, generated spot markets])
