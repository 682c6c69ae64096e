"""One place per person: a verified identity (an e-mail code, or a booking frontend's signed
account header) holds one place per room; a second place is merged into the better one, the
merge is counted, and the seat limit follows the identity."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from admitone.runtime import Services
from admitone.settings import Settings
from tests.conftest import MakeShow
from tests.integration.queue_support import OPERATOR, app_client, join, put_room, status

FRONTEND_SECRET = "frontend-identity-secret-0123456789abcdef"


def _signed(account: str, secret: str = FRONTEND_SECRET, **claims: Any) -> str:
    body = {"sub": account, "aud": "admitone-identity", "exp": int(time.time()) + 300, **claims}
    return jwt.encode(body, secret, algorithm="HS256")


@pytest.fixture(scope="module")
async def signed_client(
    make_settings: Callable[..., Settings],
) -> Any:
    """An app whose booking frontend signs its fans' account ids."""
    async with app_client(make_settings(identity_secret=FRONTEND_SECRET)) as pair:
        yield pair


async def _code_for(services: Services, email: str) -> str:
    """Deliver the outbox and read the code from the message it recorded."""
    await services.outbox.run_once()
    subject = await services.pool.fetchval(
        "SELECT subject FROM notifications WHERE recipient = $1 ORDER BY id DESC LIMIT 1", email
    )
    assert subject is not None, "no code was sent"
    return str(subject).rsplit(" ", 1)[-1]


async def test_an_email_code_gives_one_place_per_address(
    client: httpx.AsyncClient, make_show: MakeShow, services: Services
) -> None:
    """The e-mailed code buys an identity token; two devices joining with it get one place
    (the same visitor and ticket), and a wrong code is refused without changing anything."""
    show = (await make_show()).id
    await put_room(client, show, paused=True)
    email = f"fan-{uuid.uuid4().hex[:8]}@example.com"
    sent = await client.post(f"/api/v1/queue/{show}/identity", json={"email": email})
    assert sent.status_code == 202, sent.text
    code = await _code_for(services, email)
    wrong = await client.post(f"/api/v1/queue/{show}/identity/verify",
                              json={"email": email, "code": "000000" if code != "000000" else "1"})
    assert wrong.status_code == 422
    assert wrong.json()["error"] == "IDENTITY_CODE_INVALID"
    verified = await client.post(f"/api/v1/queue/{show}/identity/verify",
                                 json={"email": email.upper(), "code": code})
    assert verified.status_code == 200, verified.text
    identity = verified.json()["identityToken"]
    reused = await client.post(f"/api/v1/queue/{show}/identity/verify",
                               json={"email": email, "code": code})
    assert reused.status_code == 422  # a code works once
    phone = (await join(client, show, **{"X-Identity-Token": identity})).json()
    laptop = (await join(client, show, **{"X-Identity-Token": identity})).json()
    assert phone["ticketNumber"] == laptop["ticketNumber"]
    assert jwt.decode(phone["token"], options={"verify_signature": False})["sub"] == \
        jwt.decode(laptop["token"], options={"verify_signature": False})["sub"]
    stranger = (await join(client, show)).json()
    assert stranger["ticketNumber"] == phone["ticketNumber"] + 1


async def test_a_second_place_is_merged_into_the_better_one_and_counted(
    signed_client: tuple[Services, httpx.AsyncClient], make_show: MakeShow
) -> None:
    """A fan queued on two devices without proof, then signs in on both: the earlier place is
    kept, the later one leaves the queue (410 on its token) and the room counts one merge."""
    _services, client = signed_client
    show = (await make_show()).id
    await put_room(client, show, paused=True)
    early = (await join(client, show)).json()
    others = [(await join(client, show)).json() for _ in range(3)]
    late = (await join(client, show)).json()
    header = _signed("account-42")
    kept_late = (await join(client, show, late["token"], **{"X-Identity": header})).json()
    assert kept_late["ticketNumber"] == late["ticketNumber"]  # first proof: its own place
    merged = (await join(client, show, early["token"], **{"X-Identity": header})).json()
    assert merged["ticketNumber"] == early["ticketNumber"]  # the better place is kept
    assert merged["position"] == 1
    assert (await status(client, show, late["token"])).status_code == 410
    third = (await status(client, show, others[2]["token"])).json()
    assert third["position"] == 4  # the merged-away place no longer counts ahead of anyone
    stats = (await client.get(f"/api/v1/admin/shows/{show}/waiting-room/stats",
                              headers=OPERATOR)).json()
    assert stats["mergedDuplicates"] == 1
    assert stats["waiting"] == 4


