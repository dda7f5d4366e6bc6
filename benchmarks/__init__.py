"""Meridian's benchmarks: `make bench` prints one table per benchmark, noting the machine."""
