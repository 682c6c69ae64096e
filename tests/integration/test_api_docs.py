"""The OpenAPI document tells a frontend developer what each route really answers.

The document's errors come from one table (``gateway/problems.py``); these tests hold that table
to the code: every route has its line, every code its example and help page, and every route
called with missing credentials, empty or wrong bodies and unknown ids answers only what its
line documents.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

from admitone import errors
from admitone.gateway import openapi, problems
from admitone.gateway.app import create_app
from admitone.gateway.help.pages import BY_SLUG
from admitone.gateway.problems import EXAMPLES, ROUTE_PROBLEMS, help_slug, status_of
from admitone.settings import Settings
from tests.conftest import OPERATOR_TOKEN, MakeShow, bearer
from tests.integration.payment_support import signed

_TOKEN_GUARDS = {"access_guard", "booking_guard", "operator_guard", "webhook_signature_guard"}


def _subclasses(cls: type[errors.AdmitoneError]) -> Iterator[type[errors.AdmitoneError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in ("get", "put", "post", "delete", "patch"):
            if method in item:
                yield method.upper(), path, item[method]


@pytest.fixture(scope="module")
def document(app: Litestar) -> dict[str, Any]:
    return app.openapi_schema.to_schema()


def test_every_route_has_one_line_in_the_table(app: Litestar) -> None:
    """A new route without a line in ROUTE_PROBLEMS (or a line left for a removed route) fails
    here: the table is what the document says the route answers."""
    documented = set(openapi.route_facts(app))
    assert sorted(documented - set(ROUTE_PROBLEMS)) == [], "routes missing from ROUTE_PROBLEMS"
    assert sorted(set(ROUTE_PROBLEMS) - documented) == [], "ROUTE_PROBLEMS names no such route"


def test_every_problem_code_has_an_example_with_its_real_status() -> None:
    """Each error class of admitone/errors.py has its example, with the status the handler
    really answers; every code any table names is known."""
    for cls in _subclasses(errors.AdmitoneError):
        assert cls.code in EXAMPLES, f"{cls.__name__}: add its line to problems.EXAMPLES"
    for code, doc in EXAMPLES.items():
        assert doc.example["error"] == code
        assert doc.example["status"] == doc.status
        assert doc.example["type"] == f"/help/{help_slug(code)}"
    for cls in _subclasses(errors.AdmitoneError):
        example_status = EXAMPLES[cls.code].status
        instance = cls.__new__(cls)
        assert status_of(instance) == example_status, cls.__name__
    named = [code for codes in ROUTE_PROBLEMS.values() for code in codes]
    named += [code for codes in problems.GUARD_PROBLEMS.values() for code in codes]
    named += [*problems.EVERY_ROUTE, *problems.WITH_BODY, *problems.WITH_QUERY]
    assert sorted(set(named) - set(EXAMPLES)) == []


def test_guarded_routes_document_401_bodies_400_and_only_their_own_examples(
    app: Litestar, document: dict[str, Any]
) -> None:
    """Every route with a token guard documents 401 (and its security or header), every route
    with a body 400 VALIDATION_ERROR, and every error example is a problem of that route,
    under the status it is answered with, as problem+json."""
    facts = openapi.route_facts(app)
    for method, path, operation in _operations(document):
        key = f"{method} {path}"
        fact = facts[key]
        responses = operation["responses"]
        if _TOKEN_GUARDS & set(fact.guards):
            assert "401" in responses, key
        if {"access_guard", "booking_guard"} & set(fact.guards):
            assert operation.get("security") == [{"accessToken": []}], key
        if "operator_guard" in fact.guards:
            assert operation.get("security") == [{"operatorToken": []}], key
        if "requestBody" in operation:
            assert "VALIDATION_ERROR" in responses["400"]["content"][problems.PROBLEM_JSON][
                "examples"], key
        for status, response in responses.items():
            if int(status) < 400:
                continue
            content = response["content"]
            own = set(openapi.OWN_ERRORS.get(key, {}).get(int(status), ())[:1])
            assert set(content) <= {problems.PROBLEM_JSON, "text/html", *own}, (key, status)
            assert problems.PROBLEM_JSON in content, (key, status)
            for code, example in content[problems.PROBLEM_JSON]["examples"].items():
                assert code in fact.codes, (key, code)
                assert example["value"]["status"] == int(status), (key, code)
                assert example["value"] == EXAMPLES[code].example


def test_the_lock_route_documents_what_it_answers(document: dict[str, Any]) -> None:
    """The lock: 401 for a missing or expired token, 403 for another show's, 409 with the
    seats' problems, 422 for seats that do not exist (the document once said 200/400/409)."""
    lock = document["paths"]["/api/v1/bookings/lock"]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "409", "413", "422", "503"} <= set(lock)
    unauthorized = lock["401"]["content"][problems.PROBLEM_JSON]["examples"]
    assert set(unauthorized) == {"TOKEN_INVALID", "TOKEN_EXPIRED"}
    conflict = lock["409"]["content"][problems.PROBLEM_JSON]["examples"]["SEAT_UNAVAILABLE"]
    assert conflict["value"]["unavailableSeats"] == ["C7", "C8"]
    assert "UNKNOWN_SEATS" in lock["422"]["content"][problems.PROBLEM_JSON]["examples"]


