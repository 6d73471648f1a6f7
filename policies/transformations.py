"""Claims transformations, by B2C TransformationMethod name. Each returns a function over the bag."""

from datetime import datetime
from typing import Any

from identity.oauth.errors import InvalidGrant, grant_revoked
from policies.journeys import Transformation


def create_string_claim(*, value: str, output: str) -> Transformation:
    """CreateStringClaim: a constant string into `output`."""
    def run(claims: dict[str, Any]) -> None:
        claims[output] = value
    return run


def assert_datetime_is_greater_than(
    *, left: str, right: str, assert_if_equal_to: bool = True, assert_if_right_operand_is_not_present: bool = True,
    error: InvalidGrant | None = None, reason: str = "",
) -> Transformation:
    """AssertDateTimeIsGreaterThan: refuse unless claims[left] > claims[right].

    With AssertIfEqualTo=false an equal pair fails too (B2C's parameter says whether equality asserts
    *success*; the seed sets it false, so "issued at" the valid-from instant is refused).
    """
    def run(claims: dict[str, Any]) -> None:
        left_value: datetime | None = claims.get(left)
        right_value: datetime | None = claims.get(right)
        # `reason` is the sign-in event's (the client sees B2C's text only), else the comparison that failed.
        if right_value is None:
            if assert_if_right_operand_is_not_present:
                raise error or grant_revoked(reason or f"{right} is not set.")
            return
        if left_value is None or left_value < right_value or (left_value == right_value and not assert_if_equal_to):
            raise error or grant_revoked(reason or f"{left} is not later than {right}.")
    return run


# The seed's ClaimsTransformations (b2c-ropc-custom-policy.md), by id.
SUBJECT_NOT_SUPPORTED = "Not supported currently. Use oid claim."
BUILTIN = {
    "CreateSubjectClaimFromObjectID": create_string_claim(value=SUBJECT_NOT_SUPPORTED, output="sub"),
    "AssertRefreshTokenIssuedLaterThanValidFromDate": assert_datetime_is_greater_than(
        left="refreshTokenIssuedOnDateTime", right="refreshTokensValidFromDateTime",
        assert_if_equal_to=False, assert_if_right_operand_is_not_present=True,
        reason="Sessions revoked since the token was issued (refreshTokensValidFromDateTime).",
    ),
}
