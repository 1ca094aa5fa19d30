"""``--online``: the paper's downloaded data and models are added to each experiment, and a part
that cannot be fetched is skipped with its reason while the offline parts still run.

The experiments' own computations are replaced by stubs here (their quick runs are tested in their
own files); what is tested is which parts are asked for and how unavailability is reported.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from relreps.encoders import ModelUnavailableError
from relreps.experiments import abs_vs_rel_training, ae_stitching, cross_lingual, graph
from relreps.experiments import text_stitching as ts
from relreps.experiments.base import DataSelection, ExperimentResult, RunContext, Verdict


def _stub_result(name: str, data: str = "") -> ExperimentResult:
    return ExperimentResult(
        name=name,
        title=name,
        paper_ref="-",
        config={"data": data},
        verdicts=(Verdict("offline claim", "reproduced", "ok"),),
    )


@pytest.mark.parametrize("module", [ae_stitching, abs_vs_rel_training])
def test_online_adds_mnist_and_cifar(module: Any, tmp_path: Path, monkeypatch) -> None:
    seen: list[tuple[str, ...]] = []
    monkeypatch.setattr(
        module, "run_config", lambda config, context: seen.append(config.datasets) or None
    )
    module.run(RunContext(tmp_path, quick=True))
    module.run(RunContext(tmp_path, quick=True, online=True))
    assert "mnist" not in seen[0] and "cifar10" not in seen[0]
    assert seen[1] == (*seen[0], "mnist", "cifar10")


def test_online_asks_for_every_planetoid_set_unless_the_flag_names_some() -> None:
    assert graph.planetoid_requested(online=False) == ()
    assert graph.planetoid_requested(online=True) == ("Cora", "CiteSeer", "PubMed")
    assert graph.planetoid_requested(("cora",), online=True) == ("Cora",)


def test_text_stitching_online_keeps_the_offline_run_and_skips_what_cannot_load(
    tmp_path: Path, monkeypatch
) -> None:
    ran: list[str] = []

    def fake_run_config(config: Any, context: Any, *, data: Any = None, **kwargs: Any) -> Any:
        name = "wordnet" if data is None else data
        ran.append(name)
        return _stub_result(ts.NAME, name)

    def fake_load(name: str, seed: int) -> str:
        if name == "trec":
            raise OSError("hub unreachable")
        return name

    monkeypatch.setattr(ts, "run_config", fake_run_config)
    monkeypatch.setattr(ts, "load_online_data", fake_load)
    monkeypatch.setattr(ts, "_paper_encoders", lambda names: {n: object() for n in names})
    offline = ts.run(RunContext(tmp_path, quick=True))
    assert ran == ["wordnet"] and offline.config["data"] == "wordnet"

    ran.clear()
    result = ts.run(RunContext(tmp_path, quick=True, online=True))
    assert ran == ["wordnet", "dbpedia14", "amazon_reviews_multi"]
    skipped = [v for v in result.verdicts if v.status == "skipped"]
    assert [v.claim for v in skipped] == ["[trec] the paper's encoders stitch on trec"]
    assert "OSError: hub unreachable" in skipped[0].detail
    assert result.config["datasets"] == ["wordnet", "dbpedia14", "amazon_reviews_multi"]

    def no_encoders(names: Any) -> Any:
        raise ModelUnavailableError("bert-base-cased needs the network")

    monkeypatch.setattr(ts, "_paper_encoders", no_encoders)
    ran.clear()  # --text-datasets narrows what --online asks for
    result = ts.run(
        RunContext(tmp_path, quick=True, selection=DataSelection(text_datasets=("trec",)))
    )
    assert ran == ["wordnet"]
    (skipped,) = [v for v in result.verdicts if v.status == "skipped"]
    assert "paper's encoders are unavailable: bert-base-cased needs the network" in skipped.detail


def test_cross_lingual_online_reports_why_the_amazon_setting_did_not_run(
    tmp_path: Path, monkeypatch
) -> None:
    amazon = Verdict("Amazon reviews, one RoBERTa per language", "skipped", "online only")
    offline = replace(_stub_result(cross_lingual.NAME), verdicts=(amazon,))
    monkeypatch.setattr(cross_lingual, "run_config", lambda config, context: offline)
    asked: list[tuple[str, ...]] = []

    def unreachable(languages: Any, **kwargs: Any) -> Any:
        asked.append(tuple(languages))
        raise ModelUnavailableError("roberta-base needs the network")

    monkeypatch.setattr(cross_lingual, "amazon_stitching", unreachable)
    assert cross_lingual.run(RunContext(tmp_path, quick=True)) is offline and asked == []
    result = cross_lingual.run(RunContext(tmp_path, quick=True, online=True))
    assert asked == [cross_lingual.AMAZON_LANGUAGES]
    (verdict,) = result.verdicts
    assert verdict.status == "skipped"
    assert "ModelUnavailableError: roberta-base needs the network" in verdict.detail
