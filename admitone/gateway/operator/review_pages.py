"""The console's fraud review (README "Fraud review"): ``GET /admin/reviews`` lists the
bookings held for review with their reasons; ``POST /admin/reviews/{bookingId}/approve`` and
``…/reject`` decide one, confirmed first (the page's dialog, or without JavaScript a
confirmation page) and audited as the operator. Forms carry the console's single-use token."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from admitone import errors
from admitone.booking_core.review import Decision, ReviewService
from admitone.gateway import i18n
from admitone.gateway.operator.access import actor, checked_form, render

DECISIONS: tuple[Decision, ...] = ("approve", "reject")


def _reviews(reviews: ReviewService | None) -> ReviewService:
    if reviews is None:
        raise errors.DependencyUnavailableError("PostgreSQL")
    return reviews


@get("/reviews")
async def reviews_page(request: Request[Any, Any, Any], reviews: ReviewService | None) -> Template:
    loc = i18n.locale_for(request)
    items = await _reviews(reviews).reviews(request.query_params.get("show") or None)
    done = request.query_params.get("done", "")
    reference = request.query_params.get("ref", "")[:16]
    message = (loc.t(f"op.review.done.{done}", reference=reference)
               if done in DECISIONS and reference.isalnum() else "")
    return render(request, "reviews.html", title=loc.t("op.review.title"), items=items,
                  done=message)


@post("/reviews/{booking_id:str}/{decision:str}", status_code=303)
async def decide(request: Request[Any, Any, Any], booking_id: str, decision: str,
                 reviews: ReviewService | None) -> Response[Any]:
    """Approve or reject one held booking: asked first, then decided and audited."""
    loc = i18n.locale_for(request)
    confirmed = (await request.form()).get("confirmed") == "yes"
    await checked_form(request, spend=confirmed)
    service = _reviews(reviews)
    if decision not in DECISIONS:
        raise errors.NotFoundError(f"No decision {decision[:16]!r}")
    chosen: Decision = "approve" if decision == "approve" else "reject"
    item = await service.review(booking_id)
    if item is None:
        return render(request, "message.html", title=loc.t("op.review.refused"), status_code=409,
                      heading=loc.t("op.review.refused"), message="", back="/admin/reviews")
    if not confirmed:
        seats = ", ".join(item.seat_ids)
        question = loc.t(f"op.review.confirm.{chosen}", reference=item.reference, seats=seats,
                         amount=f"{item.amount} {item.currency}")
        return render(request, "review_confirm.html", title=loc.t("op.confirm.title"),
                      question=question, action=f"/admin/reviews/{item.booking_id}/{chosen}")
    try:
        await service.decide(item.booking_id, chosen, actor(request))
    except errors.ConflictError as exc:
        return render(request, "message.html", title=loc.t("op.review.refused"), status_code=409,
                      heading=loc.t("op.review.refused"), message=exc.detail,
                      back="/admin/reviews")
    return Redirect(f"/admin/reviews?done={chosen}&ref={item.reference}", status_code=303)


ROUTES = [reviews_page, decide]
