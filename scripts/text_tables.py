"""Render rows as an aligned terminal table or a Markdown table, for the latency tools."""

from __future__ import annotations

from collections.abc import Sequence


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> str:
    """Text columns are left-aligned and numeric-looking ones right-aligned in both forms."""
    numeric = [
        all(_looks_numeric(row[i]) for row in rows) if rows else False for i in range(len(headers))
    ]
    if markdown:
        rule = ["---:" if numeric[i] else "---" for i in range(len(headers))]
        lines = [_md_row(headers), _md_row(rule), *(_md_row(row) for row in rows)]
        return "\n".join(lines)
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(widths[i]) if numeric[i] else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ).rstrip()

    return "\n".join(
        [line(headers), "  ".join("-" * w for w in widths), *(line(row) for row in rows)]
    )


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _looks_numeric(cell: str) -> bool:
    text = cell.strip().rstrip("%").replace(",", "").lstrip("$")
    if text in ("", "-"):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def fmt_ms(value: float | None) -> str:
    """Milliseconds rounded to whole numbers; '-' when unknown."""
    return "-" if value is None else f"{value:.0f}"


def fmt_pct(share: float | None) -> str:
    """A 0..1 share as a percentage with no decimals; '-' when unknown."""
    return "-" if share is None else f"{share * 100:.0f}%"
