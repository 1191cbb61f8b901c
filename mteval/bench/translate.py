"""`make bench`: translation tokens/s (naive loop, HF backend, CTranslate2) and COMET segments/s, offline.

The COMET-22-sized precision and sweep measurements are :mod:`mteval.bench.comet_speed` (results/bench/comet.json).
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mteval.bench.common import Clock, bench_process_setup, lines_at, load_inputs
from mteval.bench.models import reference_files, source_file
from mteval.systems.batching import split_cores
from mteval.systems.ctranslate2 import CT2Seq2Seq
from mteval.systems.hf_seq2seq import HFSeq2Seq
from mteval.testing._build import quiet
from mteval.metrics.comet import Comet

#: The issue #5 targets on a 2-core CPU, greedy decoding, same inputs.
TARGETS = {"hf_vs_naive": 8.0, "ct2_vs_hf": 2.5}


def naive_translator(model_dir: Path, new_tokens: int, device: str = "cpu") -> Callable[[list[str]], list[str]]:
    """What a first script does: load the model, then one ``generate`` call per sentence."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir).to(device).eval()

    def run(texts: list[str]) -> list[str]:
        out = []
        for text in texts:
            ids = model.generate(**tok([text], return_tensors="pt").to(device), num_beams=1, do_sample=False,
                                 max_new_tokens=new_tokens)
            if ids.shape[1] != new_tokens + 1:  # the decoder start token plus the new ones
                raise RuntimeError(f"expected {new_tokens} new tokens, got {ids.shape[1] - 1}")
            out.append(tok.decode(ids[0], skip_special_tokens=True))
        return out

    return run


def system_translator(system: Any) -> Callable[[list[str]], list[str]]:
    """``system.translate`` for English->Chinese, checked to return one output per source."""

    def run(texts: list[str]) -> list[str]:
        outs = system.translate(texts, src_lang="en", tgt_lang="zh").hyps
        if len(outs) != len(texts):
            raise RuntimeError(f"{system.name}: {len(outs)} outputs for {len(texts)} sources")
        return outs

    return run


def check_fixed_length(system: Any, sources: list[str], new_tokens: int) -> None:
    """Assert the CTranslate2 backend decodes exactly ``new_tokens`` tokens per sentence, as generate does."""
    tok = system.tokenizer  # loads the translator and its decoding options
    source = [tok.convert_ids_to_tokens(ids) for ids in tok(sources)["input_ids"]]
    lengths = {len(r.hypotheses[0]) for r in system._translator.translate_batch(source, **system._decoding)}
    if lengths != {new_tokens}:
        raise RuntimeError(f"CTranslate2 decoded {sorted(lengths)} tokens, expected {new_tokens}")


def build_path(spec: dict[str, Any]) -> Callable[[list[str]], list[str]]:
    """One benchmark path from a picklable spec: ``naive``, ``hf`` (HFSeq2Seq) or ``ct2`` (CT2Seq2Seq)."""
    kind, kwargs = spec["kind"], spec["kwargs"]
    if kind == "naive":
        return naive_translator(Path(kwargs["model"]), kwargs["new_tokens"], kwargs.get("device", "cpu"))
    if kind == "hf":

        return system_translator(HFSeq2Seq(**kwargs))

    system = CT2Seq2Seq(**kwargs)
    check_fixed_length(system, spec["check"], kwargs["max_new_tokens"])
    return system_translator(system)


def _serve(conn: Any, spec: dict[str, Any], threads: int) -> None:
    """A path's own process: build it, then time each chunk the parent sends (None ends it)."""
    bench_process_setup()
    import torch


    torch.set_num_threads(threads)
    try:
        with quiet():
            run = build_path(spec)
        conn.send(("ready", None))
        while (texts := conn.recv()) is not None:
            clock = Clock()
            clock(run, texts)
            conn.send(("timed", (clock.wall, clock.cpu)))
    except Exception as err:  # noqa: BLE001 - reported to the parent, which stops the benchmark
        conn.send(("error", f"{type(err).__name__}: {err}"))
    finally:
        conn.close()


class ProcessPath:
    """A benchmark path in its own process, as in real use where a run loads one backend.

    Backends in one process disturb each other (CTranslate2 brings its own OpenMP runtime; the
    Hugging Face backend ran 20% slower after it had run), so each gets a process; the parent
    only hands out chunks. Calling it returns the (wall, CPU) seconds the chunk took in there.
    """

    def __init__(self, spec: dict[str, Any], threads: int, name: str | None = None):
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(child, spec, threads), daemon=True)
        self._process.start()
        child.close()
        self.name = name or spec["kind"]
        self._reply("ready")

    def _reply(self, expected: str) -> Any:
        try:
            kind, payload = self._conn.recv()
        except EOFError:
            raise RuntimeError(f"benchmark path {self.name!r} died (exit code {self._process.exitcode})") from None
        if kind != expected:
            raise RuntimeError(f"benchmark path {self.name!r} failed: {payload}")
        return payload

    def __call__(self, texts: list[str]) -> tuple[float, float]:
        self._conn.send(list(texts))
        return self._reply("timed")

    def close(self) -> None:
        """Stop the process (it exits when told; killed if it does not)."""
        try:
            self._conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()


