"""The database schema as an ordered list of migrations.

A database file records the number of migrations it has seen in `meta.schema_version`;
opening it applies the missing ones in one transaction each, so an older file is upgraded
in place and never loses data. Append new migrations; never edit a released one.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, list[str]]] = [
    (
        "core tables: roster, programme, sessions, surveys, metrics, imports",
        [
            """CREATE TABLE IF NOT EXISTS meta (
                key VARCHAR PRIMARY KEY,
                value VARCHAR NOT NULL)""",
            """CREATE TABLE imports (
                import_id INTEGER PRIMARY KEY,
                file_name VARCHAR NOT NULL,
                sha256 VARCHAR NOT NULL,
                kind VARCHAR NOT NULL,
                rows INTEGER NOT NULL,
                imported_at TIMESTAMP NOT NULL,
                status VARCHAR NOT NULL)""",
            """CREATE TABLE employees (
                employee_id VARCHAR PRIMARY KEY,
                department VARCHAR,
                level VARCHAR,
                location VARCHAR,
                birth_year INTEGER,
                generation VARCHAR,
                hire_date DATE,
                manager_id VARCHAR,
                import_id INTEGER)""",
            """CREATE TABLE pairs (
                pair_id VARCHAR PRIMARY KEY,
                mentor_id VARCHAR NOT NULL,
                mentee_id VARCHAR NOT NULL,
                cohort VARCHAR,
                start_date DATE NOT NULL,
                end_date DATE,
                import_id INTEGER)""",
            """CREATE TABLE sessions (
                session_id VARCHAR PRIMARY KEY,
                pair_id VARCHAR NOT NULL,
                date DATE NOT NULL,
                duration_min DOUBLE,
                format VARCHAR CHECK (format IN ('scheduled', 'informal')),
                channel VARCHAR,
                topics VARCHAR[],
                mentor_rating DOUBLE,
                mentee_rating DOUBLE,
                import_id INTEGER)""",
            """CREATE TABLE waves (
                survey VARCHAR PRIMARY KEY,
                title VARCHAR,
                opened DATE,
                closed DATE,
                invited INTEGER,
                source_format VARCHAR,
                import_id INTEGER)""",
            """CREATE TABLE items (
                survey VARCHAR NOT NULL,
                item VARCHAR NOT NULL,
                construct VARCHAR,
                scale_min DOUBLE,
                scale_max DOUBLE,
                reverse BOOLEAN NOT NULL DEFAULT FALSE,
                question VARCHAR,
                import_id INTEGER,
                PRIMARY KEY (survey, item))""",
            """CREATE TABLE responses (
                survey VARCHAR NOT NULL,
                respondent VARCHAR NOT NULL,
                employee_id VARCHAR,
                item VARCHAR NOT NULL,
                value DOUBLE,
                submitted_at TIMESTAMP,
                import_id INTEGER)""",
            """CREATE TABLE metrics (
                employee_id VARCHAR NOT NULL,
                period VARCHAR NOT NULL,
                metric VARCHAR NOT NULL,
                value DOUBLE,
                import_id INTEGER)""",
        ],
    ),
    (
        "metric definitions, import details, saved survey mappings",
        [
            """CREATE TABLE metric_defs (
                metric VARCHAR PRIMARY KEY,
                higher_is_better BOOLEAN NOT NULL DEFAULT TRUE,
                unit VARCHAR)""",
            "ALTER TABLE imports ADD COLUMN details VARCHAR",
            """CREATE TABLE saved_mappings (
                name VARCHAR PRIMARY KEY,
                mapping VARCHAR NOT NULL,
                saved_at TIMESTAMP NOT NULL)""",
            "CREATE INDEX responses_survey_idx ON responses (survey, item)",
            "CREATE INDEX metrics_emp_idx ON metrics (employee_id, metric)",
        ],
    ),
    (
        "metric definitions come from imports (metrics.csv may say higher_is_better) and undo with them",
        [
            "ALTER TABLE metric_defs ADD COLUMN import_id INTEGER",
        ],
    ),
    (
        "roster history: dated attribute rows per person (snapshots, leavers, rehires), work e-mail",
        [
            "ALTER TABLE employees ADD COLUMN email VARCHAR",
            "ALTER TABLE employees ADD COLUMN termination_date DATE",
            # One row per person and period in which their attributes held: employed on day D when
            # (valid_from IS NULL OR valid_from <= D) AND (valid_to IS NULL OR D < valid_to).
            # valid_from NULL = since the start of the data; valid_to NULL = still employed.
            # closed_by: the import that set valid_to (undo reopens the row).
            """CREATE TABLE employee_history (
                employee_id VARCHAR NOT NULL,
                valid_from DATE,
                valid_to DATE,
                department VARCHAR,
                level VARCHAR,
                location VARCHAR,
                manager_id VARCHAR,
                email VARCHAR,
                import_id INTEGER,
                closed_by INTEGER)""",
            """INSERT INTO employee_history (employee_id, department, level, location, manager_id, import_id)
               SELECT employee_id, department, level, location, manager_id, import_id FROM employees""",
            "CREATE INDEX employee_history_emp_idx ON employee_history (employee_id)",
            # Each person's attributes as they were on `day`, only people employed then.
            """CREATE MACRO employees_at(day) AS TABLE
               SELECT h.employee_id, h.department, h.level, h.location, h.manager_id, h.email,
                      e.birth_year, e.generation, e.hire_date, h.valid_from, h.valid_to
               FROM employee_history h JOIN employees e USING (employee_id)
               WHERE (h.valid_from IS NULL OR h.valid_from <= day) AND (h.valid_to IS NULL OR day < h.valid_to)""",
        ],
    ),
    (
        "anonymous surveys: each response's answer to the participation question (and cohort)",
        [
            # role: mentor / mentee / none; cohort: the cohort or start quarter as answered;
            # start: the date that cohort started (from a quarter "2025-Q2" or the pairs), if known.
            """CREATE TABLE participation (
                survey VARCHAR NOT NULL,
                respondent VARCHAR NOT NULL,
                role VARCHAR NOT NULL CHECK (role IN ('mentor', 'mentee', 'none')),
                cohort VARCHAR,
                start DATE,
                import_id INTEGER)""",
        ],
    ),
    (
        "saved value inputs (costs, hours, unit values) for the return on investment, one row per save",
        [
            # Append-only: every save is a new version, so a pinned link (as_of import v) reads the
            # newest version saved while import v was the latest (after_import <= v).
            # inputs: the validated JSON object of `analytics.value.Costs`.
            """CREATE TABLE value_inputs (
                version INTEGER PRIMARY KEY,
                inputs VARCHAR NOT NULL,
                saved_at TIMESTAMP NOT NULL,
                saved_by VARCHAR,
                after_import INTEGER NOT NULL DEFAULT 0)""",
        ],
    ),
]

SCHEMA_VERSION = len(MIGRATIONS)

#: A response's value on the construct's scale after reverse coding (responses `r`, items `i`):
#: the one definition every construct score is averaged from.
SCORE_SQL = "CASE WHEN i.reverse THEN i.scale_min + i.scale_max - r.value ELSE r.value END"

#: Tables holding imported data, with the column that ties each row to its import.
DATA_TABLES: tuple[str, ...] = (
    "employees",
    "employee_history",
    "pairs",
    "sessions",
    "waves",
    "items",
    "responses",
    "participation",
    "metric_defs",
    "metrics",
)
