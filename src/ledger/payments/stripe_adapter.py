"""The one home of the stripe library: settings from the environment, webhook verification, transfers.

Keys and secrets come from ROYALTY_STRIPE_API_KEY and ROYALTY_STRIPE_WEBHOOK_SECRET and are never
logged: reprs and error messages redact them. ROYALTY_STRIPE_API_BASE points the client at an
emulator or a local test server instead of api.stripe.com.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import stripe

from ledger.payments.gateway import TransferDeclined, TransferRecord, TransferUncertain

API_KEY_ENV = "ROYALTY_STRIPE_API_KEY"
WEBHOOK_SECRET_ENV = "ROYALTY_STRIPE_WEBHOOK_SECRET"  # noqa: S105 - the variable's name, not a secret
API_BASE_ENV = "ROYALTY_STRIPE_API_BASE"
WEBHOOK_TOLERANCE_S = 300  # Stripe's default: older signed timestamps are replays
PAYOUT_METADATA_KEY = "royalty_payout_id"


class StripeNotConfigured(RuntimeError):
    """A setting the operation needs is missing from the environment."""


class WebhookRejected(ValueError):
    """Unsigned, stale, mismatched or unreadable: answer 400 and record nothing."""


@dataclass(frozen=True)
class StripeSettings:
    api_key: str = field(default="", repr=False)
    webhook_secret: str = field(default="", repr=False)
    api_base: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StripeSettings:
        source = os.environ if env is None else env
        base = (source.get(API_BASE_ENV) or "").strip() or None
        if base is not None and not base.startswith(("http://", "https://")):
            raise StripeNotConfigured(f"{API_BASE_ENV}: expected an http(s) URL")
        return cls(
            api_key=(source.get(API_KEY_ENV) or "").strip(),
            webhook_secret=(source.get(WEBHOOK_SECRET_ENV) or "").strip(),
            api_base=base,
        )

    def __repr__(self) -> str:
        shown = {"api_key": bool(self.api_key), "webhook_secret": bool(self.webhook_secret)}
        flags = ", ".join(f"{k}={'<set>' if v else '<unset>'}" for k, v in shown.items())
        return f"StripeSettings({flags}, api_base={self.api_base!r})"

    def redact(self, text: str) -> str:
        for secret in (self.api_key, self.webhook_secret):
            if secret:
                text = text.replace(secret, "<redacted>")
        return text

    def require_webhook_secret(self) -> str:
        if not self.webhook_secret:
            raise StripeNotConfigured(f"set {WEBHOOK_SECRET_ENV} to the endpoint's signing secret")
        return self.webhook_secret


def verify_webhook(payload: bytes, signature: str | None, settings: StripeSettings) -> dict[str, Any]:
    """The library's own check (HMAC-SHA256 of "t.payload", timestamp tolerance), then the JSON."""
    if not signature:
        raise WebhookRejected("missing Stripe-Signature header")
    try:
        stripe.Webhook.construct_event(
            payload, signature, settings.require_webhook_secret(), tolerance=WEBHOOK_TOLERANCE_S
        )
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected(settings.redact(f"signature check failed: {exc.user_message or exc}")) from None
    except ValueError:
        raise WebhookRejected("payload is not JSON") from None
    except RecursionError:
        raise WebhookRejected("payload is JSON nested too deep to read") from None
    event = json.loads(payload)
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise WebhookRejected("payload is not a Stripe event")
    return event


def _record(stripe_transfer: Any) -> TransferRecord:
    transfer: dict[str, Any] = stripe_transfer.to_dict()
    metadata = transfer.get("metadata") or {}
    return TransferRecord(
        transfer_id=str(transfer["id"]),
        payout_id=metadata.get(PAYOUT_METADATA_KEY),
        amount_minor=int(transfer["amount"]),
        currency=str(transfer["currency"]).upper(),
        destination=str(transfer.get("destination") or ""),
        reversed_minor=int(transfer.get("amount_reversed") or 0),
    )


class StripeTransfers:
    """Connect transfers from the platform account to connected accounts (the TransferGateway)."""

    def __init__(self, settings: StripeSettings) -> None:
        if not settings.api_key:
            raise StripeNotConfigured(f"set {API_KEY_ENV} to send or list transfers")
        self._settings = settings
        bases: Any = {"api": settings.api_base} if settings.api_base else None
        # Network retries reuse the idempotency key, so a retried create cannot pay twice.
        self._client = stripe.StripeClient(settings.api_key, base_addresses=bases, max_network_retries=2)

    def __repr__(self) -> str:
        return f"StripeTransfers({self._settings!r})"

    def find_transfer(self, payout_id: str) -> TransferRecord | None:
        params: Any = {"transfer_group": payout_id, "limit": 100}
        try:
            for transfer in self._client.v1.transfers.list(params=params).auto_paging_iter():
                record = _record(transfer)
                if record.payout_id == payout_id:
                    return record
        except stripe.StripeError as exc:
            raise TransferUncertain(self._message("listing transfers", exc)) from None
        return None

    def create_transfer(
        self,
        payout_id: str,
        amount_minor: int,
        currency: str,
        destination: str,
        metadata: dict[str, str],
    ) -> TransferRecord:
        params: Any = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "destination": destination,
            "transfer_group": payout_id,
            "metadata": {**metadata, PAYOUT_METADATA_KEY: payout_id},
        }
        try:
            transfer = self._client.v1.transfers.create(params=params, options={"idempotency_key": payout_id})
        except (stripe.InvalidRequestError, stripe.CardError, stripe.PermissionError) as exc:
            raise TransferDeclined(self._message("sending", exc)) from None
        except stripe.StripeError as exc:  # 5xx, 429, network, auth, or the key reused differently
            raise TransferUncertain(self._message("sending", exc)) from None
        return _record(transfer)

    def list_transfers(self) -> Iterator[TransferRecord]:
        params: Any = {"limit": 100}
        try:
            for transfer in self._client.v1.transfers.list(params=params).auto_paging_iter():
                yield _record(transfer)
        except stripe.StripeError as exc:
            raise TransferUncertain(self._message("listing transfers", exc)) from None

    def _message(self, doing: str, exc: stripe.StripeError) -> str:
        status = f" (HTTP {exc.http_status})" if exc.http_status else ""
        return self._settings.redact(f"Stripe {doing}{status}: {exc.user_message or exc}")
