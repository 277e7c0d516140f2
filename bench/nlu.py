"""NLU benchmark: our Vietnamese pipeline against Rasa's stock pipeline.

    .venv/bin/python bench/nlu.py [--variants ours,stock,...] [--epochs N]

Every variant is trained on the same data/ and scored on tests/nlu/ as written
and with every diacritic removed. Each variant runs in its own process so its
peak RSS is its own. One table is printed:

    intent accuracy (as written / stripped), entity F1 (exact span and type,
    micro average), train seconds, parse ms per message (p50/p95), peak RSS.

Variants besides `ours` and `stock` are ablations of ours, kept to justify the
choices in config.yml (see --variants).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STOCK_PIPELINE: List[Dict[str, Any]] = [
    {"name": "WhitespaceTokenizer"},
    {"name": "RegexFeaturizer"},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {
        "name": "CountVectorsFeaturizer",
        "analyzer": "char_wb",
        "min_ngram": 1,
        "max_ngram": 4,
    },
    {"name": "DIETClassifier", "epochs": 100, "random_seed": 42},
    {"name": "EntitySynonymMapper"},
]
FOLDED = "vietnamese.featurizers.FoldedCountVectorsFeaturizer"
TOKENIZER = "vietnamese.tokenizer.VietnameseTokenizer"
CRF = "vietnamese.extractors.FoldedCRFEntityExtractor"


def pipeline(variant: str) -> List[Dict[str, Any]]:
    ours = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    steps = [s for s in ours["pipeline"] if s["name"] != "FallbackClassifier"]
    if variant == "ours":
        return steps
    if variant == "stock":
        return copy.deepcopy(STOCK_PIPELINE)
    if variant == "no-folding":  # (c) ablation: no diacritic-free featurisation
        return [s for s in steps if s["name"] != FOLDED]
    if variant == "with-char":  # adds character n-grams of the original text
        at = next(i for i, s in enumerate(steps) if s["name"] == FOLDED)
        char = {
            "name": "CountVectorsFeaturizer",
            "analyzer": "char_wb",
            "min_ngram": 1,
            "max_ngram": 4,
        }
        return steps[:at] + [char] + steps[at:]
    if variant == "syllables":  # (b) ablation: no word segmentation
        return [
            {**s, "segmentation": "syllable"} if s["name"] == TOKENIZER else s
            for s in steps
        ]
    if variant == "diet-1x128":  # entities and intents by DIET with a transformer
        return [
            {
                **s,
                "entity_recognition": True,
                "number_of_transformer_layers": 1,
                "transformer_size": 128,
            }
            if s["name"] == "DIETClassifier"
            else s
            for s in steps
            if s["name"] != CRF
        ]
    if variant == "logreg":  # intents by logistic regression on the same features
        return [
            {"name": "LogisticRegressionClassifier", "max_iter": 500}
            if s["name"] == "DIETClassifier"
            else s
            for s in steps
        ]
    if variant == "diet-flat":  # DIET without its hidden layer (before 2026-11-29)
        return [
            {
                **{k: v for k, v in s.items() if k != "hidden_layers_sizes"},
                "embedding_dimension": 20,
            }
            if s["name"] == "DIETClassifier"
            else s
            for s in steps
        ]
    if variant == "stock-crf":  # stock, with our CRF extractor instead of DIET's
        steps = copy.deepcopy(STOCK_PIPELINE)
        steps[5]["entity_recognition"] = False
        return steps[:6] + [{"name": CRF}] + steps[6:]
    raise SystemExit(f"unknown variant {variant}")


def test_messages(stripped: bool) -> List[Tuple[str, str, Set[Tuple[int, int, str]]]]:
    from rasa.shared.nlu.training_data.loading import load_data

    from vietnamese.text import strip_diacritics

    data = load_data(str(ROOT / "tests" / "nlu"))
    out = []
    for message in data.intent_examples:
        text = message.get("text")
        entities = {
            (e["start"], e["end"], e["entity"]) for e in message.get("entities") or []
        }
        out.append(
            (
                strip_diacritics(text) if stripped else text,
                message.get("intent"),
                entities,
            )
        )
    return out


def f1(gold: int, predicted: int, correct: int) -> float:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def worker(
    variant: str, epochs: int | None, out: Path, diet: Dict[str, Any] | None = None
) -> None:
    """Train one variant, score it, write a JSON result."""
    logging.disable(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    from vietnamese import speedups

    speedups.install()  # as `make train` does (both variants alike)

    steps = pipeline(variant)
    for step in steps:
        if step["name"] == "DIETClassifier":
            if epochs:
                step["epochs"] = epochs
            step.update(diet or {})
    config = {"recipe": "default.v1", "language": "vi", "pipeline": steps}
    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "config.yml"
        config_path.write_text(yaml.safe_dump(config, allow_unicode=True))
        started = time.perf_counter()
        model = train_nlu(
            str(config_path),
            str(ROOT / "data"),
            str(Path(tmp) / "m"),
            fixed_model_name="bench",
        )
        train_seconds = time.perf_counter() - started
        agent = Agent.load(model)

    result: Dict[str, Any] = {"variant": variant, "train_s": train_seconds}
    timings: List[float] = []
    for stripped in (False, True):
        messages = test_messages(stripped)
        right = gold = predicted = correct = 0
        for text, intent, entities in messages:
            started = time.perf_counter()
            parsed = asyncio.run(agent.parse_message(text))
            timings.append((time.perf_counter() - started) * 1000)
            right += parsed["intent"]["name"] == intent
            found = {(e["start"], e["end"], e["entity"]) for e in parsed["entities"]}
            gold += len(entities)
            predicted += len(found)
            correct += len(found & entities)
        key = "stripped" if stripped else "written"
        result[f"intent_{key}"] = right / len(messages)
        result[f"entity_f1_{key}"] = f1(gold, predicted, correct)
    result["parse_p50_ms"] = statistics.median(timings)
    result["parse_p95_ms"] = statistics.quantiles(timings, n=20)[18]
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write_text(json.dumps(result))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variants",
        default="ours,stock",
        help="comma list of: ours, stock, no-folding, with-char, syllables, "
        "diet-1x128, stock-crf, logreg, diet-flat",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=0,
        help="DIET epochs for every variant (default: as configured: config.yml "
        "for ours and its ablations, Rasa's 100 for stock)",
    )
    parser.add_argument(
        "--diet",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a DIET setting for every variant, VALUE in YAML "
        "(e.g. --diet 'batch_size=[256, 512]'); repeatable",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    diet = {
        key.strip(): yaml.safe_load(value)
        for key, _, value in (setting.partition("=") for setting in args.diet)
    }
    if args.worker:
        worker(args.worker, args.epochs, Path(args.out), diet)
        return 0

    rows = []
    for variant in args.variants.split(","):
        print(f"==> {variant}: training and scoring ...", flush=True)
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    variant,
                    "--epochs",
                    str(args.epochs),
                    *(f"--diet={setting}" for setting in args.diet),
                    "--out",
                    out.name,
                ],
                check=True,
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            rows.append(json.loads(Path(out.name).read_text()))
        print(f"    done in {rows[-1]['train_s']:.0f} s of training", flush=True)

    header = (
        f"{'pipeline':<12} {'intent':>7} {'intent':>8} {'entity':>7} "
        f"{'entity':>8} {'train':>7} {'parse':>6} {'parse':>6} {'peak':>7}"
    )
    header2 = (
        f"{'':<12} {'written':>7} {'stripped':>8} {'F1':>7} {'F1 strp':>8} "
        f"{'s':>7} {'p50ms':>6} {'p95ms':>6} {'RSS MB':>7}"
    )
    print()
    epochs = (
        f"{args.epochs} DIET epochs" if args.epochs else "DIET epochs as configured"
    )
    if diet:
        epochs += ", DIET " + ", ".join(f"{k}={v}" for k, v in diet.items())
    print(f"NLU benchmark: train data/, test tests/nlu/ ({epochs})")
    print(header)
    print(header2)
    for r in rows:
        print(
            f"{r['variant']:<12} {r['intent_written']:>7.3f} "
            f"{r['intent_stripped']:>8.3f} {r['entity_f1_written']:>7.3f} "
            f"{r['entity_f1_stripped']:>8.3f} {r['train_s']:>7.0f} "
            f"{r['parse_p50_ms']:>6.1f} {r['parse_p95_ms']:>6.1f} "
            f"{r['peak_rss_mb']:>7.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
