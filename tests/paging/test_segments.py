"""Hand-computed GSM-7 / UCS-2 segment counts and truncation."""

from __future__ import annotations

import pytest

from service.paging.segments import (
    count_segments,
    count_units,
    encoding,
    fit_to_segments,
    fit_with_suffix,
    is_gsm7,
)

pytestmark = pytest.mark.smoke

EMOJI = "\U0001f600"  # astral: one code point, two UTF-16 units (a surrogate pair)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(0, 0), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_boundaries(length: int, segments: int) -> None:
    assert count_segments("a" * length) == segments


@pytest.mark.parametrize("ext", ["€", "[", "]", "{", "}", "\\", "^", "~", "|"])
def test_extension_chars_count_double(ext: str) -> None:
    assert is_gsm7(ext) and count_units(ext) == 2
    assert count_segments(ext + "a" * 158) == 1  # 2 + 158 = 160 septets
    assert count_segments(ext + "a" * 159) == 2  # 161 septets


def test_escape_pair_is_not_split_across_segments() -> None:
    # 152 + 2 + 152 = 306 septets, which naively is 2 parts of 153, but the euro's escape pair
    # cannot straddle parts: [152 a] [€ + 151 a] [1 a] -> 3 segments.
    assert count_units("a" * 152 + "€" + "a" * 152) == 306
    assert count_segments("a" * 152 + "€" + "a" * 152) == 3
    assert count_segments("a" * 151 + "€" + "a" * 153) == 2  # [151 a + €] [153 a]


def test_gsm7_detection() -> None:
    assert is_gsm7("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\r\n")
    assert not is_gsm7("ç")  # only upper-case Ç is in GSM 03.38
    assert not is_gsm7("it’s")  # curly apostrophe, a classic accidental UCS-2 trigger
    assert not is_gsm7(EMOJI)
    assert not is_gsm7("\x1b")  # the escape code itself is not a character
    assert encoding("abc") == "GSM-7" and encoding("abç") == "UCS-2"


@pytest.mark.parametrize(
    ("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_ucs2_boundaries(length: int, segments: int) -> None:
    assert count_segments("ç" * length) == segments


def test_emoji_forces_ucs2_and_counts_two_units() -> None:
    assert count_units(EMOJI) == 2
    assert count_segments(EMOJI + "a" * 68) == 1  # 2 + 68 = 70 units
    assert count_segments(EMOJI + "a" * 69) == 2  # 71 units
    assert count_segments("a" * 159 + EMOJI) == 3  # 161 units as UCS-2, not 161 septets


def test_surrogate_pair_is_not_split_across_segments() -> None:
    # 66 + 2 + 66 = 134 units; naive 2 parts of 67, but the pair moves: [66] [2 + 65] [1] -> 3.
    assert count_segments("a" * 66 + EMOJI + "a" * 66) == 3
    assert count_segments("a" * 65 + EMOJI + "a" * 67) == 2  # [65 + 2] [67]


def test_fit_leaves_short_text_alone() -> None:
    text = "a" * 306
    assert fit_to_segments(text) is text
    assert fit_to_segments("") == ""


def test_fit_gsm7_uses_three_dots() -> None:
    fitted = fit_to_segments("a" * 400)
    assert fitted == "a" * 303 + "..."  # 306 septets = exactly 2 segments
    assert count_segments(fitted) == 2
    assert fit_to_segments("a" * 200, max_segments=1) == "a" * 157 + "..."


def test_fit_does_not_cut_escape_pair() -> None:
    text = "a" * 156 + "€" + "a" * 50
    # keeping the euro would need 156 + 2 + 3 = 161 septets
    assert fit_to_segments(text, max_segments=1) == "a" * 156 + "..."


def test_fit_ucs2_uses_single_ellipsis() -> None:
    fitted = fit_to_segments("ç" * 200)
    assert fitted == "ç" * 133 + "\u2026"  # 134 units = exactly 2 UCS-2 segments
    assert count_segments(fitted) == 2


def test_fit_emoji_never_half_kept() -> None:
    fitted = fit_to_segments(EMOJI * 100, max_segments=1)
    assert fitted == EMOJI * 34 + "\u2026"  # 68 + 1 = 69 units; a 35th emoji would make 71
    assert count_segments(fitted) == 1


def test_fit_drops_back_to_gsm7_when_unicode_is_cut_off() -> None:
    fitted = fit_to_segments("a" * 310 + EMOJI)
    assert fitted == "a" * 303 + "..."
    assert is_gsm7(fitted) and count_segments(fitted) == 2


def test_fit_trims_trailing_space_before_marker() -> None:
    # cutting after the space would give "a"*157 + " ..." (161 septets); the space is trimmed
    fitted = fit_to_segments("a" * 157 + " " + "b" * 50, max_segments=1)
    assert fitted == "a" * 157 + "..."


def test_fit_rejects_zero_segments() -> None:
    with pytest.raises(ValueError):
        fit_to_segments("hi", max_segments=0)


SUFFIX = " https://firebreak.test/r/" + "A" * 22 + " Reply DONE 42 3 when done."


@pytest.mark.parametrize("text", ["a" * 400, "ç" * 400, "a" * 200 + EMOJI * 50, "€" * 300])
def test_fit_with_suffix_cuts_only_the_text_and_keeps_the_suffix_whole(text: str) -> None:
    out = fit_with_suffix(text, SUFFIX, 2)
    assert out.endswith(SUFFIX) and count_segments(out) <= 2
    head = out.removesuffix(SUFFIX)
    marker = "..." if head.endswith("...") else "\u2026"
    assert head.endswith(marker) and text.startswith(head.removesuffix(marker))
    assert len(head) > 20  # the text is cut, not dropped


def test_fit_with_suffix_leaves_what_fits_alone() -> None:
    assert (
        fit_with_suffix("#42 step for you: 3 Reply.", SUFFIX)
        == "#42 step for you: 3 Reply." + SUFFIX
    )
    assert fit_with_suffix("", SUFFIX) == SUFFIX


def test_fit_with_suffix_with_a_suffix_too_long_cuts_the_whole() -> None:
    out = fit_with_suffix("abc", "x" * 400, 2)
    assert count_segments(out) <= 2 and out.startswith("abcxxx") and out.endswith("...")


def test_a_step_notice_listing_four_long_steps_keeps_its_link_and_reply() -> None:
    from service.paging.messages import MAX_SEGMENTS, with_link

    listed = "; ".join(f"{i} " + "Call the agency and the regulator " * 3 for i in range(1, 5))
    link = "https://firebreak.test/r/%LINK________________%"
    out = with_link(f"#42 steps for you: {listed}.", link=link, reply="Reply DONE 42 1 when done.")
    assert count_segments(out) <= MAX_SEGMENTS
    assert out.startswith("#42 steps for you: 1 Call")
    assert out.endswith(f"... {link} Reply DONE 42 1 when done.")