def interleaved(paths: dict[str, Callable[[list[str]], tuple[float, float]]], sources: list[str], rounds: int,
                threads: int, tokens_per_source: int) -> dict[str, dict[str, float]]:
    """Time every path on the same sources, in ``rounds`` chunks taken by all paths in turn.

    Each path returns the (wall, CPU) seconds a chunk took. Interleaving spreads any background
    load over the paths alike, so their ratios stay fair on a shared machine. Each path is
    warmed up on one sentence first (allocations, kernel choice).
    """
    clocks = {key: Clock() for key in paths}
    for run in paths.values():
        run(sources[:1])
    size = -(-len(sources) // rounds)
    for start in range(0, len(sources), size):
        chunk = sources[start : start + size]
        for key, run in paths.items():
            wall, cpu = run(chunk)
            clocks[key].wall += wall
            clocks[key].cpu += cpu
    return {key: clock.rate(len(sources) * tokens_per_source, "tokens_per_s", threads)
            for key, clock in clocks.items()}


def run_paths(specs: dict[str, dict[str, Any]], sources: list[str], rounds: int, threads: int,
              tokens_per_source: int) -> dict[str, dict[str, float]]:
    """:func:`interleaved` over one process per path; the processes are stopped afterwards."""
    paths: dict[str, ProcessPath] = {}
    try:
        for key, spec in specs.items():
            paths[key] = ProcessPath(spec, threads, key)
        return interleaved(paths, sources, rounds, threads, tokens_per_source)
    finally:
        for path in paths.values():
            path.close()


def bench_translation(models: dict[str, Path], args: argparse.Namespace) -> dict[str, Any]:
    """Tokens/s of the CPU paths on the same sentences (and GPU bf16 / CT2 fp16 where present)."""
    import torch

    sources = lines_at(source_file(), load_inputs(args.sentences))
    common = dict(model=str(models["marian"]), num_beams=1, max_new_tokens=args.new_tokens,
                  batch_size=args.batch_size, max_tokens=args.max_tokens, max_input_tokens=512,
                  split_sentences=False)  # one output of new_tokens per input, so tokens are counted exactly
    inter, intra = split_cores(args.threads)  # as the configs' automatic setting, on --threads cores
    ct2 = dict(name="ct2", device="cpu", inter_threads=inter, intra_threads=intra, **common)
    # Converted once into results/cache/ct2/, keyed by the model files, like any CT2 system. The
    # float32 row is the same engine unquantised: what int8 itself gains on this CPU.
    specs = {
        "naive": {"kind": "naive", "kwargs": {"model": str(models["marian"]), "new_tokens": args.new_tokens}},
        "hf_backend": {"kind": "hf", "kwargs": dict(name="hf", device="cpu", dtype="float32", parallel_batches=inter,
                                                    **common)},
        "ct2_int8": {"kind": "ct2", "kwargs": {**ct2, "compute_type": "int8"}, "check": sources[:4]},
        "ct2_float32": {"kind": "ct2", "kwargs": {**ct2, "compute_type": "float32"}, "check": sources[:4]},
    }
    out: dict[str, Any] = {"sentences": len(sources), "new_tokens_per_sentence": args.new_tokens,
                           "decoding": "greedy", "threads": args.threads, "ct2_threads": [inter, intra],
                           "rounds": args.rounds, "batch_size": args.batch_size, "max_tokens": args.max_tokens,
                           "one_process_per_path": True}
    out.update(run_paths(specs, sources, args.rounds, args.threads, args.new_tokens))
    out["ratios"] = {
        "hf_vs_naive": round(out["hf_backend"]["tokens_per_s"] / out["naive"]["tokens_per_s"], 2),
        "ct2_vs_hf": round(out["ct2_int8"]["tokens_per_s"] / out["hf_backend"]["tokens_per_s"], 2),
        "ct2_int8_vs_float32": round(out["ct2_int8"]["tokens_per_s"] / out["ct2_float32"]["tokens_per_s"], 2),
    }
    out["targets"] = {k: {"min": v, "met": out["ratios"][k] >= v} for k, v in TARGETS.items()}
    out["gpu"] = bench_translation_gpu(common, sources, args) if torch.cuda.is_available() else None
    return out


def bench_translation_gpu(common: dict, sources: list[str], args) -> dict[str, Any]:
    """bf16 Hugging Face and fp16 CTranslate2 throughput on the first GPU, with bigger batches."""
    import ctranslate2
    import torch

    gpu = {**common, "batch_size": args.gpu_batch_size, "max_tokens": None}
    many = (sources * (args.gpu_sentences // len(sources) + 1))[: args.gpu_sentences]
    many = [f"{s} ({i})" for i, s in enumerate(many)]  # distinct, so none is deduplicated away
    specs = {"hf_bf16": {"kind": "hf", "kwargs": dict(name="hf", device="cuda", dtype="bfloat16", **gpu)}}
    out: dict[str, Any] = {"device": torch.cuda.get_device_name(0), "sentences": len(many),
                           "batch_size": args.gpu_batch_size}
    if ctranslate2.get_cuda_device_count() > 0:
        specs["ct2_fp16"] = {"kind": "ct2", "kwargs": dict(name="ct2", device="cuda", compute_type="float16", **gpu),
                             "check": sources[:4]}
    else:  # e.g. a CTranslate2 wheel without the CUDA libraries it needs
        out["ct2_fp16"] = None
    out.update(run_paths(specs, many, 1, args.threads, args.new_tokens))
    return out


def bench_comet(models: dict[str, Path], args: argparse.Namespace) -> dict[str, Any]:
    """Segments/s of mteval's COMET metric (src, mt, ref) on a tiny and an XLM-R-base-sized encoder."""
    import torch


    idx = load_inputs(max(args.comet_tiny_segments, args.comet_base_segments), seed=1)
    srcs, hyps, refs = lines_at(source_file(), idx), lines_at(reference_files()[1], idx), lines_at(reference_files()[0], idx)
    out: dict[str, Any] = {"batch_size": 16, "threads": args.threads}
    plans = [("tiny", "cpu", args.comet_tiny_segments), ("base", "cpu", args.comet_base_segments)]
    if torch.cuda.is_available():
        plans.append(("base", "cuda", args.comet_gpu_segments))
    for size, device, n in plans:
        metric = Comet(model=str(models[f"comet_{size}"]), batch_size=16, device=device,
                       cpu_threads=args.threads if device == "cpu" else None)
        metric.score(hyps[:2], [[r] for r in refs[:2]], srcs[:2])  # load and warm up
        many = (list(range(len(idx))) * (n // len(idx) + 1))[:n]
        clock = Clock()
        clock(metric.score, [hyps[i] for i in many], [[refs[i]] for i in many], [srcs[i] for i in many])
        out[f"{size}_{device}"] = clock.rate(n, "segments_per_s", args.threads)
    return out


def format_table(result: dict[str, Any]) -> str:
    """The benchmark as a plain-text table with the ratios and whether each target is met."""
    tr = result["translate"]
    naive = tr["naive"]["tokens_per_s"]
    lines = [f"Translation: opus-mt-en-zh-sized Marian (random weights), greedy, {tr['new_tokens_per_sentence']} "
             f"new tokens per sentence, {tr['sentences']} WMT22 sentences, {tr['threads']} CPU threads",
             f"{'path':<34}{'tokens/s':>10}{'x naive':>9}{'seconds':>9}{'cpu share':>11}"]
    rows = [("naive per-sentence generate()", tr["naive"]), ("mteval HF backend (fp32, batched)", tr["hf_backend"]),
            ("mteval CTranslate2 backend (int8)", tr["ct2_int8"]),
            ("  same, float32 (for reference)", tr["ct2_float32"])]
    for label, row in rows:
        lines.append(f"{label:<34}{row['tokens_per_s']:>10.1f}{row['tokens_per_s'] / naive:>9.1f}"
                     f"{row['seconds']:>9.1f}{row['cpu_share']:>11.2f}")
    for key, label in (("hf_vs_naive", "HF backend / naive"), ("ct2_vs_hf", "CTranslate2 int8 / HF backend")):
        target = tr["targets"][key]
        lines.append(f"{label}: {tr['ratios'][key]:.2f}x (target >= {target['min']}x: "
                     f"{'met' if target['met'] else 'NOT MET'})")
    lines.append(f"CTranslate2 int8 / its float32: {tr['ratios']['ct2_int8_vs_float32']:.2f}x (what int8 gains on this CPU)")
    if tr.get("gpu"):
        gpu = tr["gpu"]
        ct2 = f"{gpu['ct2_fp16']['tokens_per_s']:.0f} tokens/s" if gpu["ct2_fp16"] else "skipped (no CUDA for it)"
        lines.append(f"GPU {gpu['device']}: HF bf16 {gpu['hf_bf16']['tokens_per_s']:.0f} tokens/s, "
                     f"CTranslate2 fp16 {ct2}")
    else:
        lines.append("GPU: none visible, GPU rows skipped")
    if "comet" in result:
        lines.append("COMET (src, mt, ref), mteval metric, batch 16:")
        for key, row in result["comet"].items():
            if isinstance(row, dict):
                lines.append(f"  {key:<12}{row['segments_per_s']:>10.1f} segments/s ({row['count']} segments, "
                             f"cpu share {row['cpu_share']:.2f})")
    if "machine" in result:
        m = result["machine"]
        lines.append(f"CPU: {m.get('cpu_model')} ({', '.join(m.get('isa', []))}), {m['cpu_cores']} cores; 1-min load "
                     f"{m['load_average_1m']['start']} at start, {m['load_average_1m']['end']} at end")
    return "\n".join(lines)
