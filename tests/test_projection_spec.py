"""ProjectionSpec: defaults, validation, repr, JSON round trip, and every consumer taking one."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, replace

import numpy as np
import pytest

import relreps
from relreps import ProjectionSpec, RelativeProjector, relative_projection


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_defaults_are_the_papers():
    spec = ProjectionSpec()
    assert spec.options() == {
        "similarity": "cosine",
        "center": None,
        "aggregate": "concat",
        "topk": None,
        "power": None,
        "chunk_size": None,
    }
    assert spec.non_defaults() == {}
    with pytest.raises(FrozenInstanceError):
        spec.topk = 3  # type: ignore[misc]


def test_exported_from_the_root():
    assert relreps.ProjectionSpec is ProjectionSpec
    assert "ProjectionSpec" in relreps.__all__


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"similarity": "nope"}, ValueError, r"`similarity` to be one of \["),
        ({"similarity": []}, ValueError, r"`similarity` to be a similarity name"),
        ({"similarity": ["cosine", "cosine"]}, ValueError, r"a list of distinct similarities"),
        ({"similarity": 3}, ValueError, r"`similarity` to be a similarity name"),
        ({"center": "mean"}, ValueError, r"`center` to be one of \['anchors'\], but got 'mean'"),
        ({"center": np.zeros(3)}, TypeError, r"`center` to be None or 'anchors'"),
        ({"aggregate": "max"}, ValueError, r"`aggregate` to be one of \['concat', 'sum', 'mean'\]"),
        ({"topk": 0}, ValueError, r"`topk` to be an int in \[1, inf\], but got 0"),
        ({"topk": 1.5}, TypeError, r"`topk` to be an int in \[1, inf\], but got 1.5"),
        ({"topk": True}, TypeError, r"`topk` to be an int"),
        ({"power": 0.0}, ValueError, r"`power` to be a finite number in \(0.0, inf\]"),
        ({"power": float("nan")}, ValueError, r"`power` to be a finite number"),
        ({"power": "2"}, TypeError, r"`power` to be a real number"),
        ({"chunk_size": 0}, ValueError, r"`chunk_size` to be an int in \[1, inf\], but got 0"),
        ({"chunk_size": 2.0}, TypeError, r"`chunk_size` to be an int"),
    ],
)
def test_every_field_is_validated(kwargs, error, match):
    with pytest.raises(error, match=match):
        ProjectionSpec(**kwargs)
    if "center" in kwargs and not isinstance(kwargs["center"], str):
        return  # relative_projection takes a centre vector as a keyword, outside the spec
    with pytest.raises(error, match=match):  # the convenience keywords go through the spec
        relative_projection(np.ones((2, 3)), np.eye(3), **kwargs)


def test_replace_validates_again():
    with pytest.raises(ValueError, match="`topk`"):
        replace(ProjectionSpec(), topk=-1)


def test_values_are_normalised():
    spec = ProjectionSpec(
        similarity=["cosine", "euclidean"], topk=np.int64(3), chunk_size=np.int32(8)
    )
    assert spec.similarity == ("cosine", "euclidean")
    assert type(spec.topk) is int and type(spec.chunk_size) is int
    assert hash(spec) == hash(
        ProjectionSpec(similarity=("cosine", "euclidean"), topk=3, chunk_size=8)
    )


def test_repr_shows_the_similarity_and_what_differs_from_the_defaults():
    assert repr(ProjectionSpec()) == "ProjectionSpec(similarity='cosine')"
    spec = ProjectionSpec(similarity=["cosine", "l1"], center="anchors", aggregate="sum", topk=2)
    assert repr(spec) == (
        "ProjectionSpec(similarity=('cosine', 'l1'), center='anchors', aggregate='sum', topk=2)"
    )
    rbf = relreps.get_similarity("rbf")
    assert repr(ProjectionSpec(similarity=rbf)) == "ProjectionSpec(similarity=<Similarity 'rbf'>)"
    assert eval(repr(spec), {"ProjectionSpec": ProjectionSpec}) == spec


@pytest.mark.parametrize(
    "spec",
    [
        ProjectionSpec(),
        ProjectionSpec(similarity=["cosine", "euclidean", "l1"], aggregate="mean", topk=4),
        ProjectionSpec(similarity="rbf", center="anchors", power=2, chunk_size=128),
        ProjectionSpec(similarity=relreps.get_similarity("angular"), power=0.5),
    ],
)
def test_json_round_trip(spec):
    data = json.loads(json.dumps(spec.to_dict()))
    assert set(data) == set(spec.options())
    back = ProjectionSpec.from_dict(data)
    assert back.to_dict() == spec.to_dict()
    x, a = (
        np.random.default_rng(1).normal(size=(6, 4)),
        np.random.default_rng(2).normal(size=(5, 4)),
    )
    np.testing.assert_array_equal(
        relative_projection(x, a, spec=back), relative_projection(x, a, spec=spec)
    )


def test_from_dict_rejects_unknown_keys_and_fills_defaults():
    with pytest.raises(
        ValueError, match=r"keys among \[.*\], but got unknown keys \['output_norm'\]"
    ):
        ProjectionSpec.from_dict({"similarity": "cosine", "output_norm": "layernorm"})
    with pytest.raises(TypeError, match="`data` to be a dict"):
        ProjectionSpec.from_dict([("similarity", "cosine")])  # type: ignore[arg-type]
    assert ProjectionSpec.from_dict({"topk": 2}) == ProjectionSpec(topk=2)


def test_to_dict_refuses_similarities_json_cannot_name():
    rbf = relreps.get_similarity("rbf").with_params(bandwidth=1.0)
    with pytest.raises(ValueError, match="unregistered or re-parametrised Similarity 'rbf'"):
        ProjectionSpec(similarity=rbf).to_dict()


# --- relative_projection: spec vs keywords ---------------------------------------------------


OPTIONS = [
    {},
    {"similarity": "euclidean"},
    {"center": "anchors"},
    {"similarity": ["cosine", "euclidean"], "aggregate": "mean"},
    {"topk": 2, "power": 2.0},
    {"chunk_size": 2},
]


@pytest.mark.parametrize("options", OPTIONS)
def test_spec_and_keywords_are_equivalent(rng, options):
    x, a = rng.normal(size=(7, 4)), rng.normal(size=(5, 4))
    expected = relative_projection(x, a, **options)
    spec = ProjectionSpec(**options)
    np.testing.assert_array_equal(relative_projection(x, a, spec=spec), expected)
    # keywords that agree with the spec are fine
    np.testing.assert_array_equal(relative_projection(x, a, spec=spec, **options), expected)


def test_a_conflicting_keyword_is_an_error(rng):
    x, a = rng.normal(size=(4, 3)), rng.normal(size=(3, 3))
    spec = ProjectionSpec(topk=2, center="anchors")
    with pytest.raises(
        ValueError, match=r"`topk` to be left out or to agree with `spec` \(spec.topk=2\)"
    ):
        relative_projection(x, a, spec=spec, topk=None)
    with pytest.raises(ValueError, match=r"`similarity` to be left out"):
        relative_projection(x, a, spec=spec, similarity="l1")
    with pytest.raises(ValueError, match=r"`center` to be left out .* a centre vector"):
        relative_projection(x, a, spec=spec, center=np.zeros(3))
    with pytest.raises(TypeError, match=r"`spec` to be a relreps.ProjectionSpec or None"):
        relative_projection(x, a, spec={"topk": 2})  # type: ignore[arg-type]


def test_a_centre_vector_stays_a_keyword(rng):
    x, a = rng.normal(size=(4, 3)), rng.normal(size=(3, 3))
    got = relative_projection(x, a, spec=ProjectionSpec(similarity="l1"), center=a.mean(axis=0))
    np.testing.assert_allclose(got, relative_projection(x, a, similarity="l1", center="anchors"))


def test_resolve():
    assert ProjectionSpec.resolve(None) == ProjectionSpec()
    spec = ProjectionSpec(similarity="rbf")
    assert ProjectionSpec.resolve(spec, similarity=relreps.get_similarity("rbf")) is spec
    with pytest.raises(ValueError, match="`similarity` to be left out"):
        ProjectionSpec.resolve(spec, similarity=["rbf"])  # one similarity is not a list of one
    with pytest.raises(TypeError, match="projection options among"):
        ProjectionSpec.resolve(None, output_norm="l2")


# --- the consumers ---------------------------------------------------------------------------


def test_relative_projector_takes_a_spec(rng):
    x, a = rng.normal(size=(6, 4)), rng.normal(size=(5, 4))
    spec = ProjectionSpec(similarity=["cosine", "l1"], center="anchors", topk=3)
    projector = RelativeProjector(spec=spec).fit(a)
    assert projector.spec_ == spec
    np.testing.assert_array_equal(projector.transform(x), relative_projection(x, a, spec=spec))
    assert projector.get_params()["spec"] is spec
    assert repr(projector).endswith(f"spec={spec!r})")
    # parameters at their defaults defer to the spec; agreeing ones are fine; others are errors
    assert RelativeProjector(center="anchors", spec=spec).fit(a).spec_ == spec
    with pytest.raises(ValueError, match=r"`topk` to be left out or to agree with `spec`"):
        RelativeProjector(topk=2, spec=spec).fit(a)
    # keywords alone give the same spec
    same = RelativeProjector(["cosine", "l1"], center="anchors", topk=3).fit(a)
    assert same.spec_ == spec


def test_relative_projector_with_a_spec_clones_and_pickles(rng):
    import pickle

    base = pytest.importorskip("sklearn.base")
    x, a = rng.normal(size=(6, 4)), rng.normal(size=(5, 4))
    projector = RelativeProjector(spec=ProjectionSpec(similarity="euclidean", power=2.0)).fit(a)
    cloned = base.clone(projector)
    assert cloned.get_params() == projector.get_params()
    np.testing.assert_array_equal(cloned.fit(a).transform(x), projector.transform(x))
    restored = pickle.loads(pickle.dumps(projector))
    np.testing.assert_array_equal(restored.transform(x), projector.transform(x))
    rebuilt = RelativeProjector().set_params(spec=ProjectionSpec(similarity="euclidean", power=2.0))
    np.testing.assert_array_equal(rebuilt.fit(a).transform(x), projector.transform(x))


def test_nn_relative_projection_takes_a_spec():
    torch = pytest.importorskip("torch")
    from relreps.nn import RelativeProjection
    from relreps.nn.models import MLPEncoder, RelativeClassifier

    g = torch.Generator().manual_seed(0)
    x, a = torch.randn(6, 4, generator=g), torch.randn(5, 4, generator=g)
    spec = ProjectionSpec(similarity=["cosine", "euclidean"], aggregate="sum", topk=3)
    layer = RelativeProjection(5, spec=spec, output_norm="l2")
    same = RelativeProjection(
        5, similarity=["cosine", "euclidean"], aggregate="sum", topk=3, output_norm="l2"
    )
    assert layer.spec == same.spec == spec
    assert layer.config() == same.config()
    assert layer.similarity == ("cosine", "euclidean") and layer.topk == 3
    torch.testing.assert_close(layer(x, a), same(x, a), rtol=0, atol=0)
    expected = relative_projection(x, a, spec=spec)
    torch.testing.assert_close(layer.relative(x, a), expected, rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"`topk` to be left out or to agree with `spec`"):
        RelativeProjection(5, spec=spec, topk=2)
    with pytest.raises(ValueError, match=r"`topk` to be an int in \[1, 10\]"):
        RelativeProjection(5, topk=11, similarity=["cosine", "l1"])  # checked on the width
    model = RelativeClassifier(MLPEncoder((4,), 8), a, 3, spec=spec)
    config = model.config()
    assert model.projection.spec == spec and config["spec"] == spec.to_dict()
    config["spec"] = ProjectionSpec.from_dict(config["spec"])
    rebuilt = RelativeClassifier(MLPEncoder((4,), 8), a, **config)
    assert rebuilt.projection.spec == spec


def _grid_problem():
    from relreps.stitching import Space

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5))
    y = (x[:, 0] > 0).astype(int)
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    z = 2.0 * x @ q
    spaces = [Space("a", x[:40], x[40:], x[:10]), Space("b", z[:40], z[40:], z[:10])]
    return spaces, y[:40], y[40:]


def _logreg(d, k, seed):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(random_state=seed)


def test_stitching_grid_takes_a_spec(tmp_path):
    pytest.importorskip("sklearn")
    from relreps.stitching import stitching_grid

    spaces, y_train, y_test = _grid_problem()
    common = {"head": _logreg, "methods": ["relative"]}
    spec = ProjectionSpec(similarity=["cosine", "euclidean"], aggregate="mean")
    by_spec = stitching_grid(spaces, y_train, y_test, spec=spec, **common)
    by_keywords = stitching_grid(
        spaces,
        y_train,
        y_test,
        similarity=["cosine", "euclidean"],
        projection_options={"aggregate": "mean"},
        **common,
    )
    np.testing.assert_array_equal(by_spec.scores["relative"], by_keywords.scores["relative"])
    with pytest.raises(ValueError, match="`similarity` to be left out or to agree with `spec`"):
        stitching_grid(spaces, y_train, y_test, spec=spec, similarity="cosine", **common)


def test_stitching_grid_honours_chunk_size_and_refuses_out(tmp_path):
    pytest.importorskip("sklearn")
    from relreps.stitching import stitching_grid

    spaces, y_train, y_test = _grid_problem()
    common = {"head": _logreg, "methods": ["relative"], "cache_dir": tmp_path}
    first = stitching_grid(spaces, y_train, y_test, **common)
    with pytest.raises(ValueError, match=r"`chunk_size` to be an int in \[1, inf\]"):
        stitching_grid(spaces, y_train, y_test, projection_options={"chunk_size": 0}, **common)
    chunked = stitching_grid(
        spaces, y_train, y_test, spec=ProjectionSpec(chunk_size=3), **common
    )  # a memory knob: the cells of the first run are reused, the scores are the same
    assert chunked.n_cached == first.n_cached + 4
    np.testing.assert_array_equal(chunked.scores["relative"], first.scores["relative"])
    with pytest.raises(TypeError, match="`out` has no meaning in a grid"):
        stitching_grid(
            spaces, y_train, y_test, projection_options={"out": np.empty((20, 10))}, **common
        )


def test_head_config_projection_spec():
    from relreps.stitching import DEFAULTS, HeadConfig

    assert DEFAULTS.projection_spec() == ProjectionSpec()
    assert (DEFAULTS.similarity, DEFAULTS.center) == ("cosine", None)  # ProjectionSpec's defaults
    spec = HeadConfig(similarity="rbf", center="anchors").projection_spec()
    assert spec == ProjectionSpec(similarity="rbf", center="anchors")
    with pytest.raises(ValueError, match=r"`center` to be one of \['anchors'\]"):
        HeadConfig(center="mean")


def test_relative_head_projects_with_its_spec():
    pytest.importorskip("torch")
    from relreps.stitching import RelativeHead

    rng = np.random.default_rng(0)
    x, a = rng.normal(size=(8, 4)), rng.normal(size=(5, 4))
    head = RelativeHead(similarity="euclidean", center="anchors")
    expected = relative_projection(
        x.astype(np.float32), a.astype(np.float32), similarity="euclidean", center="anchors"
    )
    np.testing.assert_array_equal(head.relative(x, a), expected)


def test_cli_project_builds_a_spec(tmp_path, capsys):
    from relreps.cli.main import main

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 6)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "idx.npy", np.arange(0, 50, 5))
    argv = ["project", str(tmp_path / "x.npy"), str(tmp_path / "idx.npy")]
    flags = ["--similarity", "cosine", "l1", "--aggregate", "sum", "--topk", "4", "--power", "2"]
    assert main([*argv, "-o", str(tmp_path / "out.npy"), *flags, "--chunk-size", "7"]) == 0
    spec = ProjectionSpec(
        similarity=("cosine", "l1"), aggregate="sum", topk=4, power=2.0, chunk_size=7
    )
    assert f"with {spec!r}" in capsys.readouterr().err
    np.testing.assert_allclose(
        np.load(tmp_path / "out.npy"), relative_projection(x, x[::5], spec=spec), rtol=1e-6
    )
    assert main([*argv, "-o", str(tmp_path / "plain.npy")]) == 0
    assert "ProjectionSpec(similarity='cosine', chunk_size=65536)" in capsys.readouterr().err
