"""The OpenAPI document and its Swagger UI, served from this process alone.

Errors are documented from one place: each operation's 4xx/5xx responses are made from
``problems.ROUTE_PROBLEMS`` (what its handler raises), the problems of its Litestar guards
(``problems.GUARD_PROBLEMS``), of a body or checked query (``WITH_BODY``, ``WITH_QUERY``) and
of every route (``EVERY_ROUTE``), each as ``application/problem+json`` with the fixed example
of ``problems.EXAMPLES``. The headers a route reads are declared from ``ROUTE_HEADERS``. Swagger
UI's script and style come from the swagger-ui-py package, so ``/schema/swagger`` works without
the internet.
"""

from __future__ import annotations

import importlib.util
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Litestar, Router
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    Example,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
    SecurityScheme,
)
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router

from admitone.gateway import problems

SCHEMA_PATH = "/schema"
SWAGGER_ASSETS = "/schema/swagger-ui"
_SWAGGER_FILES = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                  "favicon-32x32.png", "favicon-16x16.png", "LICENSE")
PROBLEM_SCHEMA = "Problem"
_METHODS = ("get", "put", "post", "delete", "patch")
_PATH_PARAM = re.compile(r"\{([A-Za-z_]+)(?::[a-z]+)?\}")


@dataclass(frozen=True)
class Header:
    """A request header a route reads (``Authorization`` is the security schemes' part)."""

    name: str
    description: str
    example: str
    required: bool = False


QUEUE_TOKEN = Header("X-Queue-Token", "The queue token from join: keeps this place",
                     "eyJhbGciOiJFZERTQSIsImtpZCI6InEtMjAyNi0xMiJ9.eyJzdWIiOiJ2LTlm…")
IDEMPOTENCY_KEY = Header("Idempotency-Key", "Any unique string up to 255 characters; the same "
                         "key and body again returns the first answer", "checkout-5f1d2c3b",
                         required=True)
SIGNATURE = Header("X-Signature", 't=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body" with the '
                   "webhook secret>", "t=1765964400,v1=5b2d9f0c4e8a1b3d6f7e9a0c2b4d6e8f1a3c5e7b"
                   "9d0f2a4c6e8b1d3f5a7c9e0b", required=True)
POW_CHALLENGE = Header("X-PoW-Challenge", "A challenge from GET …/challenge, when the room asks",
                       "1765964400.20.6f1c2b9e0a4d")
POW_NONCE = Header("X-PoW-Nonce", "The nonce that solves X-PoW-Challenge", "48213")
IDENTITY_TOKEN = Header("X-Identity-Token", "From POST …/identity/verify (one place per "
                        "person)", "eyJhbGciOiJFZERTQSJ9.eyJlbWFpbCI6ImFzaGEucmFvQGV4YW1w…")
IDENTITY = Header("X-Identity", "A frontend-signed identity, when the server trusts one",
                  "v1.asha.rao@example.in.1765964400.8c1f…")
OPERATOR_NAME = Header("X-Operator", "Who makes the change, for the audit log", "priya")

# Route -> the headers it reads, beyond Authorization and the guards' (one line a route).
ROUTE_HEADERS: dict[str, tuple[Header, ...]] = {
    "POST /api/v1/queue/{showId}/join": (QUEUE_TOKEN, POW_CHALLENGE, POW_NONCE, IDENTITY_TOKEN,
                                         IDENTITY),
    "GET /api/v1/queue/{showId}/status": (QUEUE_TOKEN,),
    "DELETE /api/v1/queue/{showId}/leave": (QUEUE_TOKEN,),
    "POST /api/v1/bookings": (IDEMPOTENCY_KEY,),
    "PUT /api/v1/admin/shows/{showId}/waiting-room": (OPERATOR_NAME,),
    "PATCH /api/v1/admin/shows/{showId}/waiting-room": (OPERATOR_NAME,),
    "POST /api/v1/admin/shows/{showId}/visitors/{visitorId}/revoke": (OPERATOR_NAME,),
    "POST /api/v1/admin/refunds/{refundId}/retry": (OPERATOR_NAME,),
}
GUARD_HEADERS: dict[str, tuple[Header, ...]] = {"webhook_signature_guard": (SIGNATURE,)}
# Error statuses a route answers with a body of its own (not a problem), beside the problems.
OWN_ERRORS: dict[str, dict[int, tuple[str, Schema]]] = {
    "GET /readyz": {503: ("application/json", Schema(
        type=OpenAPIType.OBJECT, required=["status", "checks", "down"],
        description='Not ready: `{"status": "unavailable", "checks": {"postgres": "ok", '
        '"redis": "down"}, "down": ["redis"]}`'))},
}
# The security requirement each guard stands for (the document's security schemes).
GUARD_SECURITY: dict[str, str] = {"access_guard": "accessToken", "booking_guard": "accessToken",
                                  "operator_guard": "operatorToken"}


