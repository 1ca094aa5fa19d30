"""RelativeProjection: the core math as a torch layer (norms, quantisation, anchors' gradient)."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from relreps.nn import OUTPUT_NORMS, OutputNorm, RelativeProjection  # noqa: E402
from relreps.projection import relative_projection  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models run fastest on one thread, and a shared CI machine does not oversubscribe."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _data(n: int = 6, k: int = 5, d: int = 7, seed: int = 0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=dtype), torch.randn(k, d, generator=g, dtype=dtype)


def _orthogonal(d: int, seed: int, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    return q.to(dtype)


def test_forward_without_norm_is_the_core_projection():
    x, anchors = _data()
    layer = RelativeProjection(5)
    expected = relative_projection(x.numpy(), anchors.numpy())
    np.testing.assert_allclose(layer(x, anchors).detach().numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("similarity", ["cosine", ["cosine", "euclidean"], "rbf"])
def test_output_width_follows_the_core(similarity):
    x, anchors = _data()
    layer = RelativeProjection(5, similarity=similarity, output_norm="layernorm")
    width = 10 if isinstance(similarity, list) else 5
    assert layer.out_features == width
    assert layer(x, anchors).shape == (6, width)


@pytest.mark.parametrize("norm", OUTPUT_NORMS)
def test_rotation_and_rescale_leave_the_output_unchanged(norm):
    x, anchors = _data()
    layer = RelativeProjection(5, output_norm=norm).eval()
    q = _orthogonal(7, 1)
    moved = layer(3.7 * x @ q, 3.7 * anchors @ q)
    torch.testing.assert_close(moved, layer(x, anchors), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("norm", OUTPUT_NORMS)
def test_a_sample_alone_equals_the_same_sample_in_a_batch(norm):
    x, anchors = _data(n=32)
    layer = RelativeProjection(5, output_norm=norm)
    layer.train()
    for _ in range(3):  # move batchnorm's running statistics away from their initial values
        layer(x, anchors)
    layer.eval()
    batch = layer(x, anchors)
    for i in (0, 7, 31):
        torch.testing.assert_close(layer(x[i : i + 1], anchors), batch[i : i + 1])


def test_l2_norm_gives_unit_rows_and_no_nan_for_zero_rows():
    x, anchors = _data()
    x[0] = 0.0
    out = RelativeProjection(5, output_norm="l2")(x, anchors)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[1:].norm(dim=1), torch.ones(5))
    assert torch.equal(out[0], torch.zeros(5))


def test_quantisation_rounds_forward_and_passes_gradients_straight_through():
    x, anchors = _data()
    plain = RelativeProjection(5)
    quant = RelativeProjection(5, quantize=0.25)
    out = quant(x, anchors)
    torch.testing.assert_close(out / 0.25, torch.round(out / 0.25))
    assert (out - plain(x, anchors)).abs().max() <= 0.125 + 1e-6
    xa, xb = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    w = torch.randn(6, 5, generator=torch.Generator().manual_seed(3))
    (plain(xa, anchors) * w).sum().backward()
    (quant(xb, anchors) * w).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad)


def test_anchor_gradient_is_detached_by_default_and_optional():
    x, anchors = _data()
    x.requires_grad_(True)
    a1 = anchors.clone().requires_grad_(True)
    RelativeProjection(5)(x, a1).sum().backward()
    assert a1.grad is None and x.grad is not None
    a2 = anchors.clone().requires_grad_(True)
    RelativeProjection(5, anchor_grad=True)(x, a2).sum().backward()
    assert a2.grad is not None and torch.isfinite(a2.grad).all()


@pytest.mark.parametrize(
    "options",
    [
        {"output_norm": "none"},
        {"output_norm": "layernorm"},
        {"output_norm": "l2", "anchor_grad": True},
        {"similarity": ["cosine", "euclidean"], "aggregate": "sum"},
        {"center": "anchors", "output_norm": "l2"},
    ],
)
def test_gradcheck_in_float64(options):
    x, anchors = _data(n=3, k=4, d=5, dtype=torch.float64)
    layer = RelativeProjection(4, **options).double()
    x.requires_grad_(True)
    anchors.requires_grad_(options.get("anchor_grad", False))
    inputs = (x, anchors) if anchors.requires_grad else (x,)

    def fn(*args):
        return layer(args[0], args[1] if len(args) > 1 else anchors)

    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5)


def test_repr_shows_the_options():
    layer = RelativeProjection(
        7, similarity=["cosine", "l1"], center="anchors", output_norm="batchnorm", quantize=0.1
    )
    text = repr(layer)
    for piece in (
        "n_anchors=7",
        "['cosine', 'l1']",
        "center='anchors'",
        "quantize=0.1",
        "batchnorm",
    ):
        assert piece in text


def test_state_dict_round_trip_keeps_running_statistics():
    x, anchors = _data(n=20)
    layer = RelativeProjection(5, output_norm="batchnorm")
    layer(x, anchors)
    clone = RelativeProjection(5, output_norm="batchnorm")
    clone.load_state_dict(layer.state_dict())
    layer.eval()
    clone.eval()
    torch.testing.assert_close(clone(x, anchors), layer(x, anchors))


def test_pickle_round_trip():
    x, anchors = _data()
    layer = RelativeProjection(5, similarity=["cosine", "euclidean"], output_norm="layernorm")
    clone = pickle.loads(pickle.dumps(layer))
    torch.testing.assert_close(clone(x, anchors), layer(x, anchors))
    assert clone.config() == layer.config()


def test_torch_compile_smoke():
    # aot_eager traces forward and backward through dynamo/aot-autograd without the C++ compiler
    # step of inductor, which takes ~40 s cold on this 2-core CPU.
    x, anchors = _data()
    layer = RelativeProjection(5, output_norm="layernorm", quantize=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = torch.compile(layer, backend="aot_eager")
        out = compiled(x.requires_grad_(True), anchors)
        out.sum().backward()
    torch.testing.assert_close(out, layer(x, anchors))
    assert x.grad is not None


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"output_norm": "instancenorm"}, ValueError, "output_norm"),
        ({"quantize": 0.0}, ValueError, "quantize"),
        ({"quantize": "0.1"}, TypeError, "quantize"),
        ({"similarity": "nope"}, ValueError, "similarity"),
        ({"topk": 9}, ValueError, "topk"),
        ({"anchor_grad": 1}, TypeError, "anchor_grad"),
        ({"center": "mean"}, ValueError, "center"),
    ],
)
def test_bad_options_fail_in_init(kwargs, error, match):
    with pytest.raises(error, match=match):
        RelativeProjection(5, **kwargs)


def test_bad_anchor_count_is_named():
    with pytest.raises(ValueError, match="Expected `n_anchors`"):
        RelativeProjection(0)
    x, anchors = _data(k=4)
    with pytest.raises(ValueError, match=r"`anchors`.*n_anchors=5.*\(4, 7\)"):
        RelativeProjection(5)(x, anchors)


def test_bad_inputs_are_named():
    x, anchors = _data()
    layer = RelativeProjection(5)
    with pytest.raises(ValueError, match=r"`x`.*like the anchors"):
        layer(x[:, :3], anchors)
    with pytest.raises(TypeError, match=r"`x` to be a torch.Tensor"):
        layer(x.numpy(), anchors)
    with pytest.raises(TypeError, match=r"`anchors` to be a torch.Tensor"):
        layer(x, anchors.numpy())
    with pytest.raises(ValueError, match="`rel`"):
        layer.normalize(torch.zeros(2, 3))
    bad = x.clone()
    bad[2, 0] = float("nan")
    with pytest.raises(ValueError, match="row 2"):
        layer(bad, anchors)


def test_output_norm_validates():
    with pytest.raises(ValueError, match="n_features"):
        OutputNorm("layernorm", 0)
    with pytest.raises(ValueError, match="eps"):
        OutputNorm("l2", 3, eps=0.0)
