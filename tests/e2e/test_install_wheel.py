"""`pip install .` outside a checkout: the wheel carries conf/, and an installed `mteval` finds it from any directory."""
from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from mteval.locations import WHEEL_CONF
from tests.helpers import ROOT


def test_every_conf_folder_travels_in_the_wheel():
    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["data-files"]
    folders = {p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "conf").rglob("*.yaml")}
    shipped = {dest.removeprefix("share/mteval/") for dest in data_files}
    assert folders <= shipped, f"conf folders the wheel leaves out: {sorted(folders - shipped)}"
    for dest, globs in data_files.items():
        assert dest.startswith(f"{WHEEL_CONF}") and globs == [f"{dest.removeprefix('share/mteval/')}/*.yaml"]


@pytest.mark.slow
def test_the_installed_wheel_finds_its_configs_outside_the_checkout(tmp_path):
    """Build the wheel, install it alone into a scratch venv that borrows this one's dependencies, and score
    two tiny files from a directory that is not the checkout."""
    # Without PYTHONPATH: a checkout on it would make pip think mteval is installed already.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MTEVAL_SHARED")}
    # Built from a copy of what the wheel is made of, so no build/ folder is left in the checkout.
    src = tmp_path / "src"
    for part in ("mteval", "conf"):
        shutil.copytree(ROOT / part, src / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, src / part)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", str(src),
                    "-w", str(tmp_path / "wheel")], check=True, timeout=300, capture_output=True, env=env)
    (wheel,) = (tmp_path / "wheel").glob("mteval-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "--quiet",
                    str(wheel)], check=True, timeout=300, capture_output=True, env=env)
    # The dependencies come from this interpreter's site-packages (a path line, so its editable mteval is not seen).
    purelib = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")

    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "src.en").write_text("The cat sat on the mat.\nIt rained all day.\n", encoding="utf-8")
    (work / "ref.zh").write_text("猫坐在垫子上。\n下了一整天的雨。\n", encoding="utf-8")
    (work / "hyp.zh").write_text("猫坐在垫子上。\n整天下雨。\n", encoding="utf-8")
    proc = subprocess.run([venv / "bin" / "mteval", "dataset=files", "dataset.load.src=src.en",
                           "dataset.load.refs=[ref.zh]", "system=file", "system.path=hyp.zh", "system.name=mine",
                           "metrics=[bleu]", "cache=null"], cwd=work, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "mteval/__init__.py" not in proc.stderr and str(ROOT) not in proc.stdout
    assert any(line.split()[:1] == ["bleu"] for line in proc.stdout.splitlines()), proc.stdout[-1500:]
    # Outputs go under the working directory, never into site-packages.
    assert list((work / "results" / "runs").glob("*/*/scores.json")) and (work / "results" / "leaderboard.csv").is_file()
    imported = subprocess.run([py, "-c", "import mteval, mteval.locations as l; print(mteval.__file__, l.conf_dir())"],
                              cwd=work, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert imported[0].startswith(str(venv)) and imported[1] == str((venv / WHEEL_CONF).resolve())
