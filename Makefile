# mteval: `make test` and `make eval` set everything up on a fresh machine (.venv included).
SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
PIP   := $(VENV)/bin/pip
MTEVAL := $(VENV)/bin/mteval
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# torch first, chosen on purpose: TORCH_VARIANT=auto installs the CPU-only build from PyTorch's CPU index
# where there is no NVIDIA GPU (a bare `torch` from PyPI is the CUDA build, with several GB of nvidia-* wheels)
# and the default CUDA build where there is one; cpu or cuda forces either (mteval/commands/install_torch.py).
TORCH ?= torch==2.13.0
TORCH_VARIANT ?= auto

.PHONY: venv test test-fast eval demo meta-demo compare bench bench-compare bench-gate bench-eval baseline gate gate-demo models

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PY) -m mteval.commands.install_torch --torch "$(TORCH)" --variant $(TORCH_VARIANT)
	$(PIP) install --quiet -e '.[test]'
	touch $(STAMP)

## every test tier: tests/unit, tests/contract, tests/e2e (offline; WMT22 tests skip, named, without WMT22 text)
test: venv
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(PY) -m pytest -q $(PYTEST_ARGS)

## the fast tier: no neural model, no full WMT22-sized computation, no browser, no GPU
test-fast: venv
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(PY) -m pytest -q -m "not slow and not browser and not gpu" $(PYTEST_ARGS)

## the default experiment: opus-mt-en-zh on the abstracts and on WMT22 en-zh (needs the models: `make models`)
eval: venv
	$(MTEVAL)
	$(MTEVAL) dataset=wmt22_en_zh
	@echo; echo "leaderboard: results/leaderboard.csv"; tail -n 5 results/leaderboard.csv

GATE_BASELINE ?= results/baselines/wmt22_en_zh_LanguageX.json
GATE_BASE_RUN ?= results/runs/baseline
GATE_RUN      ?= results/runs/gate
# every gate decision, appended (mteval-history draws the trend with them marked)
GATE_HISTORY  ?= results/gate-history.csv
# The run that becomes the baseline, and the run gated against it (the same system: the gate passes).
BASELINE_EVAL ?= dataset=wmt22_en_zh system=wmt22_submission system.submission=LanguageX 'metrics=[bleu,chrf]'
GATE_EVAL     ?= $(BASELINE_EVAL)
# A worse system on the same test set, for the failing half of gate-demo.
WORSE_EVAL    ?= dataset=wmt22_en_zh system=wmt22_submission system.submission=Online-G 'metrics=[bleu,chrf]'
MODELS        ?=

## evaluate BASELINE_EVAL and snapshot it as GATE_BASELINE (built here, never committed: it holds test-set text)
baseline: venv
	$(MTEVAL) $(BASELINE_EVAL) hydra.run.dir=$(GATE_BASE_RUN) leaderboard=$(GATE_BASE_RUN)/leaderboard.csv
	$(VENV)/bin/mteval-gate --write-baseline $(GATE_BASE_RUN) --out $(GATE_BASELINE)

## evaluate GATE_EVAL, then gate it against GATE_BASELINE (made by `make baseline` when missing): exit 0 pass, 1 regression, 2 cannot compare
gate: venv
	@test -f $(GATE_BASELINE) || $(MAKE) --no-print-directory baseline
	$(MTEVAL) $(GATE_EVAL) hydra.run.dir=$(GATE_RUN) leaderboard=$(GATE_RUN)/leaderboard.csv
	$(VENV)/bin/mteval-gate --baseline $(GATE_BASELINE) --current $(GATE_RUN) --summary-md $(GATE_RUN)/gate.md --junit $(GATE_RUN)/gate-junit.xml --history $(GATE_HISTORY)

## the gate both ways: LanguageX against its own baseline passes (exit 0); Online-G fails it with exit 1, which CI reads as a regression
gate-demo: venv
	@test -f $(GATE_BASELINE) || $(MAKE) --no-print-directory baseline
	$(MTEVAL) $(GATE_EVAL) hydra.run.dir=$(GATE_RUN) leaderboard=$(GATE_RUN)/leaderboard.csv
	$(MTEVAL) $(WORSE_EVAL) hydra.run.dir=$(GATE_RUN)-worse leaderboard=$(GATE_RUN)-worse/leaderboard.csv
	@$(VENV)/bin/mteval-gate --baseline $(GATE_BASELINE) --current $(GATE_RUN); pass=$$?; \
	 $(VENV)/bin/mteval-gate --baseline $(GATE_BASELINE) --current $(GATE_RUN)-worse --summary-md $(GATE_RUN)-worse/gate.md; worse=$$?; \
	 printf 'min_effect: {bleu: 0.5, chrf: 0.5}\nn_resamples: 19\n' > $(GATE_RUN)-worse/never-fails.yaml; \
	 $(VENV)/bin/mteval-gate --baseline $(GATE_BASELINE) --current $(GATE_RUN)-worse --config $(GATE_RUN)-worse/never-fails.yaml; refused=$$?; \
	 echo; echo "gate-demo: LanguageX vs its baseline: mteval-gate exit $$pass (0 = pass, the CI job goes on)"; \
	 echo "gate-demo: Online-G  vs that baseline: mteval-gate exit $$worse (1 = regression, the CI job fails)"; \
	 echo "gate-demo: a gate config that could never fail (19 resamples): exit $$refused (2 = refused, the CI job fails)"; \
	 test $$pass -eq 0 -a $$worse -eq 1 -a $$refused -eq 2

