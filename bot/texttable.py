"""Fixed-width text tables for ``` blocks: they read the same in Slack and in a terminal."""
from __future__ import annotations


def share(part: int, whole: int) -> str:
    """`part` of `whole` as a whole percentage; a small but nonzero share is `<1%`, not 0%,
    and a share short of all of it is never rounded up to 100%."""
    if whole <= 0 or part <= 0:
        return "0%"
    pct = part * 100 // whole
    return "<1%" if pct == 0 else f"{pct}%"


def _numeric(cell: str) -> bool:
    return cell.replace(",", "").replace("%", "").lstrip("<").isdigit()


def _fit(cell: str, width: int) -> str:
    return cell if len(cell) <= width else cell[: width - 1] + "…"


def table(headers: list[str], rows: list[list], widths: list[int] | None = None) -> str:
    """Numbers right-aligned, text left-aligned; `widths` are maximum widths (cells longer
    than their column's are clipped)."""
    cells = [[f"{c:,}" if isinstance(c, int) else str(c) for c in row] for row in rows]
    natural = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    widths = [min(n, w) for n, w in zip(natural, widths)] if widths else natural

    def line(row: list[str]) -> str:
        return "  ".join(c.rjust(w) if _numeric(c) else c.ljust(w)
                         for c, w in zip((_fit(c, w) for c, w in zip(row, widths)), widths)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, cells)])
