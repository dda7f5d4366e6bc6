"""Meridian on one machine: the open-source LiveKit server on loopback (`server`), and one
region's agent worker and dispatch service against it (`python -m meridian.local`)."""
