"""User text in what we write: "$" in plot labels, Markdown in report.md and the gate summary, spreadsheet
formulas in every CSV (issue 11, item 12)."""
from __future__ import annotations

import csv
import io
import re

import pytest

from mteval.commands.compare import parser
from mteval.commands.compare import run as compare
from mteval.text.escape import csv_cell, mathtext_safe, md_code, md_text
from mteval.gate.baseline import load_baseline, view_of_run, write_baseline
from mteval.gate.config import GateConfig
from mteval.gate.decide import decide
from mteval.gate.summary import markdown
from mteval.metrics.sacre import BLEU, ChrF
from mteval.testing.runs import text_run

REFS = ["今天天气很好。", "我们提出一种新方法。", "模型规模很重要。", "请检查你的订单。", "这家商店周日关门。",
        "他昨天去了北京。"]
BAD = ["天气", "方法", "模型", "订单", "商店", "北京"]
MATH = r"$\notacommand{x}$ MT"  # matplotlib's mathtext raises on this, so the figure could not be drawn
MARKUP = "=HYPERLINK(\"http://evil\",\"x\") | **bold** <b>x</b> [l](http://e) `c`"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("LanguageX", "LanguageX"), ("wmt22_en_zh", "wmt22_en_zh"), ("_x_", r"\_x\_"), ("a|b", r"a\|b"),
     ("**b**", r"\*\*b\*\*"), ("<script>", "&lt;script&gt;"), ("[l](u)", r"\[l\](u)"), ("`c`", r"\`c\`"),
     ("# h", r"\# h"), ("- item", r"\- item"), ("1. item", r"1\. item"), ("a\nb", "a b"), ("~~s~~", r"\~\~s\~\~"),
     ("Online-G", "Online-G"), ("$x$ MT", r"\$x\$ MT"), ("costs $5", r"costs \$5")],
)
def test_md_text(text, expected):
    assert md_text(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-G", "'-G"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("a=b", "a=b"),
     (-1.5, -1.5), (3, 3), (None, None)],
)
def test_csv_cell(value, expected):
    assert csv_cell(value) == expected


def test_md_code_and_mathtext():
    assert md_code("a`b") == "``a`b``" and md_code("`x") == "`` `x ``"
    assert mathtext_safe("$5 $6") == r"\$5 \$6"


def test_the_unescaped_name_would_break_the_plot():
    """Guards the test below: this name really does crash matplotlib when not escaped."""
    from mteval.report.plots import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots()
    ax.set_yticks([0], [MATH])
    with pytest.raises(ValueError):
        fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


def test_compare_report_with_hostile_system_names(tmp_path, capsys):
    runs = [text_run(tmp_path / "a", REFS, REFS, metrics=[BLEU(), ChrF()], system=MATH),
            text_run(tmp_path / "b", BAD, REFS, metrics=[BLEU(), ChrF()], system=MARKUP)]
    out = compare(parser().parse_args([*map(str, runs), "--n-bootstrap", "50", "--n-ar", "0", "--jobs", "1",
                                       "--out", str(tmp_path / "cmp")]))
    capsys.readouterr()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") >= 2 and "<b>x</b>" not in html
    md = (out / "report.md").read_text(encoding="utf-8")
    tables = re.findall(r"(?m)(?:^\| .*\n)+", md)  # the main table, the metrics' correlations, the pair matrices
    assert len(tables) > 1 and all(len({line.count(" | ") for line in t.splitlines()}) == 1 for t in tables)
    assert r"\| \*\*bold\*\* &lt;b&gt;x&lt;/b&gt; \[l\](http://e) \`c\`" in md and "<b>" not in md
    assert r"\$\\notacommand{x}\$ MT" in md  # no math in a Markdown viewer
    with open(out / "table.csv", encoding="utf-8", newline="") as f:
        systems = [row["system"] for row in csv.DictReader(f)]
    assert "'" + MARKUP in systems and MATH in systems


def test_gate_summary_escapes_names_and_hypotheses(tmp_path):
    base = text_run(tmp_path / "base", REFS, REFS, metrics=[BLEU()], system="**good** | sys")
    cur = text_run(tmp_path / "cur", ["<img src=x>|" + h for h in BAD], REFS, metrics=[BLEU()], system=MARKUP)
    view = load_baseline(write_baseline(base, tmp_path / "b.json"))
    report = decide(view, view_of_run(cur), GateConfig(min_effect={"bleu": 0.5}, n_resamples=100))
    text = markdown(report)
    assert report.exit_code == 1
    assert r"(\*\*good\*\* \| sys," in text and "&lt;img src=x&gt;\\|" in text
    assert "<img" not in text and "**good**" not in text
    drops = text.split("### Largest bleu drops")[1]
    rows = [line for line in drops.splitlines() if line.startswith("| ")]
    assert len(rows) == 4 and len({line.count(" | ") for line in rows}) == 1  # header + the 3 worst