def swagger_dir() -> Path:
    """Swagger UI's files, from the swagger-ui-py package (found without importing it)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def config() -> OpenAPIConfig:
    """The OpenAPI document's settings; Swagger UI at ``/schema/swagger``, its files local."""
    swagger = SwaggerRenderPlugin(
        js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
        css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{SWAGGER_ASSETS}/favicon-32x32.png'>",
    )
    return OpenAPIConfig(
        title="admitone",
        version="0.1.0",
        description=(
            "Virtual waiting room, admission gateway and booking core. Every error is "
            "`application/problem+json` (RFC 9457) with an `error` code; its `type` is "
            "`/help/<code>`, a page that explains the code. Error texts are in English."
        ),
        path=SCHEMA_PATH,
        render_plugins=[swagger],
        components=Components(
            security_schemes={
                "operatorToken": SecurityScheme(
                    type="http", scheme="bearer", description="The operator token"
                ),
                "accessToken": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="An admitted visitor's access token (or, on the booking "
                    "routes, a booking token from lookup)",
                ),
            },
        ),
    )


def _swagger_router() -> Router:
    return create_static_files_router(
        path=SWAGGER_ASSETS, directories=[swagger_dir()], include_in_schema=False,
        name="swagger_ui", cache_control=None, send_as_attachment=False,
    )


def routes() -> list[Router]:
    """Swagger UI's files (only those the page loads, and the licence)."""
    return [_swagger_router()]


# Documenting the problems ------------------------------------------------------------------


def operation_key(method: str, path: str) -> str:
    """``POST /api/v1/bookings/lock``: how ROUTE_PROBLEMS and ROUTE_HEADERS name a route."""
    return f"{method.upper()} {path}"


def _guard_names(handler: HTTPRouteHandler) -> list[str]:
    # A sync guard comes wrapped (litestar.utils.sync.AsyncCallable, the original as .func).
    return [getattr(getattr(guard, "func", guard), "__name__", "")
            for guard in handler.resolve_guards()]


@dataclass(frozen=True)
class RouteFacts:
    """What a documented operation can answer, and why."""

    key: str
    guards: tuple[str, ...]
    has_body: bool
    has_query: bool
    codes: tuple[str, ...]


def route_facts(app: Litestar) -> dict[str, RouteFacts]:
    """Every operation of the document, with the problem codes it can answer."""
    schema = app.openapi_schema
    handlers: dict[str, HTTPRouteHandler] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for route_handler in route.route_handlers:
            for verb in route_handler.http_methods:
                handlers[operation_key(verb, _published(route.path))] = route_handler
    found = {}
    for path, item in (schema.paths or {}).items():
        for method in _METHODS:
            operation: Operation | None = getattr(item, method, None)
            if operation is None:
                continue
            key = operation_key(method, path)
            found_handler = handlers.get(key)
            guards = tuple(_guard_names(found_handler)) if found_handler else ()
            has_body = operation.request_body is not None
            has_query = any(isinstance(p, Parameter) and p.param_in == "query"
                            for p in operation.parameters or [])
            codes = [*problems.EVERY_ROUTE, *problems.ROUTE_PROBLEMS.get(key, ())]
            for guard in guards:
                codes.extend(problems.GUARD_PROBLEMS.get(guard, ()))
            if has_body:
                codes.extend(problems.WITH_BODY)
            if has_query:
                codes.extend(problems.WITH_QUERY)
            found[key] = RouteFacts(key, guards, has_body, has_query, tuple(dict.fromkeys(codes)))
    return found


def _published(path: str) -> str:
    """A Litestar path (``/shows/{show_id:str}``) as the document writes it (``{showId}``)."""

    def camel(match: re.Match[str]) -> str:
        head, *rest = match.group(1).split("_")
        return "{" + head + "".join(word.title() for word in rest) + "}"

    return _PATH_PARAM.sub(camel, path)


