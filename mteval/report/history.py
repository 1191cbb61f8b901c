"""Score histories as text for the terminal and as one self-contained HTML page of inline SVG trend lines."""
from __future__ import annotations

from datetime import datetime
from html import escape

from mteval.results.gate_log import GateDecision
from mteval.results.history import Point, Series
from mteval.report.labels import metric_label

WIDTH, HEIGHT, PAD = 720, 220, 44
_COLOURS = {"pass": "#1a7f37", "regression": "#cf222e", "refused": "#777"}
_CSS = """body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:980px;padding:0 1em;color:#222}
svg{display:block;margin:.4em 0;background:#fcfcfc;border:1px solid #ddd}svg text{font-size:11px;fill:#555}
ul.breaks{font-size:13px;color:#8a4b00}.muted{color:#777;font-size:12px}
circle:focus,rect:focus{outline:2px solid #0969da}
@media print{svg{border:none}}"""


def gate_text(d: GateDecision) -> str:
    """One gate decision in a few words."""
    if not d.metric:
        return f"gate {d.status}: {d.reason}"
    effect = "" if d.effect is None else f" effect {d.effect:+.4g}"
    p = "" if d.p_value is None else f", p {d.p_value:.4f}"
    return f"gate {d.status}{effect}{p}" + (" (this metric failed)" if d.failed else "")


def _point_text(p: Point) -> str:
    gate = "".join(f"  [{gate_text(d)}]" for d in p.gate)
    return f"  {p.time}  {p.score:10.4f}  sig {p.sig}  {p.n_segments} seg  {p.run_dir}{gate}"


def series_text(series: list[Series]) -> str:
    """Each series: a heading, its runs oldest first, and a line naming each break's reason."""
    out = []
    for s in series:
        out.append(f"{s.dataset} ({s.direction}) | {s.system} | {s.metric}")
        for seg in s.segments:
            if seg.reason:
                out.append(f"  -- line broken: {seg.reason}")
            out += [_point_text(p) for p in seg.points]
        out.append("")
    return "\n".join(out)


def _seconds(p: Point) -> float:
    return datetime.fromisoformat(p.time).timestamp()


def _tip(p: Point, metric: str) -> str:
    lines = [f"{p.time}: {metric_label(metric)} {p.score:.4f}", f"run {p.run_dir}", f"signature hash {p.sig}"]
    return escape("\n".join(lines + [gate_text(d) for d in p.gate]))


def series_svg(s: Series) -> str:
    """One trend: a polyline per joined segment, a dashed rule at each break (its reason as the tooltip),
    a dot per run and a coloured mark per gate decision; every mark is focusable and titled."""
    points = [p for seg in s.segments for p in seg.points]
    xs = [_seconds(p) for p in points]
    ys = [p.score for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    margin = (y1 - y0) * 0.1 or max(abs(y0) * 0.01, 0.01)
    y0, y1 = y0 - margin, y1 + margin

    def x(t: float) -> float:
        return PAD + (t - x0) / (x1 - x0) * (WIDTH - 2 * PAD) if x1 > x0 else WIDTH / 2

    def y(v: float) -> float:
        return HEIGHT - PAD + (v - y0) / (y1 - y0) * (2 * PAD - HEIGHT)

    parts = [f"<svg role='img' aria-label='{escape(s.title)}' width='{WIDTH}' height='{HEIGHT}' "
             f"viewBox='0 0 {WIDTH} {HEIGHT}' xmlns='http://www.w3.org/2000/svg'>",
             f"<text x='4' y='{y(y1 - margin) + 4:.1f}'>{y1 - margin:.4g}</text>",
             f"<text x='4' y='{y(y0 + margin) + 4:.1f}'>{y0 + margin:.4g}</text>",
             f"<text x='{PAD}' y='{HEIGHT - 8}'>{escape(points[0].time)}</text>",
             f"<text x='{WIDTH - PAD}' y='{HEIGHT - 8}' text-anchor='end'>{escape(points[-1].time)}</text>"]
    for seg in s.segments:
        if seg.reason:
            bx = x(_seconds(seg.points[0]))
            parts.append(f"<line class='break' x1='{bx - 6:.1f}' x2='{bx - 6:.1f}' y1='{PAD / 2}' y2='{HEIGHT - PAD}' "
                         f"stroke='#bf8700' stroke-dasharray='4 3'><title>{escape(seg.reason)}</title></line>")
        coords = " ".join(f"{x(_seconds(p)):.1f},{y(p.score):.1f}" for p in seg.points)
        parts.append(f"<polyline class='trend' points='{coords}' fill='none' stroke='#0969da' stroke-width='2'/>")
        for p in seg.points:
            cx, cy = x(_seconds(p)), y(p.score)
            parts.append(f"<circle class='run' tabindex='0' cx='{cx:.1f}' cy='{cy:.1f}' r='3.5' fill='#0969da'>"
                         f"<title>{_tip(p, s.metric)}</title></circle>")
            for k, d in enumerate(p.gate):
                parts.append(f"<rect class='gate {d.status}' tabindex='0' x='{cx - 5:.1f}' y='{cy - 14 - 8 * k:.1f}' "
                             f"width='10' height='6' fill='{_COLOURS[d.status]}'><title>{escape(gate_text(d))}"
                             "</title></rect>")
    parts.append("</svg>")
    return "".join(parts)


def history_html(series: list[Series], *, source: str, gate_source: str | None) -> str:
    """The page: one section per series, its SVG and its breaks listed with their reasons."""
    title = "mteval score history"
    body = [f"<h1>{title}</h1>",
            f"<p class='muted'>From {escape(source)}" + (f" and the gate decisions in {escape(gate_source)}"
                                                          if gate_source else "") +
            ". Runs are joined only while the metric's signature, the segment count and the references per segment "
            "stay the same; a dashed rule marks a break. Squares: gate decisions (green pass, red regression, grey "
            "refused). Hover or focus a mark for its run.</p>"]
    if not series:
        body.append("<p id='empty'>No runs to show.</p>")
    for s in series:
        body.append(f"<h2>{escape(s.dataset)} ({escape(s.direction)}) · {escape(s.system)} · "
                    f"{escape(metric_label(s.metric))}</h2>")
        body.append(series_svg(s))
        breaks = [seg for seg in s.segments if seg.reason]
        if breaks:
            body.append("<ul class='breaks'>" + "".join(f"<li>{escape(seg.points[0].time)}: line broken, "
                                                        f"{escape(seg.reason)}</li>" for seg in breaks) + "</ul>")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{_CSS}</style></head><body>" + "\n".join(body) + "</body></html>\n")
