"""One filter model for the CLI (`--where KEY=VALUE`), the analyses and the dashboard URL.

Values from outside (URL parameters, command-line words) are validated against the values
that exist in the store and against fixed limits; anything else is dropped with a notice.
They reach SQL only as bound parameters.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, fields, replace
from typing import Iterable, Mapping

from analytics.errors import TwowayError

#: Multi-valued roster filters, in the order the sidebar shows them.
LIST_KEYS: tuple[str, ...] = ("department", "location", "generation", "level", "cohort")
DATE_KEYS: tuple[str, ...] = ("date_from", "date_to")
METHODS: tuple[str, ...] = ("weighted", "unweighted")
KEYS: tuple[str, ...] = LIST_KEYS + DATE_KEYS + ("method", "as_of")

MAX_VALUE_LENGTH = 200
_IMPORT_ID = re.compile(r"[0-9]{1,9}")
MAX_VALUES_PER_KEY = 100


@dataclass(frozen=True)
class Filters:
    """A validated selection. Empty tuples mean "everyone"."""

    department: tuple[str, ...] = ()
    location: tuple[str, ...] = ()
    generation: tuple[str, ...] = ()
    level: tuple[str, ...] = ()
    cohort: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    method: str = "weighted"
    as_of: int | None = None
    notices: tuple[str, ...] = field(default=(), compare=False, hash=False)

    def __post_init__(self) -> None:
        """Refuse arguments of the wrong shape when a `Filters` is built in code.

        A bare string where a tuple of values belongs would otherwise be iterated letter by
        letter (``department="Sales"`` filtering on 'S', 'a', …); a list is accepted and kept
        as a tuple so the filters stay hashable (cache keys). Outside values go through
        `parse`, which turns problems into notices instead.

        Examples
        --------
        >>> Filters(department=["Sales"]).department
        ('Sales',)
        >>> Filters(department="Sales")
        Traceback (most recent call last):
        ...
        TypeError: Filters(department=...) takes a tuple of strings, not the string 'Sales'
        """
        for key in LIST_KEYS:
            value = getattr(self, key)
            if isinstance(value, (str, bytes)):
                raise TypeError(f"Filters({key}=...) takes a tuple of strings, not the string {value!r}")
            if not isinstance(value, (tuple, list)):
                raise TypeError(f"Filters({key}=...) takes a tuple of strings, not {type(value).__name__}")
            if not all(isinstance(v, str) for v in value):
                raise TypeError(f"Filters({key}=...) takes strings only, got {value!r}")
            object.__setattr__(self, key, tuple(value))
        for key in DATE_KEYS:
            value = getattr(self, key)
            if value is not None and (not isinstance(value, dt.date) or isinstance(value, dt.datetime)):
                raise TypeError(f"Filters({key}=...) takes a datetime.date or None, not {value!r}")
        if self.method not in METHODS:
            raise ValueError(f"Filters(method=...) must be one of {', '.join(METHODS)}, not {self.method!r}")
        if self.as_of is not None and (isinstance(self.as_of, bool) or not isinstance(self.as_of, int)
                                       or self.as_of <= 0):
            raise ValueError(f"Filters(as_of=...) takes a positive import id or None, not {self.as_of!r}")
        if isinstance(self.notices, str) or not isinstance(self.notices, tuple):
            raise TypeError("Filters(notices=...) takes a tuple of strings")

    # -- parsing ----------------------------------------------------------------------------
    @classmethod
    def parse(
        cls,
        params: Mapping[str, str | Iterable[str]],
        allowed: Mapping[str, Iterable[str]] | None = None,
        strict: bool = False,
    ) -> "Filters":
        """Build filters from untrusted key → value(s); unknown keys and values become notices.

        `allowed` maps each list key to the values that exist (from the store); a value not in
        it is dropped. With `strict=True` (the CLI) the first problem raises `TwowayError`.

        Examples
        --------
        >>> f = Filters.parse({"department": ["Sales", "Nope"]}, {"department": ["Sales"]})
        >>> f.department, f.notices
        (('Sales',), ("Ignored department 'Nope': no such value.",))
        """
        notices: list[str] = []
        values: dict[str, object] = {}

        def problem(msg: str) -> None:
            if strict:
                raise TwowayError(msg)
            notices.append(msg)

        for raw_key, raw in params.items():
            key = str(raw_key)[:MAX_VALUE_LENGTH]
            if key not in KEYS:
                if key.startswith("_") or key in IGNORED_KEYS:
                    continue
                problem(f"Ignored unknown filter {_show(key)}.")
                continue
            items = [raw] if isinstance(raw, str) else list(raw)
            items = [str(v) for v in items if v is not None and str(v).strip() != ""]
            if key in LIST_KEYS:
                if len(items) > MAX_VALUES_PER_KEY:
                    problem(f"Ignored {key}: more than {MAX_VALUES_PER_KEY} values.")
                    continue
                ok = []
                known = None if allowed is None or key not in allowed else set(map(str, allowed[key]))
                for v in items:
                    if len(v) > MAX_VALUE_LENGTH:
                        problem(f"Ignored {key}: a value longer than {MAX_VALUE_LENGTH} characters.")
                    elif known is not None and v not in known:
                        problem(f"Ignored {key} {_show(v)}: no such value.")
                    elif v not in ok:
                        ok.append(v)
                values[key] = tuple(sorted(ok))
            elif not items:
                continue
            elif key in DATE_KEYS:
                try:
                    if len(items[-1]) > 10:  # a date-time or junk: only YYYY-MM-DD is a filter date
                        raise ValueError
                    values[key] = dt.date.fromisoformat(items[-1])
                except ValueError:
                    problem(f"Ignored {key} {_show(items[-1])}: not a date (use YYYY-MM-DD).")
            elif key == "method":
                if items[-1] in METHODS:
                    values[key] = items[-1]
                else:
                    problem(f"Ignored method {_show(items[-1])}: use one of {', '.join(METHODS)}.")
            elif key == "as_of":
                v = items[-1]
                # ASCII digits only: "²".isdigit() is True but int("²") raises
                if _IMPORT_ID.fullmatch(v) and int(v) > 0:
                    values[key] = int(v)
                else:
                    problem(f"Ignored as_of {_show(v)}: not an import id.")
        f = cls(**values)
        if f.date_from and f.date_to and f.date_from > f.date_to:
            problem("Ignored the date range: date_from is after date_to.")
            f = replace(f, date_from=None, date_to=None)
        return replace(f, notices=tuple(notices))

    @classmethod
    def from_where(cls, pairs: Iterable[str], allowed: Mapping[str, Iterable[str]] | None = None) -> "Filters":
        """The CLI form: `KEY=VALUE` words, repeatable; a mistake is an error, not a notice."""
        grouped: dict[str, list[str]] = {}
        for word in pairs:
            if "=" not in word:
                raise TwowayError(f"--where {_show(word)}: expected KEY=VALUE, keys: {', '.join(KEYS)}")
            k, v = word.split("=", 1)
            grouped.setdefault(k.strip(), []).append(v.strip())
        return cls.parse(grouped, allowed, strict=True)

    # -- serialising -------------------------------------------------------------------------
    def to_params(self) -> dict[str, list[str]]:
        """Key → values for a URL (only what differs from the defaults), stable order."""
        out: dict[str, list[str]] = {}
        for k in LIST_KEYS:
            if getattr(self, k):
                out[k] = list(getattr(self, k))
        for k in DATE_KEYS:
            if getattr(self, k):
                out[k] = [getattr(self, k).isoformat()]
        if self.method != "weighted":
            out["method"] = [self.method]
        if self.as_of is not None:
            out["as_of"] = [str(self.as_of)]
        return out

    def is_empty(self) -> bool:
        return not self.to_params()

    def describe(self) -> str:
        """Plain words for a caption: 'Department: Sales · Generation: Gen Z'."""
        parts = [f"{k.replace('_', ' ').capitalize()}: {', '.join(map(str, v))}" for k, v in self.to_params().items()]
        return " · ".join(parts) if parts else "Everyone"

    def key(self) -> tuple:
        """A hashable cache key (notices excluded)."""
        return tuple((f.name, getattr(self, f.name)) for f in fields(self) if f.name != "notices")

    # -- SQL ---------------------------------------------------------------------------------
    def employee_where(self, alias: str = "e", include_cohort: bool = True) -> tuple[str, list]:
        """A WHERE fragment over the employees table (alias `alias`) with its bound parameters.

        Roster filters select people; the cohort filter selects programme participants of
        those cohorts (pass `include_cohort=False` to keep comparison colleagues in).
        """
        if not alias.isidentifier():
            raise ValueError(f"bad alias {alias!r}")
        clauses, params = ["TRUE"], []
        for k in ("department", "location", "generation", "level"):
            vals = getattr(self, k)
            if vals:
                clauses.append(f"{alias}.{k} IN ({', '.join('?' * len(vals))})")
                params.extend(vals)
        if include_cohort and self.cohort:
            marks = ", ".join("?" * len(self.cohort))
            clauses.append(
                f"{alias}.employee_id IN (SELECT mentor_id FROM pairs WHERE cohort IN ({marks}) "
                f"UNION SELECT mentee_id FROM pairs WHERE cohort IN ({marks}))"
            )
            params.extend(self.cohort * 2)
        return " AND ".join(clauses), params


#: Page-level parameters that are not filters (kept in links, never used in SQL).
IGNORED_KEYS = frozenset({"page", "embed", "embed_options", "claim", "group", "role", "tab", "inputs"})


def _show(value: str) -> str:
    """A user value quoted for a message, cut short and without control characters."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in value[:40])
    return repr(clean + ("…" if len(value) > 40 else ""))
