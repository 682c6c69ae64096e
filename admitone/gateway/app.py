"""The Litestar application: routes, problem responses, metrics, OpenAPI, lifespan."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from litestar import Litestar
from litestar.config.response_cache import ResponseCacheConfig
from litestar.datastructures import State
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.stores.memory import MemoryStore
from litestar.template.config import TemplateConfig
from litestar.types import Receive, Scope, Send

from admitone import jobs, observability
from admitone.gateway import assets, failures, openapi
from admitone.gateway.bookings import api as booking_api
from admitone.gateway.bookings import pages as booking_pages
from admitone.gateway.catalog import api as catalog_api
from admitone.gateway.catalog import pages as catalog_pages
from admitone.gateway.client import proxy_middleware
from admitone.gateway.deps import dependencies
from admitone.gateway.fast_lane import QueueLanes
from admitone.gateway.middleware import gateway_middleware
from admitone.gateway.operator import api as operator_api
from admitone.gateway.operator import console_api
from admitone.gateway.operator import pages as operator_pages
from admitone.gateway.payments import api as payment_api
from admitone.gateway.payments import pages as payment_pages
from admitone.gateway.problems import EXCEPTION_HANDLERS
from admitone.gateway.queue import api as queue_api
from admitone.gateway.queue import pages as queue_pages
from admitone.gateway.seats import api as seat_api
from admitone.gateway.seats import pages as seat_pages
from admitone.gateway.service import api as service_api
from admitone.gateway.streams import StreamSlots
from admitone.gateway.tickets import api as ticket_api
from admitone.logging import configure_logging
from admitone.runtime import Services, open_services
from admitone.settings import Settings

MAX_BODY_BYTES = 64 * 1024


class Gateway(Litestar):
    """The app, with the queue's fast lanes (fast_lane.py) in front of Litestar's routing."""

    lanes: QueueLanes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        lanes = self.lanes
        if (lanes is not None and scope["type"] == "http"  # type: ignore[comparison-overlap]
                and await lanes.dispatch(scope, receive, send)):
            return
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings, *, services: Services | None = None, fast_lanes: bool = True
) -> Litestar:
    """Build the app. With ``services`` given (tests), the caller owns their lifecycle.
    ``fast_lanes=False`` routes the queue's hot routes through Litestar too (to compare)."""
    configure_logging(settings)
    if settings.trusted_proxy_hops > 0:
        structlog.get_logger(__name__).warning(
            "deprecated_setting", setting="ADMITONE_TRUSTED_PROXY_HOPS",
            detail="set ADMITONE_TRUSTED_PROXIES to your proxies' networks instead"
            + ("" if settings.trusted_proxies else "; trusting the private networks for now"),
            trusted=list(settings.proxy_networks),
        )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            app.state.services = services or await stack.enter_async_context(
                open_services(settings)
            )
            if settings.background_jobs:
                await stack.enter_async_context(jobs.running(app.state.services))
            if app.state.services.monitoring is not None:
                await stack.enter_async_context(app.state.services.monitoring.running())
            stack.callback(observability.flush_http)  # the last second's requests, counted
            yield

    # Never empty: Litestar replaces an empty (falsy) State with its own, and the providers of
    # deps.py read this one. The lifespan sets ``services`` when the caller gave none.
    state = State({"services": services, "stream_slots": StreamSlots(
        settings.streams_per_client, settings.streams_per_process)})
    # Outermost first: the client's address is settled before anything reads it. Then the
    # request id, the metrics and the bad-bytes checks, as one layer (middleware.py).
    middleware = [proxy_middleware(settings.proxy_networks), gateway_middleware(MAX_BODY_BYTES)]
    app = Gateway(
        route_handlers=[
            # Each area: its JSON and SSE routes (api), then its HTML pages.
            *service_api.ROUTES,
            *catalog_api.ROUTES, *catalog_pages.ROUTES,
            *queue_api.ROUTES, *queue_pages.ROUTES,
            *seat_api.ROUTES, *seat_pages.ROUTES,
            *booking_api.ROUTES, *booking_pages.ROUTES,
            *ticket_api.ROUTES,
            *payment_api.ROUTES, *payment_pages.ROUTES,
            *(payment_pages.SANDBOX_ROUTES if settings.sandbox_payments else []),
            *operator_api.ROUTES, *console_api.ROUTES, *operator_pages.ROUTES,
            *failures.ROUTES,
            *assets.ROUTES,
            *openapi.routes(),  # Swagger UI's own files, so /schema/swagger needs no internet
        ],
        lifespan=[lifespan],
        dependencies=dependencies(state),
        state=state,
        middleware=middleware,
        # A browser on a page route gets an HTML 404; API callers keep problem+json.
        exception_handlers={**EXCEPTION_HANDLERS, **failures.EXCEPTION_HANDLERS},
        request_max_body_size=MAX_BODY_BYTES,
        response_cache_config=ResponseCacheConfig(store="response_cache"),
        stores={"response_cache": MemoryStore()},
        openapi_config=openapi.config(),
        template_config=TemplateConfig(
            directory=Path(__file__).parent / "templates", engine=JinjaTemplateEngine
        ),
        debug=False,
    )
    if fast_lanes:
        app.lanes = QueueLanes(app, middleware)
    _camel_case_path_parameters(app)
    openapi.document(app)  # every error as problem+json, from problems.ROUTE_PROBLEMS
    return app


_SNAKE_PARAM = re.compile(r"\{([a-z]+(?:_[a-z]+)+)\}")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _camel_case_path_parameters(app: Litestar) -> None:
    """Name path parameters as the contract does (``{showId}``), not as Python does.

    Handlers take ``show_id`` (PEP 8); the published document says ``showId``, as the JSON
    bodies do. The schema is built once here and kept.
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
