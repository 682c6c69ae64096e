"""The Litestar application: routes, problem responses, metrics, OpenAPI, lifespan."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.config.response_cache import ResponseCacheConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.stores.memory import MemoryStore
from litestar.template.config import TemplateConfig

from admitone import jobs
from admitone.gateway import pages
from admitone.gateway.deps import dependencies
from admitone.gateway.metrics import metrics, metrics_middleware
from admitone.gateway.middleware import request_id_middleware
from admitone.gateway.operator import console_api
from admitone.gateway.operator import pages as operator_pages
from admitone.gateway.problems import EXCEPTION_HANDLERS
from admitone.gateway.routes import admin_catalog, admin_rooms, browse, seats, service
from admitone.gateway.routes import bookings as booking_routes
from admitone.gateway.routes import payments as payment_routes
from admitone.gateway.routes import queue as queue_routes
from admitone.gateway.routes import sandbox as sandbox_routes
from admitone.gateway.routes import tokens as token_routes
from admitone.logging import configure_logging
from admitone.runtime import Services, open_services
from admitone.settings import Settings

MAX_BODY_BYTES = 64 * 1024



def create_app(settings: Settings, *, services: Services | None = None) -> Litestar:
    """Build the app. With ``services`` given (tests), the caller owns their lifecycle."""
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            app.state.services = services or await stack.enter_async_context(
                open_services(settings)
            )
            if settings.background_jobs:
                await stack.enter_async_context(jobs.running(app.state.services))
            yield

    state = {"services": services} if services is not None else {}
    app = Litestar(
        route_handlers=[
            *service.ROUTES,
            *browse.ROUTES,
            *seats.ROUTES,
            *booking_routes.ROUTES,
            *payment_routes.ROUTES,
            *(sandbox_routes.ROUTES if settings.sandbox_payments else []),
            admin_catalog.router,
            *queue_routes.ROUTES,
            *token_routes.ROUTES,
            admin_rooms.router,
            *pages.ROUTES,
            *operator_pages.ROUTES, *console_api.ROUTES,  # the operator console (/admin…)
            pages.static_router(),
            metrics,
        ],
        lifespan=[lifespan],
        dependencies=dependencies(),
        state=State(state),
        middleware=[request_id_middleware, metrics_middleware],
        # A browser on a page route gets an HTML 404; API callers keep problem+json.
        exception_handlers={**EXCEPTION_HANDLERS, **pages.EXCEPTION_HANDLERS},
        request_max_body_size=MAX_BODY_BYTES,
        response_cache_config=ResponseCacheConfig(store="response_cache"),
        stores={"response_cache": MemoryStore()},
        openapi_config=OpenAPIConfig(
            title="admitone",
            version="0.1.0",
            description="Virtual waiting room, admission gateway and booking core.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
            components=Components(
                security_schemes={
                    "operatorToken": SecurityScheme(
                        type="http", scheme="bearer", description="The operator token"
                    ),
                    "accessToken": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        bearer_format="JWT",
                        description="An admitted visitor's access token",
                    ),
                }
            ),
        ),
        template_config=TemplateConfig(
            directory=Path(__file__).parent / "templates", engine=JinjaTemplateEngine
        ),
        debug=False,
    )
    _camel_case_path_parameters(app)
    return app


_SNAKE_PARAM = re.compile(r"\{([a-z]+(?:_[a-z]+)+)\}")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _camel_case_path_parameters(app: Litestar) -> None:
    """Name path parameters as the contract does (``{showId}``), not as Python does.

    Handlers take ``show_id`` (PEP 8); the published document says ``showId``, as CONTRACT.md
    and the JSON bodies do. The schema is built once here and kept.
    """
    schema = app.openapi_schema
    renamed = {}
    for path, item in (schema.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            for parameter in (operation.parameters or []) if operation else []:
                if getattr(parameter, "param_in", None) == "path":
                    parameter.name = _camel(parameter.name)
        renamed[_SNAKE_PARAM.sub(lambda match: "{" + _camel(match.group(1)) + "}", path)] = item
    schema.paths = renamed


def app_from_env() -> Litestar:
    """Uvicorn factory for worker processes: settings come from the environment."""
    from admitone.settings import load_settings  # noqa: PLC0415 - only workers need it

    return create_app(load_settings())


__all__: list[Any] = ["app_from_env", "create_app"]
