from __future__ import annotations

from django import forms

SCORE_CHOICES = [
    (3, "+3 Right is greatly better"),
    (2, "+2 Right is moderately better"),
    (1, "+1 Right is slightly better"),
    (0, "0 No difference"),
    (-1, "−1 Right is slightly worse"),
    (-2, "−2 Right is moderately worse"),
    (-3, "−3 Right is greatly worse"),
]


class ScoreForm(forms.Form):
    score = forms.TypedChoiceField(
        label="Hair on the right image compared with the left",
        choices=SCORE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
    )
