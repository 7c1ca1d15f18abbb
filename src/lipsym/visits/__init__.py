"""The visit record: patients, visits, photos, analyses and treatments over time.

:mod:`lipsym.visits.store` keeps them in one SQLite file. On top of it:
importing photo folders (:func:`import_path`), analysing what is pending
(:class:`VisitAnalyzer`), a patient's measures by visit (:func:`load_timeline`),
the change between visits and the settling after a treatment
(:func:`compare_visits`, :func:`follow_up_settling`) and the track plot
(:func:`track_png`). Landmarks corrected by hand are saved as a new
analysis (:func:`save_corrections`, :func:`correct_visit`) that then stands
for its photos; :func:`load_stored_analyses` gives the analyses to correct.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "_timeline": ["Timeline", "VisitMeasures", "load_timeline"],
    "_settling": ["SettlingChange", "FollowUpSettling", "compare_visits", "follow_up_settling"],
    "_durations": ["TypicalDuration", "typical_duration", "is_lip_flip"],
    "_import": ["ImportReport", "import_path", "import_collection", "analyze_pending"],
    "_analyzer": ["AnalysisJob", "VisitAnalyzer", "visit_jobs"],
    "_track_plot": ["track_png"],
    "_corrections": ["StoredAnalyses", "load_stored_analyses", "save_corrections", "corrected_result",
                     "CorrectionOutcome", "correct_visit", "load_visit_analyses", "visit_analysis",
                     "analysis_options"],
    "_provenance": ["ManualCorrection", "manual_correction", "provenance_of", "latest_manual", "automatic_analysis"],
    "_calibration": ["calibrate_clinic", "CALIBRATED_EXPRESSIONS"],
    "_calibration_record": ["load_clinic_calibration", "save_clinic_calibration"],
    "_plausibility": ["DOSE_RANGES", "dose_implausibility", "visit_date_implausibility", "patient_code_implausibility"],
    "_documents": ["VisitComparison", "compare_recorded_visits", "visit_comparison_document", "PatientHistory",
                   "patient_history", "patient_history_document", "PatientSummary", "patient_summaries",
                   "patients_document", "patient_document", "visit_document", "treatment_document",
                   "import_document", "track_document"],
})