def test_headers_are_declared(document: dict[str, Any]) -> None:
    """X-Queue-Token, Idempotency-Key and X-Signature are parameters of the routes that read
    them; Authorization is each guarded route's security (OpenAPI ignores a header parameter
    of that name)."""

    def headers(method: str, path: str) -> dict[str, dict[str, Any]]:
        operation = document["paths"][path][method]
        return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}

    for path in ("/api/v1/queue/{showId}/status", "/api/v1/queue/{showId}/leave"):
        method = "get" if path.endswith("status") else "delete"
        assert "X-Queue-Token" in headers(method, path)
    assert not headers("post", "/api/v1/queue/{showId}/join")["X-Queue-Token"]["required"]
    assert headers("post", "/api/v1/bookings")["Idempotency-Key"]["required"]
    assert headers("post", "/api/v1/payments/webhook")["X-Signature"]["required"]
    assert document["paths"]["/api/v1/bookings/lock"]["post"]["security"] == [
        {"accessToken": []}]
    assert document["components"]["securitySchemes"]["accessToken"]["scheme"] == "bearer"


def test_examples_are_fixed_not_generated(app: Litestar, settings: Settings) -> None:
    """No handler lets Litestar invent examples (random e-mails and names), so the document
    is the same on every build."""
    assert openapi.without_generated_examples(app) == []
    again = create_app(settings, services=None).openapi_schema.to_schema()
    assert again == app.openapi_schema.to_schema()


async def test_no_token_and_an_empty_body_is_401_not_400(client: httpx.AsyncClient) -> None:
    """The access token is checked before the body is read."""
    for path in ("/api/v1/bookings/lock", "/api/v1/bookings"):
        for body in (b"", b"{}", b"not json"):
            response = await client.post(path, content=body,
                                         headers={"Content-Type": "application/json"})
            assert response.status_code == 401, (path, body, response.text)
            assert response.json()["error"] == "TOKEN_INVALID"
            assert response.headers["content-type"] == problems.PROBLEM_JSON


async def test_an_expired_access_token_is_token_expired(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """A genuine token past its time: 401 TOKEN_EXPIRED, whose help page says what to do."""
    show = await make_show(rows=1, seats_per_row=2)
    response = await client.post("/api/v1/bookings/lock",
                                 json={"showId": show.id, "seatIds": ["A1"]},
                                 headers=bearer(access_token(show.id, ttl_seconds=-60)))
    assert (response.status_code, response.json()["error"]) == (401, "TOKEN_EXPIRED")
    assert response.json()["type"] == "/help/token-expired"
    assert (await client.get("/help/token-expired")).status_code == 200


@pytest.mark.parametrize("language", ["en", "hi"])
async def test_every_problem_code_has_a_help_page(client: httpx.AsyncClient,
                                                  language: str) -> None:
    """The ``type`` of every problem resolves to a page, in both languages."""
    assert set(BY_SLUG) == {help_slug(code) for code in EXAMPLES}
    for code, doc in EXAMPLES.items():
        response = await client.get(doc.example["type"], params={"lang": language},
                                    headers={"Accept": "text/html"})
        assert response.status_code == 200, code
        assert response.headers["content-type"].startswith("text/html")
        assert f'lang="{language}"' in response.text
        if "data-problem-code" in response.text:  # the reference page (not a fan's page)
            assert f"<code data-problem-code>{code}</code>" in response.text
    missing = await client.get("/help/no-such-code", headers={"Accept": "text/html"})
    assert missing.status_code == 404
    client.cookies.clear()  # ?lang= chose a language for this (session-wide) client


def _fill(path: str, value: str) -> str:
    out, depth, name = [], 0, ""
    for char in path:
        if char == "{":
            depth, name = 1, ""
        elif char == "}":
            depth = 0
            out.append(value)
        elif depth:
            name += char
        else:
            out.append(char)
    return "".join(out)


async def test_every_route_answers_only_what_it_documents(
    client: httpx.AsyncClient, document: dict[str, Any], make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Each documented route, called without credentials, then with valid ones, with an empty,
    a malformed and an empty-object body, on unknown and on malformed ids: every answer's
    status is documented for that route, and every problem's code is one of that status."""
    show = await make_show(rows=1, seats_per_row=2)
    access = access_token(show.id)
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    seen = 0
    wrong: set[tuple[str, str, str, str]] = set()
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        for ident in (str(uuid.uuid4()), show.id, "not-an-id"):
            url = _fill(path, ident)
            for credentials in ({}, bearer(access), operator):
                for body in (None, b"", b"{", b"{}"):
                    headers = {"Accept": "application/json", **credentials}
                    content = body
                    if body is not None:
                        headers["Content-Type"] = "application/json"
                    if path == "/api/v1/payments/webhook" and body == b"{}":
                        content, signed_headers = signed({})
                        headers.update(signed_headers)
                    response = await client.request(method, url, content=content,
                                                    headers=headers)
                    seen += 1
                    where = (method, url, credentials.keys(), body, response.text[:200])
                    status = str(response.status_code)
                    if response.status_code < 400:
                        if not any(s < "400" for s in responses):
                            wrong.add((f"{method} {path}", status, "", "undocumented success"))
                        continue
                    media = response.headers.get("content-type", "").split(";")[0]
                    if media != problems.PROBLEM_JSON:  # a page's error page
                        if media not in responses.get(status, {}).get("content", {}):
                            wrong.add((f"{method} {path}", status, media, response.text[:80]))
                        continue
                    problem = response.json()
                    if status not in responses or problem["error"] not in responses[status][
                            "content"][problems.PROBLEM_JSON]["examples"]:
                        wrong.add((f"{method} {path}", status, problem["error"], str(where)))
                    elif problem["type"] != f"/help/{help_slug(problem['error'])}":
                        wrong.add((f"{method} {path}", status, problem["error"], "type"))
    assert not wrong, "undocumented answers:\n" + "\n".join(
        f"{route} {status} {code}: {why}" for route, status, code, why in sorted(wrong))
    assert seen > 1000
