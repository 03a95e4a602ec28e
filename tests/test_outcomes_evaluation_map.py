"""The Kirkpatrick evaluation map and the published reference bands."""

import math

import pandas as pd
import pytest

from analytics.outcomes.evaluation_map import MEASURES, evaluation_map, r_to_d, reference_bands


def test_r_to_d_is_the_textbook_conversion():
    # Borenstein et al. (2009) eq. 7.5: r = .15 -> d = .30 / sqrt(1 - .0225) = 0.30343
    assert r_to_d(0.15) == pytest.approx(0.30 / math.sqrt(0.9775))
    assert r_to_d(-0.15) == pytest.approx(-r_to_d(0.15))
    with pytest.raises(ValueError):
        r_to_d(1.0)


def test_eby_band_in_sd_units():
    band = reference_bands().iloc[0]
    assert (band.r_low, band.r_high) == (0.03, 0.15)
    assert band.d_low == pytest.approx(0.06 / math.sqrt(1 - 0.0009))
    assert "Eby" in band.source


def test_levels_follow_the_issue():
    level = {m.measure: m.level for m in MEASURES}
    assert level["Session ratings (mentors and mentees)"] == 1
    assert level["Confidence of mentors"] == 2
    assert level["Leadership, as rated by direct reports"] == 3 and level["Agility"] == 3
    assert level["Objective metrics"] == level["Retention"] == level["Promotion"] == 4


def test_the_map_shows_where_evidence_is_missing():
    scorecard = pd.DataFrame({"id": ["engagement", "leadership"], "verdict": ["supported", "inconclusive"]})
    m = evaluation_map(scorecard).set_index("measure")["verdict"]
    assert m["Engagement"] == "supported"
    assert m["Leadership, as rated by direct reports"] == "inconclusive"
    assert m["Retention"] == "not measured"
    assert m["Session ratings (mentors and mentees)"] == "descriptive only"
