"""Cached calls into `analytics`: one entry point, keyed by data version, filters and threshold.

Pages ask `view("construct_trends", filters, participants=True)`; the result is computed once
per (database file, data version, filters, min group size, arguments) and shared by sessions.
Only names in `VIEWS` can be called, so a page cannot reach anything else by accident.
Pinned links and the anonymity rules are applied inside `analytics` (each view enters
`analytics.store.released.released` itself), not here.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable

import streamlit as st

from analytics import gain_bands, headline_change, privacy, value_data, views
from analytics.filters import Filters
from analytics.outcomes import evaluation_map, topics
from analytics.store.dashboard import latest_import_id
from ui.state import data_version, get_db


def _claims(name: str) -> Callable:
    def call(db, filters, k, **kw):
        from analytics import claims

        if name == "scorecard":
            return claims.scorecard(db, filters, min_group=k, **kw)
        if name == "event_study":
            return claims.event_study(db, kw.pop("claim_id"), filters, min_group=k)
        if name == "metric_event_study":
            return claims.metric_event_studies(db, kw.pop("claim_id"), filters, min_group=k)
        return claims.claim_detail(db, kw.pop("claim_id"), filters, min_group=k)

    return call


VIEWS: dict[str, Callable] = {
    "headline": views.headline,
    "check_selection": views.check_selection,
    "construct_trends": views.construct_trends,
    "construct_heatmap": views.construct_heatmap,
    "group_trend": views.group_trend,
    "belonging_gap": views.belonging_gap,
    "engagement_comparison": views.engagement_comparison,
    "activity": views.activity,
    "productivity": views.productivity,
    "data_quality": views.data_quality,
    "scorecard": _claims("scorecard"),
    "claim_detail": _claims("claim_detail"),
    "event_study": _claims("event_study"),
    "metric_event_study": _claims("metric_event_study"),
    "reliability": views.reliability,
    "headline_change": headline_change.headline_change,
    "gain_bands": lambda db, filters, k, claim_id: gain_bands.bands_for(db, claim_id, filters, k),
    "evaluation_map": lambda db, filters, k: evaluation_map.programme_map(db, filters, k),
    "topic_screen": lambda db, filters, k, construct: topics.session_topic_screen(db, filters, k, construct),
    "value_inputs": lambda db, filters, k: value_data.page_inputs(db, filters.as_of),
    "value": lambda db, filters, k, inputs: value_data.page_value(db, k, filters.as_of, inputs),
}


@st.cache_data(show_spinner="Crunching the numbers…", max_entries=512)
def _run(name: str, version: tuple, filter_key: tuple, k: int, kwargs: tuple) -> Any:
    db, filters = get_db(), Filters(**dict(filter_key))
    return VIEWS[name](db, filters, k, **dict(kwargs))


def view(name: str, filters: Filters, **kwargs) -> Any:
    """The named analytics view for these filters, from the cache when possible."""
    if name not in VIEWS:
        raise ValueError(f"unknown view {name!r}")
    started = time.perf_counter()
    out = _run(name, data_version(), filters.key(), privacy.min_group_size(), tuple(sorted(kwargs.items())))
    if os.environ.get("TWOWAY_TIMING"):
        print(f"[timing] {name} {kwargs or ''} {time.perf_counter() - started:.3f}s", file=sys.stderr)
    return out


def min_group() -> int:
    return privacy.min_group_size()


@st.cache_data(show_spinner=False, max_entries=8)
def _latest_import(version: tuple) -> int | None:
    return latest_import_id(get_db())


def latest_import() -> int | None:
    """The newest successful import id (what a pinned link records)."""
    return _latest_import(data_version())
