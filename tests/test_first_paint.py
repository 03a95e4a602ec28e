"""First paint: a page's heading is drawn before its figures are computed, and the Data page's
slowest table (reliability) does not hold back the tables after it."""

from __future__ import annotations

import pytest

from tests.fixtures_dashboard import app_db_path, app_env, open_app  # noqa: F401


class Slow(Exception):
    """Stands for a figure that has not arrived yet."""


def _block(monkeypatch, names: set[str]) -> None:
    import ui.cache

    real = ui.cache.view

    def view(name, filters, **kw):
        if name in names:
            raise Slow(name)
        return real(name, filters, **kw)

    monkeypatch.setattr(ui.cache, "view", view)


@pytest.mark.parametrize("page, slow", [("activity", "activity"), ("productivity", "productivity"),
                                        ("data", "data_quality"), ("engagement", "construct_trends")])
def test_the_heading_is_drawn_before_the_figures(app_env, monkeypatch, page, slow):
    _block(monkeypatch, {slow})
    at = open_app({}, f"pages/{page}.py")
    assert at.exception and at.exception[0].message == slow  # the stand-in stopped the page there
    assert at.title, f"{page}: the title must be on the page before {slow} returns"


def test_reliability_is_filled_in_last_but_shown_in_place(app_env, monkeypatch):
    at = open_app({}, "pages/data.py")
    assert not at.exception, at.exception
    heads = [h.value for h in at.subheader]
    assert heads.index("Construct reliability") < heads.index("Survey items mapped to constructs")
    _block(monkeypatch, {"reliability"})
    at = open_app({}, "pages/data.py")
    heads = [h.value for h in at.subheader]
    assert "Survey items mapped to constructs" in heads and "Import history" in heads
    assert "Construct reliability" not in heads


def test_where_draws_its_heading_control_and_progress_before_the_first_subgroup_estimate(app_env, monkeypatch):
    """The Where page runs the claims engine once per subgroup (its slowest part, seconds each at
    200,000 people): the title, the "Effect by" control and the progress bar come first."""
    _block(monkeypatch, {"scorecard"})
    at = open_app({}, "pages/where.py")
    assert at.exception and at.exception[0].message == "scorecard"
    assert at.title and at.title[0].value == "Where it works"
    assert at.get("button_group"), "the grouping control must be on the page before the estimates"
    assert [p for p in at.get("progress") if "Estimating" in str(p.proto)], "and the progress bar"
