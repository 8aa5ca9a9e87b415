"""GSM-7 / UCS-2 aware SMS segment counting and truncation."""

from __future__ import annotations

# GSM 03.38 default alphabet (basic set). ESC (0x1B) is deliberately left out: it is the
# escape prefix for the extension table, not a printable character.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# GSM 03.38 extension table: each costs two septets (ESC + char).
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE = 160
GSM7_MULTI = 153  # 7 septets per part go to the concatenation header (UDH)
UCS2_SINGLE = 70
UCS2_MULTI = 67

GSM7_MARKER = "..."
UCS2_MARKER = "\u2026"  # one UCS-2 unit instead of three

# Characters that must not be left dangling at a cut (they modify what precedes them).
_DANGLING = frozenset("\u200d\ufe0e\ufe0f")


def is_gsm7(text: str) -> bool:
    """Return True if every character is in the GSM 03.38 basic or extension table."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _gsm7_weights(text: str) -> list[int]:
    """Septets per character (1 basic, 2 extension)."""
    return [2 if ch in GSM7_EXTENSION else 1 for ch in text]


def _ucs2_weights(text: str) -> list[int]:
    """UTF-16 code units per character (2 for astral characters, i.e. surrogate pairs)."""
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _pack(weights: list[int], single: int, multi: int) -> int:
    """Count segments, never splitting an escape sequence or surrogate pair across parts."""
    total = sum(weights)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for weight in weights:
        if used + weight > multi:
            segments += 1
            used = 0
        used += weight
    return segments


def encoding(text: str) -> str:
    """Return "GSM-7" or "UCS-2", the encoding a carrier would use for this text."""
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def count_units(text: str) -> int:
    """Return the length in septets (GSM-7) or UTF-16 code units (UCS-2)."""
    return sum(_gsm7_weights(text) if is_gsm7(text) else _ucs2_weights(text))


def count_segments(text: str) -> int:
    """Return how many SMS segments the text needs (0 for an empty string)."""
    if is_gsm7(text):
        return _pack(_gsm7_weights(text), GSM7_SINGLE, GSM7_MULTI)
    return _pack(_ucs2_weights(text), UCS2_SINGLE, UCS2_MULTI)


def _truncated(text: str, keep: int) -> str:
    """Return the first `keep` characters, tidied, plus the encoding-appropriate marker."""
    head = text[:keep].rstrip()
    while head and head[-1] in _DANGLING:
        head = head[:-1].rstrip()
    return head + (GSM7_MARKER if is_gsm7(head) else UCS2_MARKER)


def fit_to_segments(text: str, max_segments: int = 2) -> str:
    """Return text unchanged if it fits, else the longest prefix plus a marker that fits."""
    if max_segments < 1:
        raise ValueError("max_segments must be >= 1")
    if count_segments(text) <= max_segments:
        return text
    # count_segments(_truncated(text, k)) is non-decreasing in k (a longer prefix can only
    # add units or switch GSM-7 -> UCS-2), so binary search for the largest k that fits.
    lo, hi = 0, len(text) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count_segments(_truncated(text, mid)) <= max_segments:
            lo = mid
        else:
            hi = mid - 1
    return _truncated(text, lo)


def fit_with_suffix(text: str, suffix: str, max_segments: int = 2) -> str:
    """Return `text + suffix` within `max_segments`, cutting only `text` (with a marker) so the
    suffix — a link, a reply hint — always arrives whole; if the suffix alone is too long, the
    whole is cut as `fit_to_segments` does."""
    if max_segments < 1:
        raise ValueError("max_segments must be >= 1")
    if count_segments(text + suffix) <= max_segments:
        return text + suffix
    if count_segments(_truncated(text, 0) + suffix) > max_segments:
        return fit_to_segments(text + suffix, max_segments)
    # as in fit_to_segments, the count is non-decreasing in the prefix kept: binary search
    lo, hi = 0, len(text) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count_segments(_truncated(text, mid) + suffix) <= max_segments:
            lo = mid
        else:
            hi = mid - 1
    return _truncated(text, lo) + suffix
