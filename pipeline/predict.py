"""Score unit texts with a saved model directory, fast.

What surrounds the model decides the speed, so the transformer path:

- tokenises with the Rust backend (``encode_batch``, no Python padding), one chunk ahead on a
  background thread, so tokenisation overlaps the forward pass;
- sorts each chunk by length and batches it so short sentences do not pay for long ones. On a
  CPU each batch is padded to its longest unit (``exact``: the least arithmetic). On a GPU
  (``buckets``) widths are rounded up to multiples of 32 tokens and each width gets a fixed
  number of rows from a token budget, so the same few shapes repeat: a shape the GPU has not seen
  costs far more than one it has, and a single pass over a corpus would otherwise meet hundreds;
- runs under ``torch.inference_mode()`` on all CPU cores, or on CUDA with pinned, non-blocking
  copies and one device-to-host copy per chunk rather than one per batch;
- in bf16 where the hardware has it natively: bf16 *weights* on CUDA and on CPUs with AVX-512
  BF16 (no per-call casts), with the classifier's logits read back in fp32;
- optionally runs an ONNX Runtime export (fp32 or dynamic int8) instead of torch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .errors import ModelError
from .modeling import FP32, INT8, MANIFEST, ONNX_DIR, PICKLE_SUFFIXES, TFIDF_BLEND, TFIDF_MODEL, Manifest, mix
from .tfidf import TfidfLogit

BACKENDS = ("torch", "onnx", "onnx-int8")
PRECISIONS = ("auto", "fp32", "bf16")
PADDINGS = ("auto", "exact", "buckets")
BUCKET = 32  # bucket widths are multiples of this many tokens
ROW_STEP = 64  # a bucket's last, partial batch is padded with empty rows to a multiple of this
TOKEN_BUDGET = 65_536  # tokens per batch in bucket mode: 1,024 rows of 64 tokens, 512 of 128


def bf16_is_native(device: str) -> bool:
    """bf16 pays off where the hardware has bf16 arithmetic: recent GPUs, and CPUs with
    AVX-512 BF16 or AMX (oneDNN reports it). Elsewhere it would be emulated, and slower."""
    import torch

    if device == "cuda":
        return torch.cuda.is_bf16_supported()
    if device == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    return False


def pick_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        return "cpu"
    if device != "cpu" and not device.startswith("cuda"):
        raise ModelError(f"unknown device {device!r}; choose auto, cpu or cuda (or cuda:N)")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError("device 'cuda' was asked for, but torch sees no CUDA device")
    return device


def onnx_session(model_dir: Path, quantized: bool = False):
    """An ONNX Runtime session on the model's export (``argmine export-onnx`` writes it), all cores."""
    import onnxruntime as ort

    path = Path(model_dir) / ONNX_DIR / (INT8 if quantized else FP32)
    if not path.is_file():
        check = Path(model_dir) / ONNX_DIR / "check.json"
        why = ""
        if quantized and check.is_file():
            why = f" ({json.loads(check.read_text()).get('int8', {}).get('verdict', '')})"
        raise ModelError(f"{path} does not exist{why}; run `argmine export-onnx --model {model_dir}` first")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = os.cpu_count() or 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


