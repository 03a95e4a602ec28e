"""Twoway analytics: the store, importers, claims engine and filters behind the dashboard.

Nothing in this package imports streamlit, so the CLI, the tests and the dashboard
share one implementation of every number.
"""

__version__ = "0.1.0"
