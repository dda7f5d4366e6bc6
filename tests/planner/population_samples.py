"""A small customer base for the planner tests and the docs' example."""

from __future__ import annotations

from pathlib import Path

CUSTOMER_CITIES = """city,country,weight
London,GB,120
Berlin,DE,80
Paris,France,70
Madrid,ES,40
New York City,US,150
Chicago,US,60
San Francisco,US,70
São Paulo,BR,50
Mexico City,MX,40
Singapore,SG,60
Tokyo,JP,80
Mumbai,IN,70
Sydney,AU,40
Johannesburg,ZA,20
Dubai,AE,30
"""


def write_customer_cities(directory: Path) -> Path:
    """Write the customer base as city,country,weight CSV and return its path."""
    path = directory / "customers.csv"
    path.write_text(CUSTOMER_CITIES, encoding="utf-8")
    return path
