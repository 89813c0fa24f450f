"""Left/right of a blinded pair and the reviewer's answer, turned into after-versus-before.

The reviewer sees two photos side by side in a random order and answers "the right image
compared with the left" on the 7-point scale (−3 … +3). The pair stores which side the later
photo was shown on; the score kept for the registry is always "after compared with before".
"""

from __future__ import annotations

SCALE = range(-3, 4)


def after_vs_before(*, right_vs_left: int, after_on_right: bool) -> int:
    """The reviewer's answer as "after compared with before" (the sign flips when the later
    photo was shown on the left)."""
    if right_vs_left not in SCALE:
        raise ValueError(f"score {right_vs_left} is outside −3…+3")
    return right_vs_left if after_on_right else -right_vs_left
