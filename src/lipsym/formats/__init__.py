"""Output formats: the versioned JSON documents, CSV rows and the store's measure rows.

Every format is generated from the measure registry
(:data:`lipsym.measures.REGISTRY`); one function per naming scheme
(:func:`csv_column`, :func:`store_row_name`, :func:`json_path`) names a
measure's values, and docs/json-schema.md prints the mapping table.

- JSON: :func:`document` (schema ``lipsym.analysis``) from
  :func:`photo_to_dict`, :func:`pair_to_dict`, :func:`error_to_dict`;
  every JSON document lipsym writes carries :func:`envelope`'s ``schema``,
  ``schema_version`` and ``lipsym_version`` (:data:`SCHEMAS`);
- CSV: :func:`photo_columns`, :func:`pair_columns`, :func:`error_columns`,
  :func:`to_csv`;
- store rows: :func:`photo_specs`, :func:`pair_specs`,
  :func:`document_specs` → :class:`MeasureSpec`; :func:`sided_from_rows` back.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "_json": ["document", "photo_to_dict", "pair_to_dict", "error_to_dict", "measures_to_dict"],
    "_csv": ["photo_columns", "pair_columns", "error_columns", "to_csv", "escape_cell", "csv_writer", "FORMULA_TRIGGERS"],
    "_store_rows": ["photo_specs", "pair_specs", "document_specs", "sided_from_rows"],
    "_measure_spec": ["MeasureSpec", "MeasureRowLike"],
    "_naming": ["csv_column", "store_row_name", "parse_store_row_name", "json_path", "naming_table"],
    "_envelope": ["SCHEMAS", "envelope", "plain"],
    "_comparison": ["photo_comparison_document", "changes_to_json"],
})
