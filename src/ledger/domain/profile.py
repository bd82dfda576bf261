"""A party's public profile — biography, links, press images — and the rules every way in shares.

Links are http or https URLs with a host (no credentials in them: a profile is shown to others);
images are blobs named by SHA-256 whose type was read from their bytes (PNG, JPEG, GIF, WebP —
never SVG, which can carry script). The pure rules live here; storing the bytes is
`ledger.profile_images`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ledger.domain.party import DomainError
from ledger.domain.text import check_text

BIOGRAPHY_MAX = 10_000
MAX_LINKS = 20
MAX_IMAGES = 12
MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_biography(text: str) -> str:
    text = text.replace("\r\n", "\n").strip()
    if len(text) > BIOGRAPHY_MAX:
        raise DomainError(f"biography: {len(text)} characters, at most {BIOGRAPHY_MAX}")
    if text:
        check_text(text, "biography", "statement")
    return text


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host, no user:password part, no control characters."""
    url = url.strip()
    check_text(url, "link url", "url")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise DomainError(f"link {url[:80]!r}: only http and https links are allowed")
    if not parts.hostname or " " in url:
        raise DomainError(f"link {url[:80]!r}: needs a host, e.g. https://example.org/")
    if parts.username is not None or parts.password is not None:
        raise DomainError(f"link {parts.hostname}: a link may not carry a user name or password")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise DomainError(f"link {parts.hostname}: malformed port") from None
    return url


def check_links(links: list[dict[str, str]]) -> list[dict[str, str]]:
    if len(links) > MAX_LINKS:
        raise DomainError(f"links: {len(links)} given, at most {MAX_LINKS}")
    out = []
    for link in links:
        label = str(link.get("label") or "").strip()
        url = check_url(str(link.get("url") or ""))
        check_text(label or url, "link label", "title")
        out.append({"label": label or url, "url": url})
    return out


def check_images(images: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(images) > MAX_IMAGES:
        raise DomainError(f"images: {len(images)}, at most {MAX_IMAGES}; remove one first")
    for image in images:
        if not _SHA256.match(str(image.get("sha256", ""))):
            raise DomainError("image: not a SHA-256")
        if image.get("content_type") not in IMAGE_TYPES:
            raise DomainError(f"image: type {image.get('content_type')!r}; expected one of {IMAGE_TYPES}")
        check_text(str(image.get("caption", "")), "image caption", "title")
    return images


def sniff_image(head: bytes) -> str | None:
    """The image type from its first bytes (magic numbers), never from a name or a header."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None
