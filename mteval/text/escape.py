"""Escaping user text (system names, segment ids, hypotheses) for what we write: Markdown, CSV, matplotlib labels."""
from __future__ import annotations

import re
from typing import Any

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection, OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Markdown punctuation that can start emphasis, code, links, HTML or a table cell anywhere in a line,
# and "$", which GitHub and most Markdown viewers read as math between a pair (issue 23).
_MD_INLINE = re.compile(r"([\\`*\[\]|~$])")
# "_" opens emphasis only at a word edge (GFM), so snake_case names stay readable in the terminal.
_MD_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")


def csv_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, prefixed with ``'`` so it is shown as text.

    Only strings are touched: a negative number stays a number."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_safe_frame(frame: Any) -> Any:
    """A pandas DataFrame with :func:`csv_cell` applied to every cell."""
    return frame.map(csv_cell)


def md_text(text: Any, limit: int | None = None) -> str:
    """Plain text for a Markdown line or table cell: HTML, emphasis, code, links, math, pipes and line
    breaks neutralised (cut to ``limit`` characters first, when given)."""
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    text = " ".join(text.splitlines())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_INLINE.sub(r"\\\1", text)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    # A leading "#", "-", "+", "=" or "1." would make a heading, list or rule of a line that starts with it.
    text = re.sub(r"^(\d+)([.)])", r"\1\\\2", text)
    return re.sub(r"^([#+\-=>])", r"\\\1", text)


def md_code(text: Any) -> str:
    """``text`` as an inline code span, fenced with more backticks than it contains (CommonMark).
    Not for table cells: GFM splits a cell at a ``|`` even inside code."""
    text = " ".join(str(text).splitlines())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def mathtext_safe(text: Any) -> str:
    """A matplotlib label shown literally: an unescaped ``$`` pair would be parsed as mathtext (and
    can raise, so no figure is written)."""
    return str(text).replace("$", r"\$")
