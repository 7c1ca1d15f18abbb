"""lipsym: lip asymmetry measurement from clinical photographs."""

__version__ = "0.1.0"
