"""The OpenAPI 3.1 document of the admin API, assembled from its route table: paths and
methods from the routes, request bodies, query parameters and answers from the pydantic
models' JSON schemas. Nothing here is written by hand but the titles."""
from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from bot.web import api_models as m

PATH = "/events/openapi.json"
REF = "#/components/schemas/{model}"
REASONS = {200: "done", 202: "accepted: a job runs, or an approval is awaited", 400: "the request is not valid",
           401: "no bearer token, or an unknown one", 403: "the caller may not do this",
           404: "no such thing", 409: "the state does not allow it now", 413: "the body is over 1 MB",
           422: "the entry cannot be processed", 503: "Redis is unreachable"}
_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


ENV_PARAM: dict[str, Any] = {
    "name": "env", "in": "query", "required": False, "schema": {"type": "string"},
    "description": "the environment (a name of BUS_ENVIRONMENTS); default: the first one; an unknown name is a 404"}


def document(routes: list) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        op: dict[str, Any] = {"summary": route.summary, "operationId": route.handler.__name__,
                              "security": [{"bearer": []}],
                              "tags": ["write" if route.method == "POST" else "read"]}
        params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in _PARAM.findall(route.path)]
        if route.query is not None:
            params += _query_params(route.query, schemas)
        params.append(ENV_PARAM)  # several environments (BUS_ENVIRONMENTS): which one
        op["parameters"] = params
        if route.body is not None:
            op["requestBody"] = {"required": bool(route.body.model_fields) and any(
                f.is_required() for f in route.body.model_fields.values()),
                "content": {"application/json": {"schema": _ref(route.body, schemas)}}}
        # every route: a role the caller lacks (BUS_VIEWERS, ...); every body: the size limit
        codes = sorted({*route.statuses, 403, *((413,) if route.body is not None else ())})
        op["responses"] = {str(code): _response(code, route.answer, schemas) for code in codes}
        paths.setdefault(_PARAM.sub(r"{\1}", route.path), {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "busbot admin API", "version": "1",
                 "description": "The event bus runbook's HTTP API. Writes run through the same guarded "
                                "flow as /bus: preview, policy, approval by a second operator, job, audit."},
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "a token of BUS_API_TOKENS"}}},
    }


def _ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    """Add the model (and the models it uses) to the components; a $ref to it."""
    schema = model.model_json_schema(ref_template=REF)
    for name, sub in schema.pop("$defs", {}).items():
        schemas.setdefault(name, sub)
    schemas.setdefault(model.__name__, schema)
    return {"$ref": REF.format(model=model.__name__)}


def _query_params(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    props = model.model_json_schema(ref_template=REF).get("properties", {})
    out = []
    for name, field in model.model_fields.items():
        schema = dict(props.get(name, {}))
        description = schema.pop("description", None) or field.description
        schema.pop("title", None)
        param = {"name": name, "in": "query", "required": field.is_required(), "schema": schema}
        if description:
            param["description"] = description
        out.append(param)
    return out


def _response(code: int, answer: type[BaseModel] | None, schemas: dict[str, Any]) -> dict[str, Any]:
    model = answer if code < 400 and answer is not None else m.Error
    return {"description": REASONS.get(code, "answer"),
            "content": {"application/json": {"schema": _ref(model, schemas)}}}
