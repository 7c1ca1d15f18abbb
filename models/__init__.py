"""Bundled model files (shipped in the wheel as ``lipsym.models``)."""
