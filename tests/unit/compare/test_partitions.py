"""Domains and documents: each part tested as sacrebleu would test its lines alone; documents by spread; old runs."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.significance import PairedTest

from mteval.bench.compare import build_submission_runs
from mteval.compare.comparison import compare_runs
from mteval.compare.load import load_runset
from mteval.compare.partitions import MIN_TEST_SEGMENTS
from mteval.compare.table import record
from mteval.report.html import html_report
from mteval.report.markdown import markdown_report

SYSTEMS = ("LanguageX", "HuaweiTSC", "Online-G")
N_SEG = 300


@pytest.fixture(scope="module")
def sweep(wmt22, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sweep")
    build_submission_runs(out, SYSTEMS, limit=N_SEG)
    return out


@pytest.fixture(scope="module")
def comp(sweep):
    return compare_runs(load_runset([sweep]), ["bleu", "chrf"], baseline="HuaweiTSC", n_bootstrap=200, n_ar=300,
                        seed=12345, doc_bootstrap=100, doc_ar=100)


def _sacrebleu(runset, order: list[int], rows: np.ndarray, test_type: str, n: int):
    """sacrebleu's PairedTest on the lines ``rows`` only, baseline first."""
    refs = [[runset.refs[k][0] for k in rows]]
    metrics = {"BLEU": BLEU(tokenize="zh", references=refs), "CHRF": CHRF(references=refs)}
    named = [(runset.names[i], [runset.hyps(i)[k] for k in rows]) for i in order]
    return PairedTest(named, metrics, references=None, test_type=test_type, n_samples=n)()[1]


def test_each_domain_is_tested_as_sacrebleu_tests_its_lines(comp, monkeypatch):
    monkeypatch.setenv("SACREBLEU_SEED", "12345")
    rs = comp.runset
    domains = comp.metrics[0].partitions["domain"]
    assert [p.label for p in domains.parts] == sorted({d for d in rs.domains if d})
    assert sum(p.n for p in domains.parts) == N_SEG
    assert (domains.n_bootstrap, domains.n_ar) == (200, 300)
    part = max(domains.parts, key=lambda p: p.n)
    rows = np.flatnonzero(np.array(rs.domains, dtype=object) == part.label)
    order = [1, 0, 2]
    bs, ar = _sacrebleu(rs, order, rows, "bs", 200), _sacrebleu(rs, order, rows, "ar", 300)
    for m, key in zip(comp.metrics, ("BLEU", "chrF2"), strict=True):
        mine = next(p for p in m.partitions["domain"].parts if p.label == part.label)
        assert mine.n == len(rows)
        for k, i in enumerate(order):
            assert mine.scores[i] == bs[key][k].score
            assert (mine.intervals[i].mean, mine.intervals[i].half_width) == (bs[key][k].mean, bs[key][k].ci)
            assert mine.p_bs[i] == bs[key][k].p_value and mine.p_ar[i] == ar[key][k].p_value
        assert mine.p_bs[1] is None and mine.p_ar[1] is None  # the baseline
    # The per-domain scores the JSON and older readers use are the partition's.
    assert comp.metrics[0].domains[part.label].tolist() == part.scores.tolist()


def test_documents_carry_n_scores_and_tests_only_where_long_enough(comp):
    rs = comp.runset
    docs = comp.metrics[0].partitions["document"]
    ids = [d for d in rs.documents if d]
    assert len(ids) == N_SEG and {p.label for p in docs.parts} == set(ids)
    assert {p.label: p.n for p in docs.parts} == {d: ids.count(d) for d in set(ids)}
    assert (docs.n_bootstrap, docs.n_ar) == (100, 100)
    short = [p for p in docs.parts if p.n < MIN_TEST_SEGMENTS]
    long = [p for p in docs.parts if p.n >= MIN_TEST_SEGMENTS]
    assert short and long
    assert all(p.p_bs == [None] * 3 and p.p_ar == [None] * 3 for p in short)
    assert all(p.p_bs[0] is not None and p.p_ar[2] is not None and p.p_bs[1] is None for p in long)
    spreads = [p.spread for p in docs.by_spread()]
    assert spreads == sorted(spreads, reverse=True) and spreads[0] > spreads[-1]
    top = docs.by_spread()[0]
    assert top.spread == pytest.approx(top.scores.max() - top.scores.min())
    # A document's score is the corpus score of its segments' statistics (BLEU is not a mean).
    rows = [k for k, d in enumerate(rs.documents) if d == top.label]
    bleu = BLEU(tokenize="zh")
    assert top.scores[0] == pytest.approx(bleu.corpus_score([rs.hyps(0)[k] for k in rows],
                                                            [[rs.refs[k][0] for k in rows]]).score, abs=1e-9)