async def test_forged_or_foreign_identities_are_refused(
    signed_client: tuple[Services, httpx.AsyncClient], make_show: MakeShow
) -> None:
    """A header signed with another secret, an expired one, and an identity token of another
    show are 401 problems; nothing joins."""
    services, client = signed_client
    show, other = (await make_show()).id, (await make_show()).id
    await put_room(client, show, paused=True)
    await put_room(client, other, paused=True)
    forged = await join(client, show, **{"X-Identity": _signed("a-1", secret="x" * 40)})
    expired = await join(client, show, **{"X-Identity": _signed("a-1", exp=int(time.time()) - 5)})
    foreign = services.admission.identities.issue_token(other, "e:abc")
    wrong_show = await join(client, show, **{"X-Identity-Token": foreign})
    tampered = await join(client, show, **{"X-Identity-Token": foreign.replace(other, show)})
    for answer in (forged, expired, wrong_show, tampered):
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"] == "IDENTITY_INVALID"
    stats = (await client.get(f"/api/v1/admin/shows/{show}/waiting-room/stats",
                              headers=OPERATOR)).json()
    assert stats["waiting"] == 0


async def test_a_room_can_require_a_verified_identity(
    signed_client: tuple[Services, httpx.AsyncClient], make_show: MakeShow
) -> None:
    """With identityRequired a join without proof is a 403 IDENTITY_REQUIRED; with one it
    queues."""
    _services, client = signed_client
    show = (await make_show()).id
    room = await put_room(client, show, paused=True, identityRequired=True)
    assert room["identityRequired"] is True
    refused = await join(client, show)
    assert refused.status_code == 403
    assert refused.json()["error"] == "IDENTITY_REQUIRED"
    admitted = await join(client, show, **{"X-Identity": _signed("account-7")})
    assert admitted.status_code == 200, admitted.text


async def test_the_seat_limit_follows_the_identity(
    signed_client: tuple[Services, httpx.AsyncClient], make_show: MakeShow
) -> None:
    """Joining again with the same identity gives the same visitor, so the per-visitor seat
    limit (2 here) holds across devices: the second device cannot lock two more seats."""
    services, client = signed_client
    show = await make_show(max_seats_per_visitor=2)
    await put_room(client, show.id, releaseRatePerMinute=60_000)
    header = {"X-Identity": _signed("account-scalper")}
    first = (await join(client, show.id, **header)).json()
    second = (await join(client, show.id, **header)).json()
    visitor = jwt.decode(first["token"], options={"verify_signature": False})["sub"]
    assert jwt.decode(second["token"], options={"verify_signature": False})["sub"] == visitor
    token = services.tokens.issue_access_token(show_id=show.id, visitor_id=visitor,
                                               expires_at=int(time.time()) + 300)
    auth = {"Authorization": f"Bearer {token}"}
    locked = await client.post("/api/v1/bookings/lock", json={"showId": show.id,
                                                             "seatIds": ["A1", "A2"]}, headers=auth)
    assert locked.status_code == 200, locked.text
    again = await client.post("/api/v1/bookings/lock", json={"showId": show.id,
                                                            "seatIds": ["A3", "A4"]}, headers=auth)
    assert again.status_code == 409
    assert again.json()["error"] == "SEAT_LIMIT_EXCEEDED"
