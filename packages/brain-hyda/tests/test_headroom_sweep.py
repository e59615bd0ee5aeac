import argparse

import pytest
from brain_hyda._experiments.headroom_sweep import _result, parse_setting


def _runs(dice):
    return [
        {
            "setting": "white:0.8:1.5",
            "steps": 300,
            "method": m,
            "seed": s,
            "dice": dice[m][s],
            "dice_t1_corrupted": 0.0,
            "dice_flair_corrupted": 0.0,
            "best_step": 300,
            "seconds": 1.0,
            "trainable": 1,
        }
        for m in dice
        for s in range(len(dice[m]))
    ]


@pytest.mark.parametrize(
    "dice,holds",
    [
        ({"probe": [0.30, 0.30], "static": [0.30, 0.30], "oracle": [0.34, 0.34]}, True),
        # beats the probe but not the static adapter by 0.03
        ({"probe": [0.30, 0.30], "static": [0.32, 0.32], "oracle": [0.34, 0.34]}, False),
        # beats the static adapter but not the probe by 0.03
        ({"probe": [0.32, 0.32], "static": [0.20, 0.20], "oracle": [0.34, 0.34]}, False),
    ],
)
def test_gate_needs_the_oracle_above_both_static_and_probe(dice, holds):
    result = _result(_runs(dice), {"size": 24})
    (claim,) = result.claims
    assert claim["name"] == "patient_specific_headroom[white:0.8:1.5 @300]"
    assert claim["holds"] is holds


@pytest.mark.parametrize("text", ["white:0.8", "pink:0.8:1.5", "white:x:1.5", "white:0.8:1.5:2"])
def test_bad_settings_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match=r"KIND:NOISE:BLUR|must be numbers"):
        parse_setting(text)


def test_settings_parse_to_the_generator_knobs():
    assert parse_setting("correlated:0.6:1.5") == ("correlated", 0.6, 1.5)
