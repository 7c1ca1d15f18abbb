"""Data files derived by the project (see each file's provenance note)."""
