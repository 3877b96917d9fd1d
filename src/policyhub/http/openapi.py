"""OpenAPI: request bodies parsed by our strict JSON reader still appear with their real models."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

_MODELS: dict[str, type[BaseModel]] = {}


def body_schema(
    content: dict[str, Any], required: bool = True, examples: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """``openapi_extra`` for a route whose body we read ourselves: media type -> model (or raw schema).

    ``examples``: named example bodies (``{"name": {"summary": ..., "value": ...}}``) for every media type.
    """
    described: dict[str, Any] = {}
    for media, model in content.items():
        if isinstance(model, type) and issubclass(model, BaseModel):
            described[media] = {"schema": {"$ref": register_model(model)}}
        elif isinstance(model, list) and model and issubclass(model[0], BaseModel):
            described[media] = {"schema": {"type": "array", "items": {"$ref": register_model(model[0])}}}
        else:
            described[media] = {"schema": model}
        if examples:
            described[media]["examples"] = examples
    return {"requestBody": {"required": required, "content": described}}


def register_model(model: type[BaseModel]) -> str:
    """Register a body model for ``components.schemas``; two different models may not share a name."""
    known = _MODELS.setdefault(model.__name__, model)
    if known is not model:
        raise ValueError(f"two OpenAPI models named {model.__name__!r}: {known.__module__} and {model.__module__}")
    return f"#/components/schemas/{model.__name__}"


def install_openapi(app: FastAPI) -> None:
    """Add the registered models to ``components.schemas`` when the document is built."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, model in _MODELS.items():
            model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for def_name, definition in model_schema.pop("$defs", {}).items():
                components.setdefault(def_name, definition)
            components.setdefault(name, model_schema)
        schema.setdefault("components", {}).setdefault("securitySchemes", {}).update(
            {"HTTPBearer": {"type": "http", "scheme": "bearer"}, "HTTPBasic": {"type": "http", "scheme": "basic"}}
        )
        schema["security"] = [{"HTTPBearer": []}, {"HTTPBasic": []}]
        _drop_unused_422(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]


def _drop_unused_422(schema: dict[str, Any]) -> None:
    """FastAPI documents 422 on every route; our faces answer request-shape errors themselves (400 on /v1)."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses") if isinstance(operation, dict) else None
            if responses and "422" in responses and "HTTPValidationError" in str(responses["422"]):
                del responses["422"]
                responses.setdefault("400", {"description": "Invalid request"})
