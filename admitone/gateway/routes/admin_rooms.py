"""Operator routes of waiting rooms (CONTRACT.md "Operator"): set up, change live, read stats,
revoke a visitor. Every change is written to the audit log with who and what."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Router, get, patch, post, put

from admitone.admission.models import RoomStats, WaitingRoomIn, WaitingRoomPatch
from admitone.gateway.auth import operator_guard, services
from admitone.gateway.client import client_ip
from admitone.gateway.routes.queue import admission
from admitone.queue.models import WaitingRoom

_NAME = re.compile(r"^[\w .@-]{1,64}$")


def actor(request: Request[Any, Any, Any]) -> str:
    """Who made the change: ``operator`` (the shared token), with the name an operator tool
    sends as ``X-Operator`` and the client's address."""
    name = request.headers.get("x-operator", "")
    ip = client_ip(request, services(request).settings.trusted_proxy_hops)
    who = f"operator:{name}" if _NAME.match(name) else "operator"
    return f"{who}@{ip}"


@put("/shows/{show_id:str}/waiting-room", summary="Set up (or replace) a show's waiting room")
async def put_room(
    request: Request[Any, Any, Any], show_id: str, data: WaitingRoomIn
) -> WaitingRoom:
    return await admission(request).settings.put(show_id, data, actor(request))


@patch("/shows/{show_id:str}/waiting-room",
       summary="Change some settings live (rate, capacity, paused…): effective within 2 s")
async def patch_room(
    request: Request[Any, Any, Any], show_id: str, data: WaitingRoomPatch
) -> WaitingRoom:
    return await admission(request).settings.patch(show_id, data, actor(request))


@get("/shows/{show_id:str}/waiting-room", summary="A show's waiting-room settings")
async def get_room(request: Request[Any, Any, Any], show_id: str) -> WaitingRoom:
    return await admission(request).settings.get(show_id)


@get("/shows/{show_id:str}/waiting-room/stats", summary="Waiting, active, admitted, rates")
async def room_stats(request: Request[Any, Any, Any], show_id: str) -> RoomStats:
    return await admission(request).rooms.stats(show_id)


@post("/shows/{show_id:str}/visitors/{visitor_id:str}/revoke", status_code=204,
      summary="Revoke a visitor: its access token stops working at once")
async def revoke_visitor(request: Request[Any, Any, Any], show_id: str, visitor_id: str) -> None:
    await admission(request).revocations.revoke(show_id, visitor_id, actor(request))


router = Router(
    path="/api/v1/admin",
    route_handlers=[put_room, patch_room, get_room, room_stats, revoke_visitor],
    guards=[operator_guard],
    tags=["operator: waiting rooms"],
    security=[{"operatorToken": []}],
)
