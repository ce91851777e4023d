"""Thalex's openapi.json as a test oracle: request, result and notification schemas and examples.

Known defects of the spec are patched here, each one named, so a validation failure means our
frames are wrong rather than the spec:
- `RpcRequest.id` / `RpcResponse.id` are typed "object"; every SDK sends integers (API.md §2.1).
- `ErrorResponse` requires nothing, so every success reply also "is" an error reply.
- `instruments` items: neither `{"added"}` nor `{"removed"}` variant requires its key.
- Fields documented as "`null` if ..." are typed plain "number" (Ticker best prices, last price,
  24h change; AccountSummary `collateral_index_price`).
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

from jsonschema import Draft202012Validator

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "thalex"

_NULLABLE = {
    "Ticker": (
        "best_bid_price",
        "best_bid_amount",
        "best_ask_price",
        "best_ask_amount",
        "last_price",
        "change_24h",
    ),
}


@functools.cache
def openapi() -> dict[str, object]:
    """The spec with the named defects patched."""
    spec: dict[str, object] = json.loads((SHARED / "openapi.json").read_text())
    # type-ignore reason: the OpenAPI document is untyped JSON; a wrong shape fails the test
    schemas = spec["components"]["schemas"]  # type: ignore[index]
    for envelope in ("RpcRequest", "RpcResponse"):
        schemas[envelope]["properties"]["id"] = {"type": ["integer", "string", "null"]}
    for name, fields in _NULLABLE.items():
        for field in fields:
            schemas[name]["properties"][field]["type"] = ["number", "null"]
    # Every object is a valid error response, so `oneOf: [Success, Error]` never matches a success.
    schemas["ErrorResponse"]["required"] = ["error"]
    # Likewise `{"added": ...}` matches both variants of an `instruments` item.
    variants = schemas["instruments_payload"]["properties"]["notification"]["items"]["oneOf"]
    for variant in variants:
        variant["required"] = list(variant["properties"])
    cash = schemas["AccountSummary"]["properties"]["cash"]["items"]["properties"]
    cash["collateral_index_price"]["type"] = ["number", "null"]
    return spec


def _schemas() -> dict[str, dict[str, object]]:
    # type-ignore reason: the OpenAPI document is untyped JSON; a wrong shape fails the test
    components: dict[str, dict[str, dict[str, object]]] = openapi()["components"]  # type: ignore[assignment]
    return components["schemas"]


@functools.cache
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator({**json.loads(schema_json), "components": openapi()["components"]})


def errors(schema: dict[str, object], instance: object) -> list[str]:
    """Validation messages of `instance` against `schema` (resolved against the spec)."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    return sorted(e.message for e in validator.iter_errors(instance))


def request_schema(method: str) -> dict[str, object]:
    """The request-body schema of an RPC method."""
    paths = openapi()["paths"]
    # type-ignore reason: the OpenAPI document is untyped JSON; a wrong shape fails the test
    return paths[method]["rpc"]["requestBody"]["content"]["application/json"]["schema"]  # type: ignore[index,no-any-return]


def response_schema(method: str) -> dict[str, object]:
    """The response schema (success or error) of an RPC method."""
    paths = openapi()["paths"]
    # type-ignore reason: the OpenAPI document is untyped JSON; a wrong shape fails the test
    return paths[method]["rpc"]["responses"]["default"]["content"]["application/json"]["schema"]  # type: ignore[index,no-any-return]


def result_example(method: str) -> object:
    """The spec's example `result` of an RPC method."""
    # type-ignore reason: the OpenAPI document is untyped JSON; a wrong shape fails the test
    success = response_schema(method)["oneOf"][0]["allOf"][1]  # type: ignore[index]
    if "example" in success:
        return copy.deepcopy(success["example"]["result"])
    result = success["properties"]["result"]
    if "example" in result:
        return copy.deepcopy(result["example"])
    if "$ref" in result:
        return copy.deepcopy(_schemas()[result["$ref"].rsplit("/", 1)[1]]["example"])
    items = result.get("items", {})
    if "$ref" in items:
        return [copy.deepcopy(_schemas()[items["$ref"].rsplit("/", 1)[1]]["example"])]
    raise KeyError(method)


def payload_schema(channel_pattern: str) -> dict[str, object]:
    """Schema of a channel's notification envelope, e.g. `ticker.<instrument>.<delay>`."""
    return {"$ref": f"#/components/schemas/{channel_pattern}_payload"}


def notification_example(channel_pattern: str) -> dict[str, object]:
    """The spec's example notification of a channel, assembled from the payload schema."""
    schemas = _schemas()
    props = schemas[f"{channel_pattern}_payload"]["properties"]
    # type-ignore reason: the OpenAPI document is untyped JSON; a wrong shape fails the test
    body = props["notification"]  # type: ignore[index]
    example = body.get("example")
    if example is None and "$ref" in body:
        example = schemas[body["$ref"].rsplit("/", 1)[1]].get("example")
    if example is None and body.get("type") == "array":
        items = body["items"]
        if "$ref" in items:
            example = [schemas[items["$ref"].rsplit("/", 1)[1]]["example"]]
        elif "example" in items:
            example = [items["example"]]
        elif "oneOf" in items:
            # e.g. instruments: [{"added": Instrument}], built from the first variant
            ((key, ref),) = items["oneOf"][0]["properties"].items()
            example = [{key: schemas[ref["$ref"].rsplit("/", 1)[1]]["example"]}]
        else:
            example = [{k: v["example"] for k, v in items["properties"].items() if "example" in v}]
    # type-ignore reason: the OpenAPI document is untyped JSON; a wrong shape fails the test
    name = props["channel_name"]["example"]  # type: ignore[index]
    return {"channel_name": name, "notification": copy.deepcopy(example)}
