"""The store: one DuckDB file, its schema, and every SQL statement Twoway runs.

`Database` owns the connection; the query modules beside it (`roster`, `imports`, …) hold
the SQL for each part of the product, always with bound parameters.
"""

from analytics.store.database import Database, Results
from analytics.store.schema import SCHEMA_VERSION

__all__ = ["Database", "Results", "SCHEMA_VERSION"]
