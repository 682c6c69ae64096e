"""The sandbox's in-process POST: the webhook reaches the whole app as a request from the
loopback would, and its sender learns the status (or the app's failure)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, Request, post
from litestar.exceptions import NotAuthorizedException

from admitone.booking_core.payments.sandbox import post_in_process

SEEN: list[dict[str, Any]] = []


@post("/hook", status_code=202)
async def hook(request: Request[Any, Any, Any]) -> dict[str, str]:
    body = await request.body()
    SEEN.append({"body": body, "signature": request.headers.get("x-signature"),
                 "type": request.headers.get("content-type"), "host": request.headers.get("host"),
                 "client": request.client.host if request.client else None,
                 "url": str(request.url)})
    if request.headers.get("x-signature") != "good":
        raise NotAuthorizedException("bad signature")
    return {"ok": "yes"}


@post("/boom")
async def boom() -> None:
    raise RuntimeError("broken handler")


APP = Litestar([hook, boom], debug=False)


async def test_the_request_arrives_whole_and_its_status_comes_back() -> None:
    SEEN.clear()
    body = b'{"paymentId": "p1", "status": "SUCCESS"}'
    headers = [(b"content-type", b"application/json"), (b"x-signature", b"good")]

    status = await post_in_process(APP, "https://tickets.example.com", "/hook", headers, body)

    assert status == 202
    (seen,) = SEEN
    assert seen == {"body": body, "signature": "good", "type": "application/json",
                    "host": "tickets.example.com", "client": "127.0.0.1",
                    "url": "https://tickets.example.com/hook"}


async def test_a_refusal_is_its_status_not_an_exception() -> None:
    status = await post_in_process(APP, "http://127.0.0.1:8000", "/hook",
                                   [(b"x-signature", b"forged")], b"{}")

    assert status == 401


async def test_an_unknown_path_is_404() -> None:
    assert await post_in_process(APP, "http://127.0.0.1:8000", "/nowhere", [], b"{}") == 404


async def test_a_handler_that_fails_answers_500_to_the_sender() -> None:
    assert await post_in_process(APP, "http://127.0.0.1:8000", "/boom", [], b"{}") == 500


async def test_an_app_that_never_answers_is_an_error() -> None:
    async def silent(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()

    with pytest.raises(RuntimeError, match="no response"):
        await post_in_process(silent, "http://127.0.0.1:8000", "/hook", [], b"{}")
