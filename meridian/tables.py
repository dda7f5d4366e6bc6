"""The one table renderer, for every tool that prints numbers: an aligned terminal table or Markdown.

Text columns are left-aligned and numeric-looking ones right-aligned. Markdown comes in two forms:
compact (``| a | b |`` with ``---:`` under numeric columns; the latency tools and the planner) and
padded (every column as wide as its widest cell; the benchmark tables, readable in a terminal).
"""

from __future__ import annotations

from collections.abc import Sequence


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    markdown: bool = False,
    *,
    padded: bool = False,
    right: Sequence[bool] | None = None,
) -> str:
    """Rows (cells converted with str()) under headers.

    `markdown` picks Markdown over the terminal form; `padded` pads Markdown cells to the column's
    width (with a plain ``|---|`` rule); `right` overrides which columns are right-aligned.
    """
    head = [str(h) for h in headers]
    body = [[str(c) for c in row] for row in rows]
    numeric = list(right) if right is not None else _numeric_columns(len(head), body)
    if markdown and padded:
        widths = _widths(head, body)
        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        lines = [_padded_row(head, widths), rule, *(_padded_row(row, widths) for row in body)]
        return "\n".join(lines)
    if markdown:
        rule = ["---:" if numeric[i] else "---" for i in range(len(head))]
        return "\n".join([_md_row(head), _md_row(rule), *(_md_row(row) for row in body)])
    widths = _widths(head, body)

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(widths[i]) if numeric[i] else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ).rstrip()

    return "\n".join([line(head), "  ".join("-" * w for w in widths), *(line(row) for row in body)])


def _widths(head: Sequence[str], body: Sequence[Sequence[str]]) -> list[int]:
    return [max(len(head[i]), *(len(row[i]) for row in body)) for i in range(len(head))]


def _numeric_columns(count: int, body: Sequence[Sequence[str]]) -> list[bool]:
    return [all(_looks_numeric(row[i]) for row in body) if body else False for i in range(count)]


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _padded_row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"


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


def fmt_seconds_as_ms(value: float | None) -> str:
    """Seconds as whole milliseconds; '-' when unknown."""
    return "-" if value is None else fmt_ms(value * 1000)


def fmt_pct(share: float | None) -> str:
    """A 0..1 share as a percentage with no decimals; '-' when unknown."""
    return "-" if share is None else f"{share * 100:.0f}%"
