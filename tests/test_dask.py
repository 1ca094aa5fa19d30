"""Scale: Dask equals numpy, out-of-core streaming, FAISS, distributed jobs and worker faults."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
pytest.importorskip("distributed")

import relreps  # noqa: E402
from relreps import distributed as rd  # noqa: E402
from relreps.encoders import CallableEncoder, cached_encode  # noqa: E402
from relreps.knn_index import FaissIndex, Neighbors, faiss_knn, recall_at_k  # noqa: E402
from relreps.metrics import (  # noqa: E402
    cka,
    dask_ops,
    jaccard_at_k,
    knn,
    mrr_at_k,
    retrieval_scores,
)


@pytest.fixture(scope="module")
def client():
    """A LocalCluster with 2 workers (threads: quick to start); computations go to it."""
    with rd.cluster(n_workers=2, processes=False) as active:
        yield active


@pytest.fixture(scope="module")
def spaces():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 12))
    y = x @ rng.normal(size=(12, 12)) + 0.4 * rng.normal(size=(600, 12)) + 2.0
    return x, y


def chunked(x, rows=97):
    return da.from_array(x, chunks=(rows, -1))


# ----------------------------------------------------------------------------- projection


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"similarity": "euclidean"},
        {"similarity": ["cosine", "euclidean"], "center": "anchors", "aggregate": "mean"},
        {"similarity": ["cosine", "l1"], "aggregate": "concat"},
        {"topk": 3, "power": 2.0},
        {"center": np.full(12, 0.5)},
    ],
)
def test_projection_equals_numpy(client, spaces, options):
    x, _ = spaces
    anchors = x[:20]
    lazy = relreps.relative_projection(chunked(x), anchors, **options)
    assert isinstance(lazy, da.Array)
    expected = relreps.relative_projection(x, anchors, **options)
    assert lazy.shape == expected.shape and lazy.dtype == expected.dtype
    np.testing.assert_allclose(lazy.compute(), expected, rtol=1e-12, atol=1e-12)


def test_projection_is_lazy_and_keeps_dtype(client):
    calls = []

    def load():
        calls.append(1)
        return np.ones((8, 4), dtype=np.float32)

    x = da.from_delayed(dask.delayed(load)(), shape=(8, 4), dtype=np.float32)
    anchors = da.from_array(np.eye(4, dtype=np.float32))  # dask anchors are computed (small)
    rel = relreps.relative_projection(x, anchors, chunk_size=3)
    assert calls == [] and rel.chunks == ((3, 3, 2), (4,)) and rel.dtype == np.float32
    np.testing.assert_allclose(rel.compute(), np.full((8, 4), 0.5), rtol=1e-6)


def test_projection_integer_input_and_numpy_x_with_dask_anchors(client):
    x = np.arange(20).reshape(10, 2)
    rel = relreps.relative_projection(da.from_array(x, chunks=4), x[:3])
    assert rel.dtype == np.float64
    np.testing.assert_allclose(rel.compute(), relreps.relative_projection(x, x[:3]))
    mixed = relreps.relative_projection(x.astype(float), da.from_array(x[:3].astype(float)))
    assert isinstance(mixed, da.Array)


def test_projection_errors(client, spaces):
    x, _ = spaces
    with pytest.raises(TypeError, match="`out` to be None for dask inputs"):
        relreps.relative_projection(chunked(x), x[:3], out=np.empty((600, 3)))
    with pytest.raises(ValueError, match="features"):
        relreps.relative_projection(chunked(x), x[:3, :5])
    with pytest.raises(ValueError, match="similarity"):
        relreps.relative_projection(chunked(x), x[:3], similarity="nope")
    with pytest.raises(ValueError, match="`chunk_size`"):
        relreps.relative_projection(chunked(x), x[:3], chunk_size=0)
    bad = x.copy()
    bad[333, 4] = np.nan
    with pytest.raises(ValueError, match="row 333 holds NaN"):
        relreps.relative_projection(chunked(bad), x[:3]).compute()
    unknown = chunked(x)[chunked(x)[:, 0] > 0]
    with pytest.raises(ValueError, match="known chunk sizes"):
        relreps.relative_projection(unknown, x[:3])


# ----------------------------------------------------------------------------- kNN, Jaccard, MRR


@pytest.mark.parametrize("metric", ["cosine", "inner", "euclidean"])
@pytest.mark.parametrize("exclude_self", [False, True])
def test_knn_equals_numpy(client, spaces, metric, exclude_self):
    x, _ = spaces
    expected = knn(x, x, 7, metric=metric, exclude_self=exclude_self)
    got = knn(chunked(x, 130), chunked(x, 77), 7, metric=metric, exclude_self=exclude_self)
    assert isinstance(got.indices, da.Array)
    np.testing.assert_array_equal(got.indices.compute(), expected.indices)
    np.testing.assert_allclose(got.scores.compute(), expected.scores, atol=1e-6)


def test_knn_ties_lower_index_first_and_tree_depth(client):
    # 40 copies of 3 distinct rows: every score ties; the lower index must win everywhere.
    base = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    x = np.tile(base, (20, 1))
    expected = knn(x, x, 9)
    for split_every in (2, 3):
        got = dask_ops.knn(chunked(x, 13), chunked(x, 5), 9, split_every=split_every)
        np.testing.assert_array_equal(got.indices.compute(), expected.indices)


def test_knn_numpy_queries_dask_index(client, spaces):
    x, _ = spaces
    got = knn(x[:50], chunked(x), 4, chunk_size=16)
    np.testing.assert_array_equal(got.indices.compute(), knn(x[:50], x, 4).indices)


def test_knn_errors(client, spaces):
    x, _ = spaces
    xd = chunked(x)
    with pytest.raises(ValueError, match="`k`"):
        dask_ops.knn(xd, xd, 0)
    with pytest.raises(ValueError, match="`k`"):
        dask_ops.knn(xd, xd, 600, exclude_self=True)
    with pytest.raises(ValueError, match="`metric`"):
        dask_ops.knn(xd, xd, 3, metric="manhattan")
    with pytest.raises(ValueError, match="same number of rows"):
        dask_ops.knn(xd[:10], xd, 3, exclude_self=True)
    with pytest.raises(TypeError, match="`exclude_self`"):
        dask_ops.knn(xd, xd, 3, exclude_self=1)
    with pytest.raises(ValueError, match="`backend`"):
        dask_ops.knn(xd, xd, 3, backend="faiss")
    with pytest.raises(ValueError, match="`split_every`"):
        dask_ops.knn(xd, xd, 3, split_every=1)
    with pytest.raises(ValueError, match="features"):
        dask_ops.knn(xd, xd[:, :4], 3)
    bad = x.copy()
    bad[10, 0] = np.inf
    with pytest.raises(ValueError, match="`index` to contain only finite values, but row 10"):
        dask_ops.knn(xd, chunked(bad), 3).indices.compute()


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_jaccard_mrr_equal_numpy(client, spaces, metric):
    x, _ = spaces
    source = x + 0.5 * np.random.default_rng(1).normal(size=x.shape)
    src, tgt = chunked(source, 250), chunked(x, 180)
    j = jaccard_at_k(src, tgt, 10, metric=metric)
    m = mrr_at_k(src, tgt, 10, metric=metric)
    assert isinstance(j, da.Array) and isinstance(m, da.Array)
    assert float(j) == pytest.approx(jaccard_at_k(source, x, 10, metric=metric), abs=1e-12)
    assert float(m) == pytest.approx(mrr_at_k(source, x, 10, metric=metric), abs=1e-12)
    both = retrieval_scores(src, tgt, 10, metric=metric, chunk_size=100)
    reference = retrieval_scores(source, x, 10, metric=metric)
    assert both.jaccard == pytest.approx(reference.jaccard, abs=1e-12)
    assert both.mrr == pytest.approx(reference.mrr, abs=1e-12)
    assert (both.k, both.n_samples, both.metric) == (10, 600, metric)
    assert 0.0 < both.jaccard < 1.0 and 0.0 < both.mrr <= 1.0


def test_retrieval_errors(client, spaces):
    x, y = spaces
    with pytest.raises(ValueError, match="rows"):
        dask_ops.jaccard_at_k(chunked(x), chunked(x[:100]), 5)
    with pytest.raises(ValueError, match="`k`"):
        dask_ops.mrr_at_k(chunked(x), chunked(y), 600)
    with pytest.raises(ValueError, match="features"):
        dask_ops.jaccard_at_k(chunked(x), chunked(y[:, :5]), 5)


# ----------------------------------------------------------------------------- CKA


@pytest.mark.parametrize("debiased", [False, True])
def test_cka_equals_numpy(client, spaces, debiased):
    x, y = spaces
    got = cka(chunked(x, 50), chunked(y[:, :7], 128), debiased=debiased)
    assert isinstance(got, da.Array)
    assert float(got) == pytest.approx(cka(x, y[:, :7], debiased=debiased), rel=1e-10)
    tree = dask_ops.cka(chunked(x, 50), y[:, :7], debiased=debiased, split_every=2)
    assert float(tree) == pytest.approx(float(got), rel=1e-12)


def test_cka_off_centre_float32_and_invariance(client, spaces):
    x, y = spaces
    far = (x * 3.0 + 1e4).astype(np.float32)  # large offset: naive raw sums would cancel
    reference = cka(x, y)
    assert float(dask_ops.cka(chunked(far), chunked(y.astype(np.float32)))) == pytest.approx(
        reference, rel=1e-5
    )
    q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(12, 12)))
    assert float(dask_ops.cka(chunked(x), chunked(2.0 * x @ q - 7.0))) == pytest.approx(1.0)


def test_cka_errors(client, spaces):
    x, _ = spaces
    with pytest.raises(ValueError, match="`kernel`"):
        cka(chunked(x), chunked(x), kernel="rbf")  # through relreps.metrics
    with pytest.raises(ValueError, match="`sigma`"):
        dask_ops.cka(chunked(x), chunked(x), sigma=1.0)
    with pytest.raises(TypeError, match="`debiased`"):
        dask_ops.cka(chunked(x), chunked(x), debiased="yes")
    with pytest.raises(ValueError, match="at least 4 rows"):
        dask_ops.cka(chunked(x[:3]), chunked(x[:3]), debiased=True)
    with pytest.raises(ValueError, match="rows"):
        dask_ops.cka(chunked(x), chunked(x[:10]))
    with pytest.raises(ValueError, match="`b` to vary across samples"):
        float(dask_ops.cka(chunked(x), chunked(np.ones_like(x))))


# ----------------------------------------------------------------------------- out of core


def test_memmap_streaming_equals_in_memory(tmp_path, spaces):
    x, _ = spaces
    x32 = x.astype(np.float32)
    source = np.lib.format.open_memmap(
        tmp_path / "x.npy", mode="w+", dtype=np.float32, shape=x.shape
    )
    source[:] = x32
    source.flush()
    x_mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    out = np.lib.format.open_memmap(
        tmp_path / "rel.npy", mode="w+", dtype=np.float32, shape=(600, 30)
    )
    relreps.relative_projection(x_mm, x32[:30], out=out, chunk_size=64)
    out.flush()
    # Chunks of 64 rows reach BLAS with other shapes than the whole array, so float32 sums
    # may round differently in the last bit: equal to float32 rounding, not bitwise.
    np.testing.assert_allclose(
        np.load(tmp_path / "rel.npy"), relreps.relative_projection(x32, x32[:30]), atol=1e-6
    )


def test_project_to_file_npy_and_zarr(client, tmp_path, spaces):
    x, _ = spaces
    np.save(tmp_path / "x.npy", x)
    expected = relreps.relative_projection(x, x[:16], center="anchors")
    job = rd.project_to_file(
        tmp_path / "x.npy", x[:16], tmp_path / "rel.npy", rows=100, center="anchors", client=client
    )
    assert job.shape == (600, 16) and job.n_blocks == 6 and job.to_dict()["dtype"] == "float64"
    np.testing.assert_allclose(np.load(tmp_path / "rel.npy"), expected, atol=1e-12)
    # a memmap input travels as its path; zarr in, zarr out
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    assert "_NpyRows" in repr(dict(rd.open_array(mapped).__dask_graph__()))
    rd.project_to_file(mapped, x[:16], tmp_path / "rel.zarr", center="anchors", client=client)
    rd.project_to_file(tmp_path / "rel.zarr", expected[:4], tmp_path / "rel2.npy", client=client)
    np.testing.assert_allclose(
        np.load(tmp_path / "rel2.npy"),
        relreps.relative_projection(expected, expected[:4]),
        atol=1e-10,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "rel.npy",
        "rel.zarr",
        "rel2.npy",
        "x.npy",
    ]


def test_project_to_file_takes_a_projection_spec(client, tmp_path, spaces):
    x, _ = spaces
    spec = relreps.ProjectionSpec(similarity=["cosine", "euclidean"], aggregate="mean", topk=5)
    job = rd.project_to_file(x, x[:16], tmp_path / "spec.npy", spec=spec, rows=128, client=client)
    expected = relreps.relative_projection(x, x[:16], spec=spec)
    assert job.shape == (600, 16) and job.n_blocks == 5
    np.testing.assert_allclose(np.load(tmp_path / "spec.npy"), expected, atol=1e-10)
    # keywords that agree with the spec are accepted; the spec's chunk_size re-blocks the job
    again = rd.project_to_file(
        x, x[:16], tmp_path / "agree.npy", spec=relreps.ProjectionSpec(chunk_size=200),
        similarity="cosine", client=client,
    )  # fmt: skip
    assert again.n_blocks == 3
    with pytest.raises(ValueError, match=r"`topk` to be left out or to agree with `spec`"):
        rd.project_to_file(x, x[:16], tmp_path / "no.npy", spec=spec, topk=3, client=client)
    with pytest.raises(TypeError, match=r"Expected `spec` to be a relreps\.ProjectionSpec"):
        rd.project_to_file(x, x[:16], tmp_path / "no.npy", spec={"topk": 3}, client=client)
    assert not (tmp_path / "no.npy").exists()


def test_project_to_file_errors(client, tmp_path, spaces):
    x, _ = spaces
    (tmp_path / "taken.npy").write_bytes(b"")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        rd.project_to_file(x, x[:3], tmp_path / "taken.npy", client=client)
    with pytest.raises(ValueError, match=r"ending in .npy or .zarr"):
        rd.project_to_file(x, x[:3], tmp_path / "out.csv", client=client)
    with pytest.raises(FileNotFoundError, match="folder of `output`"):
        rd.project_to_file(x, x[:3], tmp_path / "missing" / "out.npy", client=client)
    with pytest.raises(FileNotFoundError, match=r"existing .npy"):
        rd.project_to_file(tmp_path / "nope.npy", x[:3], tmp_path / "o.npy", client=client)
    with pytest.raises(ValueError, match=r"a .npy, .zarr or .parquet path"):
        rd.open_array(tmp_path / "x.csv")
    with pytest.raises(TypeError, match="dask array, a numpy array"):
        rd.open_array([[1.0]])
    with pytest.raises(ValueError, match="2-D array"):
        rd.open_array(np.ones(3))
    with pytest.raises(TypeError, match="`client`"):
        rd.project_to_file(x, x[:3], tmp_path / "o.npy", client="tcp://nowhere")
    bad = x.copy()
    bad[5, 5] = np.nan
    with pytest.raises(rd.JobFailedError, match=r"row 5 holds NaN.*nothing was written"):
        rd.project_to_file(bad, x[:3], tmp_path / "o.npy", rows=50, client=client)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.npy"]


def test_parquet_inputs(client, tmp_path, spaces):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    x, _ = spaces
    x32 = x.astype(np.float32)
    embedded = pa.FixedSizeListArray.from_arrays(pa.array(x32.ravel()), 12)
    pq.write_table(pa.table({"embedding": embedded}), tmp_path / "e.parquet", row_group_size=128)
    columns = {f"f{j}": x[:, j] for j in range(12)}
    pq.write_table(pa.table(columns), tmp_path / "c.parquet", row_group_size=250)
    from_list = rd.open_array(tmp_path / "e.parquet")
    assert from_list.chunks[0] == (128, 128, 128, 128, 88)
    np.testing.assert_array_equal(from_list.compute(), x32)
    np.testing.assert_array_equal(rd.open_array(tmp_path / "c.parquet", rows=100).compute(), x)
    rd.project_to_file(tmp_path / "e.parquet", x32[:5], tmp_path / "rel.npy", client=client)
    np.testing.assert_allclose(
        np.load(tmp_path / "rel.npy"), relreps.relative_projection(x32, x32[:5]), atol=1e-6
    )
    pq.write_table(pa.table({"word": ["a", "b"]}), tmp_path / "words.parquet")
    with pytest.raises(TypeError, match="fixed-size-list column or of numeric columns"):
        rd.open_array(tmp_path / "words.parquet")
    pq.write_table(pa.table({"f": pa.array([], pa.float32())}), tmp_path / "empty.parquet")
    with pytest.raises(ValueError, match="at least one row"):
        rd.open_array(tmp_path / "empty.parquet")
    with pytest.raises(FileNotFoundError, match=r"existing \.parquet"):
        rd.open_array(tmp_path / "missing.parquet")


def test_compare_equals_numpy(client, spaces):
    x, y = spaces
    got = rd.compare(x, y, k=10, rows=128, client=client)
    assert got.cka == pytest.approx(cka(x, y), rel=1e-10)
    assert got.jaccard == pytest.approx(jaccard_at_k(x, y, 10))
    assert got.mrr == pytest.approx(mrr_at_k(x, y, 10))
    only = rd.compare(x, y[:, :5], scores=["cka"], debiased=True, client=client)
    assert only.jaccard is None and only.cka == pytest.approx(cka(x, y[:, :5], debiased=True))
    assert only.to_dict()["debiased"] is True
    with pytest.raises(ValueError, match="`scores`"):
        rd.compare(x, y, scores=["nope"], client=client)
    with pytest.raises(ValueError, match="`scores`"):
        rd.compare(x, y, scores="cka", client=client)


# ----------------------------------------------------------------------------- encoding


def _length_encoder(version="1"):
    return CallableEncoder(
        lambda batch: [[float(len(s)), float(s.count("a")), 1.0] for s in batch],
        name="length",
        dim=3,
        version=version,
    )


def test_encode_shards_into_cache_and_reuses_them(client, tmp_path):
    words = [f"w{'a' * (i % 7)}{i}" for i in range(53)]
    enc = _length_encoder()
    cache_dir = tmp_path / "cache"
    job = rd.encode(
        enc, words, words, dataset="toy", split="all", shard_size=10, cache_dir=cache_dir,
        output=tmp_path / "emb.npy", client=client,
    )  # fmt: skip
    expected = enc.encode(words)
    assert job.shape == (53, 3) and job.n_shards == 6 and job.reused_shards == 0
    np.testing.assert_array_equal(np.load(tmp_path / "emb.npy"), expected)
    # the whole split is now a cache hit for the single-process API
    calls = []
    probe = CallableEncoder(
        lambda b: calls.append(b) or np.zeros((len(b), 3)), name="length", dim=3, version="1"
    )
    np.testing.assert_array_equal(
        cached_encode(probe, words, words, dataset="toy", split="all", cache_dir=cache_dir),
        expected,
    )
    assert calls == []
    again = rd.encode(
        enc,
        words,
        words,
        dataset="toy",
        split="all",
        shard_size=10,
        cache_dir=cache_dir,
        client=client,
    )
    assert again.reused_shards == 6 and again.output is None
    assert not [p for p in cache_dir.rglob("*") if p.name.startswith(".") or ".part" in p.name]


def test_encode_failure_keeps_finished_shards_and_leaves_no_output(client, tmp_path):
    words = [str(i) for i in range(30)]

    def flaky(batch):
        if "25" in batch:
            raise RuntimeError("encoder crashed on item 25")
        return [[float(len(s))] for s in batch]

    enc = CallableEncoder(flaky, name="flaky", dim=1)
    with pytest.raises(rd.JobFailedError, match=r"encoder crashed on item 25.*rerun encodes only"):
        rd.encode(
            enc, words, words, dataset="t", split="s", shard_size=10, cache_dir=tmp_path / "c",
            output=tmp_path / "out.npy", client=client,
        )  # fmt: skip
    assert not (tmp_path / "out.npy").exists()
    manifests = list((tmp_path / "c").rglob("*.json"))
    assert len(manifests) == 2  # shards 0 and 1 finished and stay cached


def test_encode_errors(client, tmp_path):
    enc = _length_encoder()
    with pytest.raises(ValueError, match="same length"):
        rd.encode(enc, ["a", "b"], ["a"], dataset="d", split="s", client=client)
    with pytest.raises(ValueError, match="at least one item"):
        rd.encode(enc, [], [], dataset="d", split="s", client=client)
    with pytest.raises(TypeError, match="`encoder`"):
        rd.encode(object(), ["a"], ["a"], dataset="d", split="s", client=client)
    with pytest.raises(ValueError, match="`shard_size`"):
        rd.encode(enc, ["a"], ["a"], dataset="d", split="s", shard_size=0, client=client)
    with pytest.raises(ValueError, match=r"ending in .npy"):
        rd.encode(
            enc, ["a"], ["a"], dataset="d", split="s", output=tmp_path / "e.zarr", client=client
        )


def test_cluster_errors():
    with pytest.raises(ValueError, match="`address`"), rd.cluster(""):
        pass
    with pytest.raises(ValueError, match="`n_workers`"), rd.cluster(n_workers=0):
        pass


# ----------------------------------------------------------------------------- FAISS


@pytest.mark.parametrize("metric", ["cosine", "inner", "euclidean"])
def test_faiss_exact_equals_blockwise(client, metric):
    x = np.random.default_rng(3).normal(size=(1500, 24)).astype(np.float32)
    exact = faiss_knn(x[:200], x, 10, metric=metric)
    blockwise = dask_ops.knn(chunked(x[:200], 64), chunked(x, 400), 10, metric=metric)
    assert exact.approximate is False and exact.method == "flat"
    np.testing.assert_array_equal(exact.indices, blockwise.indices.compute())
    # squared: a distance near 0 (the query itself) is sqrt of float32 rounding noise
    power = 2 if metric == "euclidean" else 1
    np.testing.assert_allclose(
        exact.scores**power, blockwise.scores.compute() ** power, rtol=1e-4, atol=1e-4
    )


def test_faiss_approximate_is_labelled_and_measured():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4000, 16)).astype(np.float32)
    exact = knn(x[:300], x, 10)
    ivf = FaissIndex("ivf", nlist=32, nprobe=32, seed=1).fit(x).search(x[:300], 10)
    assert isinstance(ivf, Neighbors) and ivf.approximate and ivf.params["nlist"] == 32
    assert recall_at_k(ivf, exact) == pytest.approx(1.0, abs=0.002)  # every cell scanned
    coarse = faiss_knn(x[:300], x, 10, method="ivf", nlist=32, nprobe=1)
    assert 0.2 < recall_at_k(coarse, exact) < recall_at_k(ivf, exact)
    hnsw = faiss_knn(x[:300], x, 10, method="hnsw", m=16, ef_search=128)
    assert hnsw.approximate and hnsw.params["ef_search"] == 128
    assert recall_at_k(hnsw, exact) > 0.9
    assert hnsw.to_dict()["method"] == "hnsw"


def test_faiss_and_recall_errors():
    x = np.random.default_rng(5).normal(size=(50, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="`method`"):
        FaissIndex("lsh")
    with pytest.raises(ValueError, match="`nprobe`"):
        FaissIndex("ivf", nprobe=0)
    with pytest.raises(relreps.NotFittedError, match="not fitted"):
        FaissIndex().search(x, 2)
    with pytest.raises(ValueError, match="`nlist`"):
        FaissIndex("ivf", nlist=80).fit(x)
    index = FaissIndex().fit(x)
    with pytest.raises(ValueError, match="4 features"):
        index.search(x[:, :3], 2)
    with pytest.raises(ValueError, match="`k`"):
        index.search(x, 51)
    with pytest.raises(ValueError, match="same shape"):
        recall_at_k(np.zeros((3, 2), dtype=int), np.zeros((3, 3), dtype=int))
    with pytest.raises(ValueError, match="integer indices"):
        recall_at_k(np.zeros((3, 2)), np.zeros((3, 2), dtype=int))


# ----------------------------------------------------------------------------- faults


def _slow(seconds):
    def slow_block(block):  # a closure: cloudpickle ships it by value to worker processes
        time.sleep(seconds)
        return block

    return slow_block


def _kill_one_worker_soon(client, delay):
    pids = client.run(os.getpid)
    victim = min(pids.values())

    def kill():
        time.sleep(delay)
        os.kill(victim, signal.SIGKILL)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def _slow_input(x, rows=40, seconds=0.2):
    return chunked(x, rows).map_blocks(_slow(seconds), dtype=x.dtype)


@pytest.mark.timeout(60)
def test_worker_killed_mid_run_is_retried(tmp_path, spaces):
    x, _ = spaces
    with rd.cluster(n_workers=2, processes=True) as active:
        victim = min(active.run(os.getpid).values())
        killer = _kill_one_worker_soon(active, 0.8)
        job = rd.project_to_file(_slow_input(x), x[:8], tmp_path / "rel.npy", client=active)
        killer.join()
        active.wait_for_workers(2, timeout=20)
        pids_after = set(active.run(os.getpid).values())
    np.testing.assert_allclose(np.load(tmp_path / "rel.npy"), relreps.relative_projection(x, x[:8]))
    assert job.n_blocks == 15 and job.seconds > 0.8  # the worker died while the job ran
    assert len(pids_after) == 2 and victim not in pids_after  # ... and was replaced
    assert [p.name for p in tmp_path.iterdir()] == ["rel.npy"]  # no temporary file left


@pytest.mark.timeout(60)
def test_worker_killed_without_retries_fails_cleanly(tmp_path, spaces):
    x, _ = spaces
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        rd.cluster(n_workers=2, processes=True) as active,
    ):
        killer = _kill_one_worker_soon(active, 0.8)
        with pytest.raises(rd.JobFailedError, match=r"KilledWorker.*nothing was written"):
            rd.project_to_file(_slow_input(x), x[:8], tmp_path / "rel.npy", client=active)
        killer.join()
    assert list(tmp_path.iterdir()) == []


def test_distributed_module_is_not_imported_by_relreps():
    import subprocess
    import sys

    code = (
        "import relreps, relreps.metrics, sys; "
        "print('dask' in sys.modules, 'relreps.distributed' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_projector_transform_dispatches_dask():
    import dask.array as da

    import relreps

    rng = np.random.default_rng(3)
    x, anchors = rng.normal(size=(40, 5)), rng.normal(size=(6, 5))
    projector = relreps.RelativeProjector(center="anchors").fit(anchors)
    lazy = projector.transform(da.from_array(x, chunks=(16, 5)))
    np.testing.assert_allclose(lazy.compute(), projector.transform(x), rtol=1e-12)


def test_two_projections_in_one_session_do_not_share_results(client):
    rng = np.random.default_rng(5)
    x1, x2 = rng.normal(size=(12, 3)), rng.normal(size=(12, 3))
    anchors = rng.normal(size=(4, 3))
    lazy1 = relreps.relative_projection(da.from_array(x1, chunks=6), anchors)
    lazy2 = relreps.relative_projection(da.from_array(x2, chunks=6), anchors)
    assert lazy1.name != lazy2.name
    got1, got2 = dask.compute(lazy1, lazy2)
    np.testing.assert_allclose(got1, relreps.relative_projection(x1, anchors), rtol=1e-12)
    np.testing.assert_allclose(got2, relreps.relative_projection(x2, anchors), rtol=1e-12)
