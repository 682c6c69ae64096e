"""What the booking core needs of tokens, said in its own terms.

The booking core signs tickets and booking tokens and is told who is calling, but it does not
know how tokens are made or checked: ``admission.tokens.TokenService`` satisfies
:class:`BookingTokenSigner`, and its access and booking token claims satisfy the caller
protocols, without either package importing the other (``runtime.py`` joins them).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


class BookingTokenSigner(Protocol):
    """Signs what a booking hands out (the ticket's QR payload, booking-lookup tokens, a show's
    revoked tickets) and verifies tickets for the online check."""

    def sign_ticket(self, payload: dict[str, Any]) -> str:
        """A compact JWS of ``payload`` that a venue verifies offline with the JWKS."""
        ...

    def issue_booking_token(
        self, *, booking_id: str, visitor_id: str, ttl_seconds: int, show_id: str = ""
    ) -> str:
        """A token that opens one booking (of ``show_id``) of one visitor for ``ttl_seconds``."""
        ...

    def sign_revocation_list(self, payload: dict[str, Any]) -> str:
        """A compact JWS of a show's revoked tickets, verified with the same JWKS."""
        ...

    def verify_ticket(self, token: str) -> dict[str, Any]:
        """A ticket's claims (signature, issuer, audience checked; not its expiry); raises
        ``TokenInvalidError`` for anything that is not a ticket admitone signed."""
        ...


class VisitorCaller(Protocol):
    """A caller known by visitor (an access token): it may open any booking it made."""

    @property
    def sub(self) -> str: ...


@runtime_checkable
class OneBookingCaller(Protocol):
    """A caller holding a booking token: it may open that one booking of that visitor."""

    @property
    def sub(self) -> str: ...

    @property
    def booking_id(self) -> str: ...


Caller = VisitorCaller | OneBookingCaller
