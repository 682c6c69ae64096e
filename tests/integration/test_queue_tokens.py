"""Attacks on queue and access tokens, the proof of work on join, and the per-IP join limit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from admitone.admission.pow import ProofOfWork, solve
from admitone.admission.tokens import QUEUE_AUDIENCE
from admitone.gateway.app import create_app
from admitone.queue.keys import join_limit_key
from admitone.runtime import Services
from admitone.settings import Settings
from tests.conftest import MakeShow, bearer
from tests.integration.queue_support import (
    OPERATOR,
    admission_of,
    admit_one,
    app_client,
    join,
    put_room,
    status,
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, object], claims: dict[str, object]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def _attacks(services: Services, genuine: str) -> dict[str, str]:
    """Tokens an attacker could make from a genuine queue token, by name."""
    key = services.tokens.keys.current
    claims = jwt.decode(genuine, options={"verify_signature": False})
    public_pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_body = _unsigned({"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims)
    hs_sig = _b64(hmac.new(public_pem, hs_body.encode(), hashlib.sha256).digest())
    head, _, signature = genuine.split(".")
    moved = {**claims, "tkt": 1, "sub": "someone-else"}
    exact_head = head.encode()
    other_secret = _b64(hmac.new(b"a guessed secret", f"{head}.{genuine.split('.')[1]}".encode(),
                                 hashlib.sha256).digest())
    public_raw = key.public_key.public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)
    moved_body = _b64(json.dumps(moved).encode())
    with_public_raw = _b64(hmac.new(public_raw, f"{head}.{moved_body}".encode(),
                                    hashlib.sha256).digest())
    assert exact_head.startswith(b"eyJ")
    return {
        "HMAC forged with another secret": f"{head}.{genuine.split('.')[1]}.{other_secret}",
        "HMAC with the raw public key": f"{head}.{moved_body}.{with_public_raw}",
        "HMAC under an unknown kid": jwt.encode(claims, "x" * 32, algorithm="HS256",
                                                headers={"kid": "no-such-key"}),
        "HMAC expired": services.tokens.issue_queue_token(
            show_id=claims["showId"], visitor_id=claims["sub"], ticket=claims["tkt"],
            epoch=claims["ep"], binding=claims["cnf"], ttl_seconds=-100),
        "forged with another key": jwt.encode(
            claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": key.kid}),
        "alg none": _unsigned({"alg": "none", "typ": "JWT", "kid": key.kid}, claims) + ".",
        "HS256 with the public key": f"{hs_body}.{hs_sig}",
        "claims changed, signature kept": f"{head}.{_b64(json.dumps(moved).encode())}.{signature}",
        "expired": services.tokens._sign({**claims, "iat": 1, "nbf": 1, "exp": 100}),
        "other audience": services.tokens._sign({**claims, "aud": "admitone-booking"}),
        "access token as queue token": services.tokens.issue_access_token(
            show_id=claims["showId"], visitor_id=claims["sub"], expires_at=int(time.time()) + 60),
        "garbage": "not.a.token",
    }


async def test_forged_and_foreign_queue_tokens_are_refused(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow
) -> None:
    """Forged (Ed25519 or HMAC), alg none, HS256 with the public key, tampered, expired (both
    kinds), other-audience and other tokens are refused with 401 by status, join and leave;
    nothing is read or changed."""
    show = await make_show()
    await put_room(client, show.id)
    genuine = (await join(client, show.id)).json()["token"]
    assert jwt.decode(genuine, options={"verify_signature": False})["aud"] == QUEUE_AUDIENCE
    for name, token in _attacks(services, genuine).items():
        for response in (
            await status(client, show.id, token), await join(client, show.id, token),
            await client.delete(f"/api/v1/queue/{show.id}/leave", headers={"X-Queue-Token": token}),
        ):
            assert response.status_code == 401, (name, response.text)
            expected = "TOKEN_EXPIRED" if "expired" in name else "TOKEN_INVALID"
            assert response.json()["error"] == expected, name
    place = (await status(client, show.id, genuine)).json()
    assert (place["position"], place["totalInQueue"]) == (1, 1)


async def test_queue_tokens_are_hmacs_and_ed25519_ones_of_before_still_hold(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow
) -> None:
    """A queue token is an HS256 JWT under the signing key's derived queue secret (never the
    public key), not usable as an access token; a queue token signed with Ed25519 before the
    change keeps its place until it expires."""
    show = await make_show()
    await put_room(client, show.id)
    genuine = (await join(client, show.id)).json()["token"]
    header = jwt.get_unverified_header(genuine)
    key = services.tokens.keys.current
    assert header == {"alg": "HS256", "kid": key.kid, "typ": "JWT"}
    claims = jwt.decode(genuine, key.queue_secret, algorithms=["HS256"], audience=QUEUE_AUDIENCE)
    assert key.queue_secret not in (key.public_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw),)
    legacy = services.tokens._sign(claims)  # what issue_queue_token wrote before
    assert jwt.get_unverified_header(legacy)["alg"] == "EdDSA"
    place = (await status(client, show.id, legacy)).json()
    assert (place["status"], place["position"]) == ("WAITING", 1)
    again = await join(client, show.id, legacy)
    assert again.status_code == 200
    assert jwt.get_unverified_header(again.json()["token"])["alg"] == "HS256"
    assert (await status(client, show.id, again.json()["token"])).json()["position"] == 1
    rejected = await client.get(f"/api/v1/shows/{show.id}/seats", headers=bearer(genuine))
    assert rejected.status_code == 401


async def test_a_queue_token_of_another_show_is_refused(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """A queue token names its show: on another show it is refused (401), so nobody reads or
    takes a place elsewhere."""
    first, second = await make_show(), await make_show()
    await put_room(client, first.id)
    await put_room(client, second.id)
    token = (await join(client, first.id)).json()["token"]
    for response in (await status(client, second.id, token), await join(client, second.id, token)):
        assert response.status_code == 401


async def test_a_queue_token_replayed_by_another_client_is_refused(
    client: httpx.AsyncClient, app: object, make_show: MakeShow
) -> None:
    """A queue token works only for the client it was issued to (network and User-Agent):
    another browser or another network gets 401, a neighbour address in the same /24 does not
    matter."""
    show = await make_show()
    await put_room(client, show.id)
    token = (await join(client, show.id, **{"User-Agent": "Browser/1"})).json()["token"]
    assert (await status(client, show.id, token, **{"User-Agent": "Browser/1"})).status_code == 200
    other_agent = await status(client, show.id, token, **{"User-Agent": "Browser/2"})
    assert other_agent.status_code == 401
    assert "another client" in other_agent.json()["detail"]

    async def from_address(address: str) -> int:
        transport = httpx.ASGITransport(app=app, client=(address, 4242))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://admitone.test") as far:
            response = await status(far, show.id, token, **{"User-Agent": "Browser/1"})
            return response.status_code

    assert await from_address("203.0.113.9") == 401
    assert await from_address("127.0.0.77") == 200


async def test_access_tokens_of_another_show_expired_or_revoked_open_nothing(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """An access token of another show gets 403, an expired one 401, a revoked one 401, and
    introspection calls none of them active."""
    show, other = await make_show(), await make_show()
    await put_room(client, show.id)
    _, access = await admit_one(client, services, show.id)
    assert (await client.get(f"/api/v1/shows/{other.id}/seats",
                             headers=bearer(access))).status_code == 403
    expired = access_token(show.id, ttl_seconds=-60)
    assert (await client.get(f"/api/v1/shows/{show.id}/seats",
                             headers=bearer(expired))).status_code == 401
    visitor = jwt.decode(access, options={"verify_signature": False})["sub"]
    await client.post(f"/api/v1/admin/shows/{show.id}/visitors/{visitor}/revoke", headers=OPERATOR)
    assert (await client.get(f"/api/v1/shows/{show.id}/seats",
                             headers=bearer(access))).status_code == 401
    for token in (access, expired):
        response = await client.post("/api/v1/tokens/introspect", json={"token": token})
        assert response.json() == {"active": False}


async def test_a_room_can_ask_for_a_proof_of_work(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow
) -> None:
    """With powDifficultyBits set, join needs a solved, fresh, unused challenge of this show;
    rejoining with a queue token needs none."""
    show, other = await make_show(), await make_show()
    await put_room(client, show.id, powDifficultyBits=8)
    await put_room(client, other.id, powDifficultyBits=8)
    bare = await join(client, show.id)
    assert bare.status_code == 403
    assert bare.json()["error"] == "PROOF_OF_WORK_REQUIRED"
    assert bare.json()["difficultyBits"] == 8
    challenge = (await client.get(bare.json()["challengeUrl"])).json()
    assert challenge["difficultyBits"] == 8
    nonce = solve(challenge["challenge"], 8)
    answer = {"X-PoW-Challenge": challenge["challenge"], "X-PoW-Nonce": nonce}
    joined = await join(client, show.id, **answer)
    assert joined.status_code == 200, joined.text
    reused = await join(client, show.id, **answer)
    assert (reused.status_code, reused.json()["error"]) == (403, "PROOF_OF_WORK_INVALID")
    elsewhere = await join(client, other.id, **answer)
    assert (elsewhere.status_code, elsewhere.json()["error"]) == (403, "PROOF_OF_WORK_INVALID")
    fresh = (await client.get(f"/api/v1/queue/{show.id}/challenge")).json()["challenge"]
    wrong = next(str(n) for n in range(10_000) if hashlib.sha256(
        (fresh + str(n)).encode()).digest()[0] != 0)
    unsolved = await join(client, show.id, **{"X-PoW-Challenge": fresh, "X-PoW-Nonce": wrong})
    assert unsolved.status_code == 403
    pow_checker: ProofOfWork = admission_of(services).rooms.pow
    stale = pow_checker.issue(show.id, 8, now=time.time() - 3600)
    expired = await join(client, show.id, **{"X-PoW-Challenge": stale.text,
                                             "X-PoW-Nonce": solve(stale.text, 8)})
    assert expired.status_code == 403
    half = await join(client, show.id, **{"X-PoW-Challenge": fresh})
    assert half.status_code == 403
    again = await join(client, show.id, joined.json()["token"])
    assert again.status_code == 200
    assert again.json()["ticketNumber"] == joined.json()["ticketNumber"]


@pytest.fixture(scope="module")
async def strict(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[Services, httpx.AsyncClient]]:
    """An app that lets one address join 3 times, then 1 a second."""
    settings = make_settings(queue_join_rate_per_second=1.0, queue_join_burst=3)
    async with app_client(settings) as pair:
        yield pair


async def test_joins_are_rate_limited_per_client_address(
    strict: tuple[Services, httpx.AsyncClient], make_show: MakeShow
) -> None:
    """Past its burst one address gets 429 with Retry-After; another address is not held up,
    and a client cannot pick its address with X-Forwarded-For."""
    services, client = strict
    show = await make_show()
    await put_room(client, show.id)
    answers = [await join(client, show.id, **{"X-Forwarded-For": f"198.51.100.{n}"})
               for n in range(5)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    assert answers[3].json()["error"] == "RATE_LIMITED"
    assert int(answers[3].headers["retry-after"]) >= 1
    app = create_app(services.settings, services=services)
    transport = httpx.ASGITransport(app=app, client=("192.0.2.50", 1000))
    async with httpx.AsyncClient(transport=transport, base_url="http://admitone.test") as other:
        assert (await join(other, show.id)).status_code == 200


async def test_behind_a_trusted_proxy_the_forwarded_address_counts(
    make_settings: Callable[..., Settings], make_show: MakeShow
) -> None:
    """With ADMITONE_TRUSTED_PROXY_HOPS=1 the limit is per forwarded address (the proxy's own
    address is shared by everyone)."""
    settings = make_settings(queue_join_rate_per_second=1.0, queue_join_burst=1,
                             trusted_proxy_hops=1)
    async with app_client(settings) as (_, client):
        show = await make_show()
        await put_room(client, show.id)
        first = await join(client, show.id, **{"X-Forwarded-For": "198.51.100.1"})
        second = await join(client, show.id, **{"X-Forwarded-For": "198.51.100.2"})
        again = await join(client, show.id, **{"X-Forwarded-For": "6.6.6.6, 198.51.100.1"})
    assert [first.status_code, second.status_code, again.status_code] == [200, 200, 429]


async def test_the_join_limit_is_taken_in_the_join_script_per_show(
    strict: tuple[Services, httpx.AsyncClient], make_show: MakeShow
) -> None:
    """The join limit lives on the room's Cluster slot (``{show:<id>}``), is taken by the join
    script itself (no separate limiter key), counts per show, and a refused join changes
    nothing in the room; a show without a room is limited too."""
    services, client = strict
    show, other, roomless = await make_show(), await make_show(), await make_show()
    await put_room(client, show.id)
    await put_room(client, other.id)
    codes = [(await join(client, show.id)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    prefix = services.settings.redis_key_prefix
    bucket = join_limit_key(prefix, show.id, "127.0.0.1")
    assert f"{{show:{show.id}}}" in bucket
    assert 0 < await services.redis.pttl(bucket) <= 4000
    assert await services.redis.keys(f"{prefix}:rl:*join*") == []
    stats = (await client.get(f"/api/v1/admin/shows/{show.id}/waiting-room/stats",
                              headers=OPERATOR)).json()
    assert stats["waiting"] == 3
    assert (await join(client, other.id)).status_code == 200
    roomless_codes = {(await join(client, roomless.id)).status_code for _ in range(4)}
    assert 429 in roomless_codes


async def test_the_queue_pages_join_form_shares_the_join_limit(
    strict: tuple[Services, httpx.AsyncClient], make_show: MakeShow
) -> None:
    """The no-JS join form takes from the same bucket as the JSON join (one per post, also
    when a stale cookie makes it join afresh): past the burst it shows the busy page and
    makes no place."""
    _services, client = strict
    show = await make_show()
    await put_room(client, show.id)
    assert (await join(client, show.id)).status_code == 200
    client.cookies.set("queue_token", "stale.cookie.value", path=f"/shows/{show.id}")
    first = await client.post(f"/shows/{show.id}/queue", data={"lang": "en"})
    assert first.status_code == 303, first.text
    client.cookies.clear()
    second = await client.post(f"/shows/{show.id}/queue", data={"lang": "en"})
    assert second.status_code == 303
    busy = await client.post(f"/shows/{show.id}/queue", data={"lang": "en"})
    assert busy.status_code == 200
    assert "Lots of people are joining" in busy.text
    stats = (await client.get(f"/api/v1/admin/shows/{show.id}/waiting-room/stats",
                              headers=OPERATOR)).json()
    assert stats["waiting"] == 3
    client.cookies.clear()
