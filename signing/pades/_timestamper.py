"""The project's Timestamper seen by pyHanko: pyHanko builds the RFC 3161 request (with its
nonce) and checks the answer (status, nonce); our Timestamper makes the token. No network,
no clock: the time is the Timestamper's."""

from __future__ import annotations

from asn1crypto import cms, tsp
from pyhanko.sign.timestamps.api import TimeStamper

from signing.errors import SigningError
from signing.tsa import Timestamper

__all__ = ["TOKEN_GUESS", "PyHankoTimeStamper"]

# Room reserved in a signature's /Contents for a timestamp token before one is seen: the
# built-in TSA's token with its chain is about 1.5 KiB, an external TSA's with an RSA chain
# up to 6 KiB. A larger token makes the signing run again with the room it needs.
TOKEN_GUESS = 6144


class PyHankoTimeStamper(TimeStamper):
    """pyHanko's TimeStamper answering each request with ``timestamper``'s token, wrapped in
    a granted TimeStampResp so pyHanko's own nonce and status checks run on it."""

    def __init__(self, timestamper: Timestamper) -> None:
        if not isinstance(timestamper, Timestamper):
            raise SigningError(
                f"cannot timestamp with {type(timestamper).__name__}: not a Timestamper"
            )
        super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]
        self._timestamper = timestamper
        self.largest_token = 0  # bytes of the largest token answered, to size a retry

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        imprint = req["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        digest = imprint["hashed_message"].native
        nonce = req["nonce"].native
        token = self._timestamper.timestamp(digest, hash_algorithm=algorithm, nonce=nonce)
        if not isinstance(token, bytes) or not token:
            raise SigningError("đơn vị cấp dấu thời gian không trả về dấu thời gian")
        self.largest_token = max(self.largest_token, len(token))
        try:
            content = cms.ContentInfo.load(token)
            _ = content["content"]["encap_content_info"]["content"].parsed["nonce"]
        except (ValueError, TypeError, KeyError) as exc:
            raise SigningError(f"dấu thời gian không đúng định dạng RFC 3161: {exc}") from None
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": content})