class Labeller:
    """Loads a model directory once and turns unit texts into per-label probabilities."""

    def __init__(
        self, model_dir: Path, *, device: str = "auto", batch_size: int | None = None, backend: str = "torch",
        chunk_size: int | None = None, precision: str = "auto", padding: str = "auto",
    ) -> None:
        self.model_dir = Path(model_dir)
        self.manifest = Manifest.load(self.model_dir)
        self.thresholds = np.array(self.manifest.threshold_list(), dtype=np.float32)
        if batch_size is not None and batch_size < 1:
            raise ModelError(f"batch size must be at least 1, got {batch_size}")
        self.backend = backend
        if backend not in BACKENDS:
            raise ModelError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        if padding not in PADDINGS:
            raise ModelError(f"unknown padding {padding!r}; choose one of {', '.join(PADDINGS)}")
        # training_args.bin (older versions wrote it) is never loaded, so it is only skipped, with a word
        names = {p.name for p in self.model_dir.iterdir()}
        if "training_args.bin" in names:
            import logging

            logging.getLogger(__name__).warning("%s: ignoring training_args.bin (a pickle argmine never loads)",
                                                self.model_dir)
        pickles = sorted(n for n in names if Path(n).suffix in PICKLE_SUFFIXES and n != "training_args.bin")
        if pickles:
            raise ModelError(f"{self.model_dir}: holds {', '.join(pickles)}; a model folder holds no pickles "
                             "(they run code when loaded). Retrain it, or convert a folder you trained yourself with "
                             "`python scripts/migrate_model.py DIR`")
        if self.manifest.kind == "ensemble":
            self._members = [Labeller(self.model_dir / m, device=device, batch_size=batch_size, backend=backend,
                                      chunk_size=chunk_size, precision=precision, padding=padding)
                             for m in self.manifest.members]
            first = self._members[0]
            self.device, self.precision, self.batch_size = first.device, first.precision, first.batch_size
            self.padding, self.chunk_size = first.padding, first.chunk_size
            return
        if self.manifest.kind == "tfidf":
            self._sk = TfidfLogit.load(self.model_dir, TFIDF_MODEL)
            self.device, self.precision, self.batch_size, self.padding = "cpu", "fp32", batch_size or 0, "exact"
            self.chunk_size = chunk_size or 4096
            return
        from transformers import AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        except (OSError, ValueError) as err:
            raise ModelError(f"{self.model_dir}: cannot load the tokenizer ({err})") from None
        if not getattr(tokenizer, "is_fast", False):
            raise ModelError(f"{self.model_dir}: needs a fast (Rust) tokenizer")
        self._tok = tokenizer.backend_tokenizer.__class__.from_str(tokenizer.backend_tokenizer.to_str())
        self._tok.enable_truncation(self.manifest.max_length)
        self._tok.no_padding()
        self._pad_id = tokenizer.pad_token_id or 0
        self._uses_type_ids = "token_type_ids" in tokenizer.model_input_names
        if precision not in PRECISIONS:
            raise ModelError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
        if backend == "torch":
            self._init_torch(device, precision)
        else:
            self.device, self.precision = "cpu", "int8" if backend == "onnx-int8" else "fp32"
            self._ort = onnx_session(self.model_dir, quantized=backend == "onnx-int8")
        gpu = self.device.startswith("cuda")
        self.padding = ("buckets" if gpu else "exact") if padding == "auto" else padding
        self.batch_size = batch_size or (1024 if self.padding == "buckets" else 64)
        self.chunk_size = chunk_size or (32_768 if gpu else 4096)  # a GPU wants many full batches per call
        self._blend = None
        if any(self.manifest.blend_weights()):
            self._blend = TfidfLogit.load(self.model_dir, TFIDF_BLEND)

    def _init_torch(self, device: str, precision: str) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification

        self.device = pick_device(device)
        if self.device == "cpu":
            torch.set_num_threads(os.cpu_count() or 1)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a "Loading weights" bar per model load is noise in a batch job
        try:
            model = AutoModelForSequenceClassification.from_pretrained(self.model_dir)
        except (OSError, ValueError) as err:
            raise ModelError(f"{self.model_dir}: cannot load the model weights ({err})") from None
        bf16 = precision == "bf16" or (precision == "auto" and bf16_is_native(self.device))
        self.precision = "bf16" if bf16 else "fp32"
        if bf16:  # bf16 weights, cast once (autocast casts them on every call: 9% slower on this CPU)
            model = model.to(torch.bfloat16)  # logits are read back as fp32
        self._model = model.to(self.device).eval()

    def manifest_digest(self) -> str:
        """SHA-256 of the model's manifest (thresholds, blend, config, data digest): which model this is."""
        import hashlib

        return hashlib.sha256((self.model_dir / MANIFEST).read_bytes()).hexdigest()

    # -- tokenisation -------------------------------------------------------------------------

    @property
    def context(self) -> str:
        """How the model reads a unit's neighbours (``model.context``: none, previous, around, lead)."""
        if self.manifest.kind == "ensemble":
            modes = {m.context for m in self._members}
            return modes.pop() if len(modes) == 1 else "mixed"
        return self.manifest.config.get("model", {}).get("context", "none")

    @property
    def uses_context(self) -> bool:
        return self.context != "none"

    def _encode(self, items: Sequence) -> list[tuple[list[int], list[int]]]:
        """(ids, type_ids) per item; an item is a text, or a (text, context) pair."""
        return [(e.ids, e.type_ids) for e in self._tok.encode_batch(list(items), add_special_tokens=True)]

    def _plan(self, lengths: np.ndarray) -> Iterator[tuple[np.ndarray, int, int]]:
        """(unit indices, padded width, rows) per batch, shortest units first.

        ``exact``: ``batch_size`` units a batch, padded to the longest of them. ``buckets``: widths
        rounded up to a multiple of ``BUCKET`` tokens; a width gets ``TOKEN_BUDGET // width`` rows
        (at most ``batch_size``), and its last batch is padded with empty rows to a multiple of
        ``ROW_STEP``, so every chunk meets the same few shapes.
        """
        order = np.argsort(lengths, kind="stable")
        if self.padding == "exact":
            for i in range(0, len(order), self.batch_size):
                idx = order[i : i + self.batch_size]
                yield idx, int(lengths[idx].max()), len(idx)
            return
        widths = -(-lengths[order] // BUCKET) * BUCKET
        for width in np.unique(widths):
            group = order[widths == width]
            rows = max(1, min(self.batch_size, TOKEN_BUDGET // int(width)))
            for i in range(0, len(group), rows):
                idx = group[i : i + rows]
                yield idx, int(width), min(rows, -(-len(idx) // ROW_STEP) * ROW_STEP)

    def _batches(self, encoded: list[tuple[list[int], list[int]]]) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """(unit indices, model inputs) per batch; inputs may hold empty rows after the real ones."""
        ids = [e[0] for e in encoded]
        for idx, width, rows in self._plan(np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))):
            input_ids = np.full((rows, width), self._pad_id, dtype=np.int64)
            mask = np.zeros((rows, width), dtype=np.int64)
            mask[len(idx):, 0] = 1  # an empty row attends to one pad token: no all-masked softmax
            types = np.zeros((rows, width), dtype=np.int64)
            for row, j in enumerate(idx):
                input_ids[row, : len(ids[j])] = ids[j]
                mask[row, : len(ids[j])] = 1
                types[row, : len(ids[j])] = encoded[j][1]
            feats = {"input_ids": input_ids, "attention_mask": mask}
            if self._uses_type_ids:
                feats["token_type_ids"] = types
            yield idx, feats

    # -- scoring ------------------------------------------------------------------------------

    def _score_chunk(self, encoded: list[tuple[list[int], list[int]]]) -> np.ndarray:
        out = np.empty((len(encoded), len(self.manifest.labels)), dtype=np.float32)
        if self.backend != "torch":
            for idx, feats in self._batches(encoded):
                out[idx] = 1.0 / (1.0 + np.exp(-self._ort.run(None, feats)[0][: len(idx)]))
            return out
        import torch

        gpu = self.device.startswith("cuda")
        order, logits = [], []
        with torch.inference_mode():
            for idx, feats in self._batches(encoded):
                inputs = {k: torch.from_numpy(v) for k, v in feats.items()}
                if gpu:  # pinned host memory lets the copy run while the GPU still works on the last batch
                    inputs = {k: v.pin_memory().to(self.device, non_blocking=True) for k, v in inputs.items()}
                order.append(idx)
                logits.append(self._model(**inputs).logits[: len(idx)].float())
            if logits:  # one device-to-host copy (and one wait) per chunk, not one per batch
                out[np.concatenate(order)] = torch.sigmoid(torch.cat(logits)).cpu().numpy()
        return out

    def score_units(self, units: Sequence) -> np.ndarray:
        """Probabilities for units of articles (in article order), with context if the model uses it."""
        from .data import context_texts

        if self.manifest.kind == "ensemble":  # each member reads the context it was trained with
            return np.mean([m.score_units(units) for m in self._members], axis=0).astype(np.float32)
        return self.predict_proba([u.text for u in units], context_texts(units, self.context))

    def predict_proba(self, texts: Sequence[str], contexts: Sequence[str] | None = None) -> np.ndarray:
        """Probabilities, one row per text, columns in ``manifest.labels`` order.

        A model trained with context needs ``contexts`` (each text's context as
        ``data.context_texts`` builds it: the previous unit for ``previous``, or "").
        """
        if len(texts) == 0:
            return np.zeros((0, len(self.manifest.labels)), dtype=np.float32)
        if self.manifest.kind == "ensemble":
            return np.mean([m.predict_proba(texts, contexts) for m in self._members], axis=0).astype(np.float32)
        if self.manifest.kind == "tfidf":
            return np.asarray(self._sk.predict_proba(list(texts)), dtype=np.float32)
        probs = self._transformer_proba(texts, contexts)
        if self._blend is not None:
            probs = mix(probs, np.asarray(self._blend.predict_proba(list(texts)), dtype=np.float32),
                        self.manifest.tfidf_blend)
        return probs

    def _transformer_proba(self, texts: Sequence[str], contexts: Sequence[str] | None) -> np.ndarray:
        if self.uses_context and contexts is None:
            contexts = [""] * len(texts)
        items = list(zip(texts, contexts)) if self.uses_context else list(texts)
        chunks = [items[i : i + self.chunk_size] for i in range(0, len(items), self.chunk_size)]
        results = []
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(self._encode, chunks[0])
            for k in range(len(chunks)):
                ids = pending.result()
                if k + 1 < len(chunks):  # tokenise the next chunk while the model runs this one
                    pending = pool.submit(self._encode, chunks[k + 1])
                results.append(self._score_chunk(ids))
        return np.concatenate(results)

    def decide(self, probs: np.ndarray) -> list[list[str]]:
        """Thresholded label sets, sorted as the codebook requires."""
        from .schema import label_sets

        return label_sets(probs, self.thresholds)
