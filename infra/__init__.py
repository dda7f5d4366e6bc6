"""Meridian's Pulumi program: one stack per region of regions.yaml."""
