"""Importers: survey exports (Qualtrics, SurveyMonkey, Google Forms, Microsoft Forms),
Twoway templates and generic CSV/XLSX, checked, reported and written in one transaction."""

from analytics.importing.api import (ImportFailed, check_file, describe_removal, import_file, import_history,
                                     mapping_from_editor, preview, survey_name_from_file, undo_import, undo_preview)
from analytics.importing.mapping import load_mapping, suggest_construct, suggest_reverse, survey_family
from analytics.safe_export import neutralise_formulas, to_safe_csv
from analytics.importing.templates import blank_template, TEMPLATE_KINDS

__all__ = ["ImportFailed", "check_file", "import_file", "import_history", "mapping_from_editor", "preview",
           "survey_name_from_file", "undo_import", "undo_preview", "describe_removal", "load_mapping", "suggest_construct", "suggest_reverse",
           "survey_family", "neutralise_formulas", "to_safe_csv", "blank_template", "TEMPLATE_KINDS"]