def _problem_schema() -> Schema:
    string = Schema(type=OpenAPIType.STRING)
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["type", "title", "status", "detail", "error"],
        properties={
            "type": Schema(type=OpenAPIType.STRING, format=None,
                           description="`/help/<code>`: the page that explains `error`"),
            "title": string,
            "status": Schema(type=OpenAPIType.INTEGER),
            "detail": string,
            "error": Schema(type=OpenAPIType.STRING, description="The stable problem code"),
        },
        additional_properties=True,
        description="An RFC 9457 problem; context fields (e.g. `unavailableSeats`) sit beside "
        "the five standard ones.",
    )


def _is_page(operation: Operation) -> bool:
    """An HTML page: a browser gets its errors as pages too (failures.py), others problems."""
    return any("text/html" in (getattr(response, "content", None) or {})
               for status, response in (operation.responses or {}).items()
               if int(status) < 400)  # noqa: PLR2004 - its successes


def _responses(codes: tuple[str, ...], *, page: bool) -> dict[str, OpenAPIResponse]:
    by_status: dict[int, list[problems.ProblemDoc]] = defaultdict(list)
    for code in codes:  # a code without its EXAMPLES line is left out (tests/…/test_api_docs)
        doc = problems.EXAMPLES.get(code)
        if doc is not None:
            by_status[doc.status].append(doc)
    out = {}
    for status in sorted(by_status):
        docs = by_status[status]
        out[str(status)] = OpenAPIResponse(
            description="\n".join(f"- `{doc.code}`: {doc.advice}" for doc in docs),
            content={problems.PROBLEM_JSON: OpenAPIMediaType(
                schema=Reference(ref=f"#/components/schemas/{PROBLEM_SCHEMA}"),
                examples={doc.code: Example(summary=doc.title, value=doc.example)
                          for doc in docs},
            ), **({"text/html": OpenAPIMediaType(schema=Schema(
                type=OpenAPIType.STRING, description="A page that says what happened and "
                "what to do, for a browser (Accept: text/html)"))} if page else {})},
        )
    return out


def _header(header: Header) -> Parameter:
    return Parameter(name=header.name, param_in="header", required=header.required,
                     description=header.description, schema=Schema(type=OpenAPIType.STRING),
                     example=header.example)


def document(app: Litestar) -> None:
    """Write every operation's error responses and read headers into the app's document."""
    schema = app.openapi_schema
    components = schema.components
    components.schemas = {**(components.schemas or {}), PROBLEM_SCHEMA: _problem_schema()}
    facts = route_facts(app)
    for path, item in (schema.paths or {}).items():
        for method in _METHODS:
            operation: Operation | None = getattr(item, method, None)
            if operation is None:
                continue
            fact = facts[operation_key(method, path)]
            kept = {status: response for status, response in (operation.responses or {}).items()
                    if int(status) < 400}  # noqa: PLR2004 - successes stay as the handler says
            operation.responses = {**kept, **_responses(fact.codes, page=_is_page(operation))}
            for status, (media, body) in OWN_ERRORS.get(fact.key, {}).items():
                response = operation.responses[str(status)]
                assert isinstance(response, OpenAPIResponse)  # noqa: S101 - made just above
                response.content = {**(response.content or {}),
                                    media: OpenAPIMediaType(schema=body)}
            headers = [*problems_headers(fact)]
            named = {p.name.lower() for p in operation.parameters or []
                     if isinstance(p, Parameter)}
            extra = [_header(h) for h in headers if h.name.lower() not in named]
            if extra:
                operation.parameters = [*(operation.parameters or []), *extra]
            schemes = [GUARD_SECURITY[g] for g in fact.guards if g in GUARD_SECURITY]
            if schemes and not operation.security:
                operation.security = [{name: []} for name in dict.fromkeys(schemes)]


def problems_headers(fact: RouteFacts) -> list[Header]:
    """The headers a route reads: its own line in ROUTE_HEADERS, then its guards'."""
    found = list(ROUTE_HEADERS.get(fact.key, ()))
    for guard in fact.guards:
        found.extend(GUARD_HEADERS.get(guard, ()))
    return found


def without_generated_examples(app: Litestar) -> list[str]:
    """Handlers whose ``responses`` would let Litestar invent example values (random names and
    e-mails): they must say ``generate_examples=False``. Checked by the tests."""
    return [
        str(getattr(handler, "handler_name", handler))
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        for spec in (getattr(handler, "responses", None) or {}).values()
        if getattr(spec, "generate_examples", False)
    ]


__all__: list[Any] = ["config", "document", "route_facts", "routes"]
