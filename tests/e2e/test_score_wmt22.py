"""`mteval-score` on WMT22: BLEU, chrF, TER and both paired p-values equal the sacrebleu CLI's in both directions,
and `-t wmt22` reproduces the published LanguageX number."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import mteval_score as score, sacrebleu_field, sacrebleu_json

SYSTEMS = {"en-zh": ("LanguageX", "HuaweiTSC", "Online-G"), "zh-en": ("NiuTrans", "Online-A", "Online-G")}


@pytest.mark.slow
@pytest.mark.parametrize("langpair", ["en-zh", "zh-en"])
def test_scores_and_paired_p_values_equal_sacrebleu_both_directions(wmt22, langpair, tmp_path):
    """WMT22 text (its first 400 segments, three submissions): BLEU, chrF, TER, the bootstrap mean and interval
    and both paired p-values equal `sacrebleu --paired-bs` / `--paired-ar` with the settings mteval's signature names."""
    src_lang, tgt_lang = langpair.split("-")
    paths = {}
    for field in ("src", "ref:A", *SYSTEMS[langpair]):
        lines = sacrebleu_field(langpair, field).read_text(encoding="utf-8").splitlines()[:400]
        paths[field] = tmp_path / f"{field.replace(':', '_')}.{src_lang if field == 'src' else tgt_lang}"
        paths[field].write_text("\n".join(lines) + "\n", encoding="utf-8")
    hyps = [str(paths[s]) for s in SYSTEMS[langpair]]
    proc = score("-s", str(paths["src"]), "-r", str(paths["ref:A"]), "-i", *hyps, "-l", langpair,
                 "-m", "bleu", "chrf", "ter", "--json", "--no-cache", "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    ours = json.loads(proc.stdout)
    # TER for a Chinese target is scored with asian_support and normalisation (its signature says so).
    ter_sig = ours["metrics"]["ter"]["signature"]
    ter = [flag for flag, part in (("--ter-asian-support", "asian:yes"), ("--ter-normalized", "norm:yes"))
           if part in ter_sig]
    single = sacrebleu_json(str(paths["ref:A"]), hyps[:1], langpair, *ter)
    bs = sacrebleu_json(str(paths["ref:A"]), hyps, langpair, *ter, "--paired-bs", "--paired-bs-n", "1000")
    ar = sacrebleu_json(str(paths["ref:A"]), hyps, langpair, *ter, "--paired-ar")
    for metric, key in (("bleu", "BLEU"), ("chrf", "chrF2"), ("ter", "TER")):
        m = ours["metrics"][metric]
        assert m["signature"] == single[key]["signature"], metric
        for name, row_bs, row_ar in zip(SYSTEMS[langpair], bs, ar, strict=True):
            got, base = m["systems"][Path(paths[name]).name], row_bs[key]
            assert (got["score"], got["mean"], got["ci"], got["p_bs"]) == (
                base["score"], base["mean"], base["ci"], base["p_value"]), (metric, name)
            assert got["p_ar"] == row_ar[key]["p_value"], (metric, name)
        assert round(m["systems"][Path(hyps[0]).name]["score"], 4) == single[key]["score"]


@pytest.mark.slow
def test_a_registered_test_set_reproduces_the_wmt22_number(wmt22, tmp_path):
    """`-t wmt22 -l en-zh` reads the test set through sacrebleu; LanguageX scores BLEU 54.3460 as published."""
    proc = score("-t", "wmt22", "-l", "en-zh", "-i", str(sacrebleu_field("en-zh", "LanguageX")), "-m", "bleu", "chrf",
                 "--no-cache", "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("wmt22_en-zh | wmt22.en-zh.LanguageX | en-zh | 2037 segments")
    assert any(l.split()[:2] == ["bleu", "54.3460"] for l in proc.stdout.splitlines()), proc.stdout
