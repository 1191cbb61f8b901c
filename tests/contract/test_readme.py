"""The README and docs/ tell the truth: their commands name real options and targets, and the offline ones run as written."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
#: The README and every page under docs/, by path: each is checked alike.
PAGES = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8")
         for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]}
ALL_TEXT = "\n".join(PAGES.values())
CONF = ROOT / "conf"
# Systems that need no model, so a README command using them runs here, offline.
OFFLINE_SYSTEMS = {"wmt22_submission", "wmt_submission", "copy"}


def commands(text: str = ALL_TEXT) -> list[str]:
    """Every command line in the bash blocks of ``text`` (continuations joined, comments dropped)."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        text = re.sub(r"\\\n\s*", " ", block)
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out


def options(group: str) -> set[str]:
    return {p.stem for p in (CONF / group).glob("*.yaml")}


def test_every_config_option_is_in_the_readme():
    for group in ("system", "metrics", "dataset"):
        missing = sorted(o for o in options(group) if f"`{o}`" not in ALL_TEXT)
        assert not missing, f"conf/{group} options neither the README nor docs/ lists: {missing}"


def test_every_make_target_the_readme_names_exists():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w-]+):", makefile, flags=re.M))
    named = {m.split()[1] for c in commands() for m in [c] if c.startswith("make ") and len(c.split()) > 1}
    named |= set(re.findall(r"`make ([\w-]+)", ALL_TEXT))
    assert named and not named - targets, f"README names make targets that do not exist: {named - targets}"


def test_every_group_option_in_a_readme_command_exists():
    groups = {"dataset": options("dataset"), "system": options("system"), "metrics": options("metrics"),
              "+experiment": options("experiment")}
    checked = 0
    for cmd in commands():
        for word in shlex.split(cmd.split("#")[0]):
            key, _, value = word.partition("=")
            if key not in groups or "<" in value:
                continue
            for option in value.strip("[]").split(","):
                assert option in groups[key], f"README command uses {key}={option}, which is no option: {cmd}"
                checked += 1
    assert checked > 10


def offline_runs() -> list:
    """(page, command) for every command that runs without a model: submissions, copy, sweeps of them, --help.
    A command on a WMT22 dataset or experiment reads WMT22 text: it carries the ``wmt22`` marker."""
    runs = []
    for page, text in PAGES.items():
        for cmd in commands(text):
            cmd = cmd.split(" #")[0].strip()
            if not cmd.startswith(".venv/bin/mteval ") or "<" in cmd or "..." in cmd:
                continue
            words = shlex.split(cmd)
            systems = {w.split("=", 1)[1] for w in words if w.startswith("system=")}
            if systems and systems <= OFFLINE_SYSTEMS or "+experiment=wmt22_submissions" in words or "--help" in words:
                runs.append(pytest.param(page, cmd, marks=pytest.mark.wmt22) if "wmt22" in cmd else (page, cmd))
    return runs


def test_the_readme_is_a_guide_and_docs_hold_the_rest():
    """At most ~200 lines; every docs page is linked from it; no page speaks of where it was written."""
    assert len(README.splitlines()) <= 200
    for page in PAGES:
        if page.startswith("docs/"):
            assert f"]({page})" in README, f"the README does not link {page}"
    for page, text in PAGES.items():
        for phrase in ("where this was written", "local CPU wheel", "no network here", "Not verified here"):
            assert phrase not in text, (page, phrase)
    # What the abstracts can tell: always said where they are described.
    for page in ("README.md", "docs/datasets.md"):
        assert "0 English–Chinese pairs" in PAGES[page] or "0 EN↔ZH pairs" in PAGES[page], page
        assert "Google Translate" in PAGES[page], page


SAMPLE = {"src.en": "The cat sat on the mat.\nIt rained all day.\nWe went home early.\n",
          "ref.zh": "猫坐在垫子上。\n下了一整天的雨。\n我们很早就回家了。\n",
          "hyp1.zh": "猫坐在垫子上。\n整天下雨。\n我们早早回家。\n",
          "hyp2.zh": "猫在垫子上。\n下了一整天雨。\n我们回家了。\n"}


def test_the_mteval_score_table_in_the_readme_is_what_it_prints(tmp_path):
    """The README's two-file sample table, rerun on its three sentences: every table line is printed as shown."""
    for name, text in SAMPLE.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "mteval.commands.score", "-s", "src.en", "-r", "ref.zh",
                           "-i", "hyp1.zh", "hyp2.zh", "-l", "en-zh", "-m", "bleu", "chrf", "--no-cache",
                           "--out", str(tmp_path / "o")], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    start = README.index("files | en-zh | 3 segments")
    shown = README[start:README.index("```", start)].strip().splitlines()
    printed = proc.stdout.splitlines()
    assert shown == printed[:len(shown)], (shown, printed)


@pytest.mark.slow
@pytest.mark.parametrize(("page", "cmd"), offline_runs())
def test_offline_readme_command_runs_as_written(page, cmd, tmp_path):
    """Runs the command verbatim, except that outputs go to a temporary directory."""
    words = [w for w in shlex.split(cmd) if not w.startswith(("hydra.run.dir=", "hydra.sweep.dir="))]
    words[0] = str(ROOT / words[0])
    words += [] if "--help" in words else [f"leaderboard={tmp_path / 'lb.csv'}", "cache=null",
                                             f"hydra.run.dir={tmp_path / 'run'}", f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    proc = subprocess.run(words, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # A number the page promises next to the command ("bleu 54.3460, chrf 49.1093") is what it prints.
    text = PAGES[page]
    line = next(line for line in text.splitlines() if cmd.split()[-1] in line or cmd in line)
    promised = re.findall(r"(bleu|chrf) (\d+\.\d{4})", text[text.index(line):text.index(line) + 400])[:2]
    for metric, value in promised:
        assert re.search(rf"^\s*{metric} {value} ", proc.stdout, flags=re.M), (metric, value, proc.stdout[-1500:])
