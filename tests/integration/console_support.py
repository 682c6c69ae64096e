"""Helpers of the operator console's tests: a browser-like client with its own cookie jar,
sign-in, and the form tokens that the console's pages carry."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar

from tests.conftest import OPERATOR_TOKEN

_TOKEN = re.compile(r'name="csrfToken" value="([^"]+)"')


@asynccontextmanager
async def console_client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A client of its own (its own cookies), as one operator's browser."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://admitone.test") as http:
        yield http


async def sign_in(http: httpx.AsyncClient, timezone: str = "Asia/Kolkata") -> httpx.Response:
    response = await http.post("/admin/login", data={"token": OPERATOR_TOKEN,
                                                     "timezone": timezone})
    assert response.status_code == 303, response.text
    return response


async def form_token(http: httpx.AsyncClient, page: str) -> str:
    """A form token from a console page (the first form's)."""
    response = await http.get(page)
    assert response.status_code == 200, response.text
    found = _TOKEN.search(response.text)
    assert found is not None, "the page carries no form token"
    return found.group(1)


async def post_form(http: httpx.AsyncClient, page: str, action: str, **fields: Any
                    ) -> httpx.Response:
    """Post ``fields`` to ``action`` with a fresh form token from ``page``, confirmed."""
    token = await form_token(http, page)
    return await http.post(action, data={"csrfToken": token, "confirmed": "yes", **fields})
