"""Meridian's streaming voice agent: one image, run in every region (`python -m agent start`)."""
