# Minimal stub: jsonschema ships no type information; only what the tests use.
from collections.abc import Iterator, Mapping

class ValidationError(Exception):
    message: str
    json_path: str

class Draft202012Validator:
    def __init__(self, schema: Mapping[str, object]) -> None: ...
    def iter_errors(self, instance: object) -> Iterator[ValidationError]: ...
