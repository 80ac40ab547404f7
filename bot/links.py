"""Signed, expiring links to files the app serves (itsdangerous): nobody can guess another
leader's link, and a link forwarded to a stranger stops working after a day."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

LINK_MAX_AGE = 24 * 3600  # seconds


class LinkError(Exception):
    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


class Links:
    def __init__(self, secret_key: str, public_base_url: str | None, max_age: int = LINK_MAX_AGE):
        self._serializer = URLSafeTimedSerializer(secret_key, salt="file-link")
        self.public_base_url = (public_base_url or "").rstrip("/") or None
        self.max_age = max_age

    def token(self, kind: str, **payload: Any) -> str:
        return self._serializer.dumps({"k": kind, **payload})

    def url(self, path: str, kind: str, **payload: Any) -> str | None:
        """The HTTPS address for a signed token, or None when PUBLIC_BASE_URL is not set."""
        if self.public_base_url is None:
            return None
        return f"{self.public_base_url}{path}/{self.token(kind, **payload)}"

    def certificate_url(self, decision_id: int, leader_id: int) -> str | None:
        """The leader's own certificate link, pushed with her committee result."""
        return self.url("/files/certificate", "certificate", d=decision_id, u=leader_id)

    def load(self, token: str, kind: str, max_age: int | None = None) -> dict[str, Any]:
        try:
            payload = self._serializer.loads(token, max_age=max_age or self.max_age)
        except SignatureExpired:
            raise LinkError(expired=True) from None
        except BadSignature:
            raise LinkError(expired=False) from None
        if not isinstance(payload, dict) or payload.get("k") != kind:
            raise LinkError(expired=False)
        return payload
