"""Content control: what an artist or label changes about itself and its releases — a profile
(biography, links, press images), a release's title and date, a track's title, display artist
and credits, a release's minimum prices. Each change is an event with its actor; the API and the
dashboard both call these, so both validate the same way. Who may call them is the caller's
check (api.scope); these only check what the change is.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from ledger.base import LedgerBase as _Base
from ledger.domain.identifiers import parse_currency, parse_territory
from ledger.domain.party import DomainError, Party
from ledger.domain.pricing import PricingConfig
from ledger.domain.profile import check_biography, check_images, check_links
from ledger.domain.recording import Recording
from ledger.domain.release import Release
from ledger.domain.text import check_text


class ContentCommands(_Base):
    # --- profiles ---

    def update_profile(
        self,
        party_key: str,
        actor: str,
        *,
        biography: str | None = None,
        links: list[dict[str, str]] | None = None,
        images: list[dict[str, Any]] | None = None,
    ) -> tuple[Party, bool]:
        """Change the named parts of a party's profile (None: keep); returns (party, changed)."""
        party = self.get_party(party_key)
        now = party.profile
        new_bio = now["biography"] if biography is None else check_biography(biography)
        new_links = now["links"] if links is None else check_links(links)
        new_images = now["images"] if images is None else check_images(images)
        if (new_bio, new_links, new_images) == (now["biography"], now["links"], now["images"]):
            return party, False
        party.update_profile(biography=new_bio, links=new_links, images=new_images, actor=actor)
        self.save(party)
        return party, True

    def add_profile_image(
        self, party_key: str, sha256: str, content_type: str, size_bytes: int, caption: str, actor: str
    ) -> tuple[Party, bool]:
        """Add a stored image to the profile (the same image twice: its caption changes)."""
        check_text(caption, "caption", "title")
        images = [i for i in self.get_party(party_key).profile["images"] if i["sha256"] != sha256]
        entry = {"sha256": sha256, "content_type": content_type, "size_bytes": size_bytes, "caption": caption}
        return self.update_profile(party_key, actor, images=[*images, entry])

    def remove_profile_image(self, party_key: str, sha256: str, actor: str) -> tuple[Party, bool]:
        images = self.get_party(party_key).profile["images"]
        kept = [i for i in images if i["sha256"] != sha256]
        if len(kept) == len(images):
            raise DomainError(f"party {party_key} has no image {sha256[:12]}…")
        return self.update_profile(party_key, actor, images=kept)

    # --- releases and their tracks ---

    def edit_release(
        self, upc: str, actor: str, *, title: str | None = None, release_date: date | None = None
    ) -> tuple[Release, bool]:
        """A release's title and date as its label says (tracks and territories come by delivery)."""
        rel = self.find_release(upc)
        changes: dict[str, Any] = {}
        if title is not None and title != rel.title:
            changes["title"] = check_text(title.strip(), "title", "title")
            if not changes["title"]:
                raise DomainError(f"release {rel.upc}: the title may not be empty")
        if release_date is not None and release_date != rel.release_date:
            changes["release_date"] = release_date
        if not changes:
            return rel, False
        rel.redeliver(changes=changes, actor=actor)
        self.save(rel)
        return rel, True

    def edit_recording(
        self,
        isrc: str,
        actor: str,
        *,
        title: str | None = None,
        display_artist: str | None = None,
        credits: list[dict[str, str]] | None = None,
    ) -> tuple[Recording, bool]:
        """A track's title, display artist and credits, through the delivery's own checks
        (credit roles, registered parties); duration and work stay as delivered."""
        rec = self.get_recording(isrc)
        return self.upsert_recording(  # type: ignore[attr-defined,no-any-return]
            rec.isrc,
            rec.title if title is None else title.strip(),
            rec.display_artist if display_artist is None else display_artist.strip(),
            rec.duration_ms,
            actor,
            rec.work_key,
            rec.credits if credits is None else credits,
        )

    # --- a release's prices ---

    def release_prices(self, upc: str) -> dict[str, Any]:
        """The minimum prices in force for a release: everywhere and by territory (micros)."""
        rel = self.find_release(upc)
        current = self.current_pricing()  # type: ignore[attr-defined]
        config: PricingConfig | None = current[1] if current else None
        return {
            "upc": rel.upc,
            "pricing_version": current[0] if current else None,
            "minimums": dict(config.min_price_by_release.get(rel.upc, {})) if config else {},
            "territory_minimums": {
                t: dict(m)
                for t, m in (config.min_price_by_release_territory.get(rel.upc, {}) if config else {}).items()
            },
        }

    def set_release_prices(
        self,
        upc: str,
        minimums: dict[str, int],
        territory_minimums: dict[str, dict[str, int]],
        reason: str,
        actor: str,
    ) -> tuple[int, bool]:
        """Record a pricing version with this release's minimums (pay what you want, at least
        this much) replaced — everywhere and per territory; other releases' stay as they were.
        Returns (the version in force, whether a new one was recorded)."""
        rel = self.find_release(upc)
        current = self.current_pricing()  # type: ignore[attr-defined]
        if current is None:
            raise DomainError("no pricing is configured yet: an operator sets it first (royalty pricing set)")
        check_text(reason or "price change", "reason", "reason")
        everywhere = _by_currency(minimums)
        local = {parse_territory(t): _by_currency(m) for t, m in territory_minimums.items()}
        local = {t: m for t, m in local.items() if m}
        config: PricingConfig = current[1]
        by_release = {k: v for k, v in config.min_price_by_release.items() if k != rel.upc}
        by_territory = {k: v for k, v in config.min_price_by_release_territory.items() if k != rel.upc}
        if everywhere:
            by_release[rel.upc] = everywhere
        if local:
            by_territory[rel.upc] = local
        new = replace(config, min_price_by_release=by_release, min_price_by_release_territory=by_territory)
        if new == config:
            return current[0], False
        version: int = self.set_pricing(new, reason or f"prices of release {rel.upc}", actor)  # type: ignore[attr-defined]
        return version, True


def _by_currency(amounts: dict[str, int]) -> dict[str, int]:
    out = {}
    for currency, micros in amounts.items():
        if not isinstance(micros, int) or isinstance(micros, bool) or micros < 0:
            raise DomainError(f"price in {currency}: a non-negative whole number of micro-units")
        out[parse_currency(currency)] = micros
    return dict(sorted(out.items()))
