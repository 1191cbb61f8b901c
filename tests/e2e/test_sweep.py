"""Sweeps: the WMT22 experiment config, the launcher configs, and a real multirun through two launchers."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hydra.utils import get_class
from omegaconf import OmegaConf

from mteval.bench.compare import SUBMISSIONS
from mteval.data.sacrebleu_cache import entry, read_fields
from mteval.data.sacrebleu_sets import submissions
from tests.helpers import MTEVAL

LAUNCHERS = {
    "local_joblib": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher",
    "local_submitit": "hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher",
    "slurm": "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher",
}


def test_experiment_sweeps_every_shipped_submission(wmt22, compose):
    cfg = compose("+experiment=wmt22_submissions")
    swept = cfg.hydra.sweeper.params["system.submission"].split(",")
    fields = read_fields(entry("wmt22", "en-zh"), "en-zh")
    assert sorted(swept) == submissions(list(fields)) == sorted(SUBMISSIONS)
    assert cfg.dataset.name == "wmt22_en_zh" and list(cfg.metrics) == ["bleu", "chrf"]
    assert cfg.system._target_ == "mteval.systems.submission.wmt_submission"


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_launcher_configs_compose(compose, launcher):
    cfg = compose(f"hydra/launcher={launcher}", "+experiment=wmt22_submissions")
    assert cfg.hydra.launcher._target_ == LAUNCHERS[launcher]
    get_class(cfg.hydra.launcher._target_)  # the plugin is installed
    if launcher != "local_joblib":  # submitit's logs and pickles live in the sweep dir
        raw = OmegaConf.to_container(cfg.hydra.launcher, resolve=False)
        assert raw["submitit_folder"].startswith("${hydra.sweep.dir}/")


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["local_submitit", "local_joblib"])
def test_real_sweep_then_compare(wmt22, tmp_path, launcher):
    sweep = tmp_path / "sweep"
    run = subprocess.run(
        [MTEVAL, "-m", f"hydra/launcher={launcher}", "dataset=wmt22_en_zh", "system=wmt22_submission",
         "system.submission=LanguageX,Online-G", "metrics=[bleu]", f"hydra.sweep.dir={sweep}", "cache=null",
         f"leaderboard={tmp_path / 'leaderboard.csv'}"],
        capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    runs = sorted(p.name for p in sweep.iterdir() if (p / "scores.json").is_file())
    assert runs == ["0_LanguageX", "1_Online-G"]
    if launcher == "local_submitit":
        assert (sweep / ".submitit").is_dir()
    bleu = {r: json.loads((sweep / r / "scores.json").read_text())["metrics"]["bleu"]["score"] for r in runs}
    assert bleu["0_LanguageX"] == pytest.approx(54.346, abs=1e-3) and bleu["1_Online-G"] == pytest.approx(43.86, abs=0.01)
    compare = subprocess.run([sys.executable, "-m", "mteval.commands.compare", str(sweep), "--baseline", "LanguageX",
                              "--n-bootstrap", "200", "--n-ar", "200", "--no-report"],
                             capture_output=True, text=True, timeout=600)
    assert compare.returncode == 0, compare.stderr[-3000:]
    assert "| LanguageX (baseline)" in compare.stdout and (sweep / "compare" / "table.csv").is_file()