def test_the_record_holds_both_partitions_in_run_order(comp):
    rec = json.loads(json.dumps(record(comp)))
    parts = rec["metrics"]["bleu"]["partitions"]
    assert set(parts) == {"domain", "document"}
    assert parts["document"]["n_bootstrap"] == 100 and parts["document"]["min_test_segments"] == MIN_TEST_SEGMENTS
    first = parts["domain"]["parts"][0]
    mine = comp.metrics[0].partitions["domain"].parts[0]
    assert first["label"] == mine.label and first["n"] == mine.n
    assert first["score"] == [round(float(x), 6) for x in mine.scores]
    assert first["delta"][comp.baseline] == 0 and first["p_bs"][comp.baseline] is None
    assert first["p_ar"][2] == round(mine.p_ar[2], 6)


def test_runs_without_document_ids_still_load_and_keep_their_domains(sweep, tmp_path):
    for run in sorted(sweep.iterdir()):
        dst = tmp_path / run.name
        dst.mkdir()
        (dst / "scores.json").write_text((run / "scores.json").read_text(encoding="utf-8"), encoding="utf-8")
        rows = [json.loads(line) for line in (run / "segments.jsonl").read_text(encoding="utf-8").splitlines()]
        for row in rows:
            del row["doc_id"]  # as runs written before document ids were stored
        (dst / "segments.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    comp = compare_runs(load_runset([tmp_path]), ["bleu"], n_bootstrap=50, n_ar=0)
    assert set(comp.metrics[0].partitions) == {"domain"}
    assert all(p.p_ar == [None] * 3 for p in comp.metrics[0].partitions["domain"].parts)
    assert "Documents where" not in html_report(comp)


def test_the_report_colours_domain_cells_by_sign_and_significance(comp):
    page = html_report(comp)
    m = comp.metrics[0]
    part = m.partitions["domain"].parts[0]
    base, worse = comp.baseline, SYSTEMS.index("Online-G")
    body = page.split("<h3>BLEU by domain</h3>")[1].split("</table>")[0]
    assert f"n = {part.n}" in body and "<table class='domains sortable'>" in body
    row = re.search(r"<tr><td data-v='Online-G'>Online-G</td>(.*?)</tr>", body).group(1)
    first = re.match(r"<td class='([^']*)' data-v='[^']*'>([^<]*)<small>(.*?)</small>", row)
    d = part.scores[worse] - part.scores[base]
    assert first.group(2) == f"{part.scores[worse]:.2f}"
    iv = part.intervals[worse]
    assert first.group(3) == f"[{iv.lower:.2f}, {iv.upper:.2f}]<br>{d:+.2f} p {part.p_bs[worse]:.4f}/{part.p_ar[worse]:.4f}"
    sig = part.p_bs[worse] < comp.alpha and part.p_ar[worse] < comp.alpha
    assert first.group(1) == "num part " + ("up" if d > 0 else "down") + (" strong" if sig else "")
    # The document view: ranked by spread, only documents long enough for the tests on top, all below.
    docs = page.split("Documents where the systems differ most")[1]
    top = m.partitions["document"].by_spread()
    shown = re.findall(r"<tr><td data-v='[^']*'>([^<]+)</td><td class='num' data-v='\d+'>(\d+)</td>",
                       docs.split("<details")[0])
    assert [label for label, _ in shown][:3] == [p.label for p in top if p.n >= MIN_TEST_SEGMENTS][:3]
    assert all(int(n) >= MIN_TEST_SEGMENTS for _, n in shown)
    assert f"all {len(top)} documents by spread" in docs
    text = markdown_report(comp)
    assert "BLEU by domain (score [95% CI] difference to the baseline" in text
    assert f"{part.label} (n={part.n})" in text