## download every model and test set a config names (MODELS="system=nllb_600m 'metrics=[comet]'" or MODELS=--all)
models: venv
	$(VENV)/bin/mteval-prefetch $(MODELS)

## compare finished runs: make compare RUNS="results/multirun/<dir> ..." BASELINE=<system> (default: newest sweep)
# The newest sweep with at least one finished run (a scores.json), not merely the newest folder.
RUNS ?= $(shell for d in $$(ls -td results/multirun/*/ 2>/dev/null); do ls $$d*/scores.json >/dev/null 2>&1 && { echo $$d; break; }; done)
BASELINE ?=
compare: venv
	@test -n "$(RUNS)" || { echo "no sweep with a finished run under results/multirun: run one (make demo) or pass RUNS=..."; exit 2; }
	$(VENV)/bin/mteval-compare $(RUNS) $(if $(BASELINE),--baseline $(BASELINE))

## score the 13 WMT22 en-zh submissions (a Hydra sweep), then compare them (table + HTML report); the first run
## downloads the WMT22 release into sacrebleu's cache (~/.sacrebleu, or $$SACREBLEU) once, later runs are offline
DEMO_DIR ?= results/multirun/demo_wmt22_en_zh
demo: venv
	$(MTEVAL) -m +experiment=wmt22_submissions hydra.sweep.dir=$(DEMO_DIR)
	$(VENV)/bin/mteval-compare $(DEMO_DIR) --baseline LanguageX

## how far BLEU and chrF agree with the WMT22 zh-en human DA z-scores (12 submissions; the DA files from the WMT22 release)
# HUMAN_ZH_EN: the folder with ad-sys-scores-zh-en.csv, i.e. humaneval/DA/newstest2022-toen of the WMT22 release
# (github.com/wmt-conference/wmt22-news-systems); by default the copy under $(MTEVAL_SHARED)/data/wmt22.
MTEVAL_SHARED ?= ../shared
HUMAN_ZH_EN   ?= $(MTEVAL_SHARED)/data/wmt22/humaneval/zh-en
ZH_EN_SYSTEMS ?= AISP-SJTU,DLUT,HuaweiTSC,JDExploreAcademy,Lan-Bridge,LanguageX,NiuTrans,Online-A,Online-B,Online-G,Online-W,Online-Y
META_DIR      ?= results/multirun/wmt22_zh_en_da
meta-demo: venv
	@test -f $(HUMAN_ZH_EN)/ad-sys-scores-zh-en.csv || { echo "make meta-demo: $(HUMAN_ZH_EN)/ad-sys-scores-zh-en.csv \
	is missing: set HUMAN_ZH_EN to the folder holding the WMT22 zh-en DA files (humaneval of wmt22-news-systems)"; exit 2; }
	$(MTEVAL) -m dataset=wmt22_zh_en system=wmt22_submission system.submission=$(ZH_EN_SYSTEMS) 'metrics=[bleu,chrf]' hydra.sweep.dir=$(META_DIR)
	$(VENV)/bin/mteval-compare $(META_DIR) --metrics bleu,chrf --human $(HUMAN_ZH_EN)/ad-sys-scores-zh-en.csv

## mteval-compare vs sacrebleu --paired-bs on the 13 WMT22 submissions -> results/bench/compare.json
bench-compare: venv
	$(PY) -m mteval.commands.bench compare

## the CI job `make gate` runs, at real sizes (random weights), timed by stage: first run, a changed system, all
## cached -> results/bench/gate.json (BENCH_GATE_ARGS="--segments 100" for a quick look; docs/speed.md)
BENCH_GATE_ARGS ?=
bench-gate: venv
	HF_HUB_OFFLINE=1 $(PY) -m mteval.commands.bench gate $(BENCH_GATE_ARGS)

## `make eval`'s two runs (default system and metrics, real architectures, random weights) timed by stage ->
## results/bench/eval.json; translation, COMET and MetricX on BENCH_EVAL_ARGS="--segments N" of each run, scaled
BENCH_EVAL_ARGS ?=
bench-eval: venv
	HF_HUB_OFFLINE=1 $(PY) -m mteval.commands.bench eval $(BENCH_EVAL_ARGS)

## offline throughput: naive loop vs HF backend vs CTranslate2 int8, and COMET (about 4-5 min on 2 cores);
## then BLEU/chrF streamed at 100k and 1M segments vs sacrebleu at 100k -> results/bench/stream.json
## and MetricX hybrid-large-sized, fp32 and bf16 -> results/bench/metricx.json (first build of its 4.9 GB model: ~8 min)
bench: venv
	HF_HUB_OFFLINE=1 $(PY) -m mteval.commands.bench
	HF_HUB_OFFLINE=1 $(PY) -m mteval.commands.bench stream
	HF_HUB_OFFLINE=1 $(PY) -m mteval.commands.bench metricx
