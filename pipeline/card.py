"""The model card: ``README.md`` in every model directory, and the ``argmine`` block of ``config.json``.

A model directory must tell a reader, without argmine, what the model labels, what it was trained
on, how it scores a unit (the context it reads, the tf-idf blend, the per-label thresholds) and how
well it did; and it must let a plain ``transformers`` user reproduce ``argmine label``'s scores.
The card carries a snippet that does exactly that (a test runs it against the labeller).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from .modeling import TFIDF_BLEND, TFIDF_MODEL, Manifest
from .schema import LABELS, atomic_write

CARD = "README.md"

_MEANING = {
    "pro-enforcement": "argues for enforcing immigration law (detaining and removing deportable, above all "
                       "criminal, noncitizens); a stance, so a unit that describes enforcement gets none",
    "civil-liberties": "argues from individual rights and community trust (profiling, due process, family "
                       "separation, fear of police)",
    "fiscal": "argues from public money and resources (costs to taxpayers, detention budgets)",
    "federalism": "argues about who decides between federal, state and local government (opt-outs, sanctuary "
                  "laws, deputised police)",
}
_CONTEXT = {
    "none": "each unit is read alone",
    "previous": "each unit is read with the unit before it in its article as a second segment "
                "(`\"\"` for an article's first unit)",
    "around": "each unit is read with a second segment made of the unit before and the unit after it, "
              "joined by `\" | \"` (empty pieces left out)",
    "lead": "each unit is read with a second segment made of the article's first unit and the unit before "
            "it, joined by `\" | \"` (empty pieces left out; the second unit has only its previous one)",
}
_CONTEXT_CODE = {
    "none": "contexts = None",
    "previous": 'contexts = [units[i - 1] if i else "" for i in range(len(units))]',
    "around": 'contexts = [" | ".join(t for t in (units[i - 1] if i else "", units[i + 1] if i + 1 < len(units) '
              'else "") if t) for i in range(len(units))]',
    "lead": 'contexts = [" | ".join(t for t in (units[0] if i > 1 else "", units[i - 1] if i else "") if t) '
            "for i in range(len(units))]",
}


def hf_config_block(manifest: Manifest) -> dict:
    """What ``config.json`` carries under ``argmine``, so Hugging Face tooling sees how to decide."""
    model = manifest.config.get("model", {})
    return {"labels": list(manifest.labels), "thresholds": manifest.threshold_list(),
            "context": model.get("context", "none"), "context_join": " | ", "max_length": manifest.max_length,
            "tfidf_blend": dict(zip(manifest.labels, manifest.blend_weights())),
            "tfidf_blend_files": f"{TFIDF_BLEND}.json, {TFIDF_BLEND}.safetensors" if any(manifest.blend_weights())
            else None, "manifest": "argmine.json", "card": CARD}


def add_to_hf_config(model_dir: Path, manifest: Manifest) -> None:
    path = Path(model_dir) / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["argmine"] = hf_config_block(manifest)
    with atomic_write(path) as f:
        json.dump(config, f, indent=2)


def _metrics_table(m: Mapping[str, float]) -> list[str]:
    rows = ["| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for label in LABELS:
        rows.append(f"| {label} | {m[f'{label}_precision']:.3f} | {m[f'{label}_recall']:.3f} | "
                    f"{m[f'{label}_f1']:.3f} | {int(m[f'{label}_support'])} |")
    rows.append(f"| **macro** | {m['macro_precision']:.3f} | {m['macro_recall']:.3f} | **{m['macro_f1']:.3f}** | |")
    rows += ["", f"Exact label set: {m['exact_match']:.3f} of {int(m['n_units'])} units; calibration error (ECE) "
             f"{m['ece']:.3f}."]
    return rows


def _tfidf_lines(name: str, target: str) -> list[str]:
    return [
        f'meta = json.load(open(f"{{model_dir}}/{name}.json"))',
        f'arrays = load_file(f"{{model_dir}}/{name}.safetensors")',
        'settings = {**meta["settings"], "ngram_range": tuple(meta["settings"]["ngram_range"])}',
        'vectorizer = TfidfVectorizer(**settings, vocabulary=meta["vocabulary"])',
        'vectorizer.idf_ = arrays["idf"]',
        f'{target} = 1 / (1 + np.exp(-(vectorizer.transform(units) @ arrays["coef"].T + arrays["intercept"])))',
    ]


def snippet(manifest: Manifest) -> str:
    """Plain ``transformers`` (and scikit-learn for the blend) code that reproduces the scores; for a
    tf-idf model, scikit-learn alone."""
    if manifest.kind == "tfidf":
        return "\n".join([
            "import json", "", "import numpy as np", "from safetensors.numpy import load_file",
            "from sklearn.feature_extraction.text import TfidfVectorizer", "",
            'model_dir = "."  # this folder',
            'units = ["Sheriffs should honor every detainer.", "It costs the county nothing."]', "",
            'manifest = json.load(open(f"{model_dir}/argmine.json"))',
            *_tfidf_lines(TFIDF_MODEL, "probs"), "",
            'thresholds = [manifest["thresholds"][label] for label in manifest["labels"]]',
            'labels = [sorted(label for label, p, t in zip(manifest["labels"], row, thresholds) if p >= t) '
            "for row in probs]",
        ])
    context = manifest.config.get("model", {}).get("context", "none")
    lines = [
        "import json",
        "",
        "import numpy as np",
        "import torch",
        "from safetensors.numpy import load_file",
        "from transformers import AutoModelForSequenceClassification, AutoTokenizer",
        "",
        'model_dir = "."  # this folder',
        'units = ["Sheriffs should honor every detainer.", "It costs the county nothing."]  # one article, in order',
        "",
        'cfg = json.load(open(f"{model_dir}/config.json"))["argmine"]',
        "tokenizer = AutoTokenizer.from_pretrained(model_dir)",
        "model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()",
        _CONTEXT_CODE[context],
        'batch = tokenizer(units, contexts, truncation=True, max_length=cfg["max_length"], padding=True, '
        'return_tensors="pt")',
        "with torch.no_grad():",
        "    probs = torch.sigmoid(model(**batch).logits.float()).numpy()",
    ]
    if manifest.kind == "transformer" and any(manifest.blend_weights()):
        lines += [
            "",
            "# the tf-idf model mixed in: p = (1 - w) * transformer + w * tfidf, a weight per label",
            "from sklearn.feature_extraction.text import TfidfVectorizer",
            "",
            *_tfidf_lines(TFIDF_BLEND, "tfidf"),
            'w = np.array([cfg["tfidf_blend"][label] for label in cfg["labels"]])',
            "probs = (1 - w) * probs + w * tfidf",
        ]
    lines += [
        "",
        'labels = [sorted(label for label, p, t in zip(cfg["labels"], row, cfg["thresholds"]) if p >= t) for row in probs]',
    ]
    return "\n".join(lines)


def render(manifest: Manifest, name: str, *, train_docs: int = 0, train_units: int = 0, dev_docs: int = 0,
           dev_units: int = 0, held_out: Mapping[str, float] | None = None, held_out_name: str = "",
           registered: str = "") -> str:
    cfg = manifest.config
    model, data, tc = cfg.get("model", {}), cfg.get("data", {}), cfg.get("train", {})
    context = model.get("context", "none")
    weights = dict(zip(manifest.labels, manifest.blend_weights()))
    blended = manifest.kind == "transformer" and any(weights.values())
    out = [f"# argmine unit classifier: `{name}`", ""]
    out += ["Labels each argument unit (a sentence of body text) of an op-ed about state and local involvement "
            "in US immigration enforcement with the considerations it invokes; a unit can carry several or none. "
            "Labels follow the project's annotation codebook (`docs/CODEBOOK.md`).", ""]
    out += ["| label | the unit ... | threshold |", "|---|---|---|"]
    out += [f"| `{label}` | {_MEANING[label]} | {t:.3f} |" for label, t in zip(manifest.labels, manifest.threshold_list())]
    out += ["", "## How it scores a unit", ""]
    if manifest.kind == "transformer":
        out += [f"- A fine-tuned `{manifest.encoder}` encoder with a 4-way sigmoid head "
                f"(`problem_type: multi_label_classification`, `id2label` in `config.json`); {_CONTEXT[context]}; "
                f"at most {manifest.max_length} tokens."]
        if blended:
            out += ["- Each label's probability is mixed with a tf-idf + logistic-regression model trained on the "
                    "same units: `p = (1 - w) * transformer + w * tfidf`, with w per label: "
                    + ", ".join(f"{label} {w:g}" for label, w in weights.items())
                    + f" (chosen on the dev articles). The tf-idf model is `{TFIDF_BLEND}.json` (vocabulary, "
                    f"settings) and `{TFIDF_BLEND}.safetensors` (idf, coefficients, intercepts); no pickles."]
        else:
            out += ["- No tf-idf model is mixed in."]
    else:
        out += [f"- tf-idf (word 1-{tc.get('ngram_max', 2)} grams) and one logistic regression per label, stored as "
                f"`{TFIDF_MODEL}.json` and `{TFIDF_MODEL}.safetensors`."]
    out += ["- A label is given when its probability reaches the label's threshold (table above), tuned on the dev "
            "articles for that label's F1."]
    if manifest.kind == "transformer":
        out += ["- `config.json` carries all of this under `argmine` (labels, thresholds, context rule, blend "
                "weights)."]
    out += ["- `argmine.json` is the full manifest (resolved config, dev metrics, data digest, versions).", ""]
    out += ["## Training data and recipe", ""]
    files = ", ".join(f"`{Path(p).name}`" for p in data.get("train", []))
    dev_from = "the evaluation file" if data.get("dev_from") == "eval" else "whole articles held out of the training files"
    counts = (f": {train_units} units from {train_docs} articles; dev (epoch, blend and threshold choice): "
              f"{dev_units} units from {dev_docs} articles, {dev_from}") if train_units else ""
    out += [f"- Trained on {files}{counts}. The synthetic corpus is described in its data card, "
            "`data/synthetic/README.md` of the argmine repository.",
            f"- Data digest (sha256 of the data files it was trained from): `{manifest.data_digest or 'not recorded'}`."]
    if manifest.kind == "transformer":
        out += [f"- Recipe: {tc.get('epochs')} epochs at most (best dev epoch kept), batch {tc.get('batch_size')}, "
                f"learning rate {tc.get('learning_rate')}, weight decay {tc.get('weight_decay')}, warm-up "
                f"{tc.get('warmup_ratio')}, seed {tc.get('seed')}, positive weights {tc.get('pos_weight')} "
                f"(cap {tc.get('max_pos_weight')}), tf-idf blend setting `{model.get('tfidf_blend')}`."]
    out += [f"- Config name `{cfg.get('name', name)}`; the resolved config is in `argmine.json` (`config`)."]
    versions = getattr(manifest, "versions", {}) or {}
    if versions:
        out += ["- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + "."]
    out += ["", "## How well it does", "", "On its dev articles (the articles its thresholds were tuned on, so "
            "optimistic):", ""]
    out += _metrics_table(manifest.dev_metrics)
    if held_out:
        out += ["", f"On held-out gold units, `{held_out_name}` (never trained on, never tuned on):", ""]
        out += _metrics_table(held_out)
    out += ["", "Cross-validated figures on real op-eds, and on the real development set, are in the argmine "
            "repository's `docs/RESULTS.md`."]
    if registered:
        out += ["", f"Registered in MLflow as `{registered}`."]
    out += ["", "## Intended use and limits", "",
            "- A fast, transparent first pass for researchers and policy analysts coding op-eds about US immigration "
            "enforcement (Secure Communities, 287(g), detainers, sanctuary policies) by hand: read its labels, "
            "correct them, do not publish them uncorrected.",
            "- Trained mostly on synthetic articles written for the project; on real op-eds it scores well below "
            "two human coders (see `docs/RESULTS.md`). `pro-enforcement` is the weakest label: it is a stance, and "
            "the model still gives it to units that describe enforcement in pieces that oppose it.",
            "- English only; other topics (other policy debates, news reporting rather than opinion) are out of "
            "scope. Units are sentences as argmine's segmenter cuts them; other units change the context it reads.",
            "", "## Reproduce its scores without argmine", "",
            "Scores as `argmine evaluate` and `argmine label --precision fp32` compute them (`label`'s default, "
            "`auto`, runs in bf16 where the CPU or GPU has it, which can move a decision that sits on a threshold; "
            "the labeller pads per batch, which changes nothing beyond 1e-5):", "", "```python", snippet(manifest),
            "```", ""]
    return "\n".join(out)


def write_card(model_dir: Path, manifest: Manifest, name: str, **kwargs) -> Path:
    path = Path(model_dir) / CARD
    with atomic_write(path) as f:
        f.write(render(manifest, name, **kwargs))
    return path


def card_counts(train_units: Sequence, dev_units: Sequence) -> dict[str, int]:
    return {"train_docs": len({u.doc_id for u in train_units}), "train_units": len(train_units),
            "dev_docs": len({u.doc_id for u in dev_units}), "dev_units": len(dev_units)}


def ensemble_card(manifest: Manifest, name: str, members: Sequence[str], dev_macro: Mapping[str, float],
                  n_dev: int) -> str:
    """The card of an ensemble folder: what it averages, its thresholds and its dev figures."""
    out = [f"# argmine unit classifier: `{name}` (an ensemble of {len(members)} models)", "",
           "Labels argument units of op-eds about US immigration enforcement with `pro-enforcement`, "
           "`civil-liberties`, `fiscal` and `federalism` (several or none; `docs/CODEBOOK.md`). Each label's "
           "probability is the **mean of its members' probabilities** (each member with its own context and "
           "tf-idf blend, as its own card says), and a label is given when that mean reaches the threshold below, "
           + (f"tuned on the members' shared dev articles ({n_dev} units) for the averaged probabilities." if n_dev
              else "the mean of the members' own thresholds (they were tuned on different dev articles, so no "
                   "article is held out from all of them and the ensemble has no dev figure of its own). Its members "
                   "may have trained on different articles (cross-validation fold models each trained on all but one "
                   "fold of the evaluation file): score it only on articles none of them trained on, never on that "
                   "evaluation file. The config in `argmine.json` is the first member's."), "",
           "| label | threshold |", "|---|---|"]
    out += [f"| `{label}` | {t:.3f} |" for label, t in zip(manifest.labels, manifest.threshold_list())]
    out += ["", "## Members", ""]
    out += [f"- `{path}` (from `{member}`; its own card is `{path}/README.md`): dev macro-F1 "
            f"{dev_macro[f'member {member}']:.3f} at its own thresholds, on its own dev articles"
            for path, member in zip(manifest.members, members)]
    if manifest.dev_metrics:
        out += ["", f"Dev macro-F1 of the ensemble: **{dev_macro['ensemble']:.3f}** (dev articles are the ones the "
                "thresholds were tuned on, so this is optimistic).", ""]
        out += _metrics_table(manifest.dev_metrics)
    out += ["", "## Reproduce its scores without argmine", "",
            "Score the units with each member as its card shows, average the probabilities, and apply the "
            "thresholds above (also in `argmine.json`). Intended use and limits are the members'.", ""]
    return "\n".join(out)
