"""The README tells the truth: its commands name real options and targets, and the offline ones run as written."""
from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
CONF = ROOT / "conf"
# Systems that need no model, so a README command using them runs here, offline.
OFFLINE_SYSTEMS = {"wmt22_submission", "wmt_submission", "copy"}


def commands() -> list[str]:
    """Every command line in the README's bash blocks (continuations joined, comments dropped)."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.S):
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
        missing = sorted(o for o in options(group) if f"`{o}`" not in README)
        assert not missing, f"conf/{group} options the README does not list: {missing}"


def test_every_make_target_the_readme_names_exists():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w-]+):", makefile, flags=re.M))
    named = {m.split()[1] for c in commands() for m in [c] if c.startswith("make ") and len(c.split()) > 1}
    named |= set(re.findall(r"`make ([\w-]+)", README))
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


def offline_runs() -> list[str]:
    runs = []
    for cmd in commands():
        cmd = cmd.split(" #")[0].strip()
        if not cmd.startswith(".venv/bin/mteval ") or "<" in cmd or "..." in cmd:
            continue
        words = shlex.split(cmd)
        systems = {w.split("=", 1)[1] for w in words if w.startswith("system=")}
        if systems and systems <= OFFLINE_SYSTEMS or "+experiment=wmt22_submissions" in words or "--help" in words:
            runs.append(cmd)
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("cmd", offline_runs())
def test_offline_readme_command_runs_as_written(cmd, tmp_path):
    """Runs the command verbatim, except that outputs go to a temporary directory."""
    words = [w for w in shlex.split(cmd) if not w.startswith(("hydra.run.dir=", "hydra.sweep.dir="))]
    words[0] = str(ROOT / words[0])
    words += [] if "--help" in words else [f"leaderboard={tmp_path / 'lb.csv'}", "cache=null",
                                             f"hydra.run.dir={tmp_path / 'run'}", f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    proc = subprocess.run(words, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # A number the README promises next to the command ("bleu 54.3460, chrf 49.1093") is what it prints.
    line = next(line for line in README.splitlines() if cmd.split()[-1] in line or cmd in line)
    promised = re.findall(r"(bleu|chrf) (\d+\.\d{4})", README[README.index(line):README.index(line) + 400])[:2]
    for metric, value in promised:
        assert re.search(rf"^\s*{metric} {value} ", proc.stdout, flags=re.M), (metric, value, proc.stdout[-1500:])
