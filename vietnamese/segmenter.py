"""Vietnamese word segmentation on syllables we already cut ourselves.

underthesea's ``word_tokenize`` re-tokenises raw text, which would lose our
offsets and our protection of numbers and codes. Its CRF tagger only needs the
syllables, so we give it ours and read back one B-W/I-W tag per syllable.
The model ships inside the underthesea wheel (no download at run time).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, List, Sequence

import underthesea.pipeline.word_tokenize as _ws_package

_MODEL_DIR = Path(_ws_package.__file__).parent / "models" / "ws_crf_vlsp2013_20230727"


@functools.lru_cache(maxsize=1)
def _tagger() -> Any:
    from underthesea.models.fast_crf_sequence_tagger import FastCRFSequenceTagger

    tagger = FastCRFSequenceTagger()
    tagger.load(str(_MODEL_DIR))
    return tagger


def segment(syllables: Sequence[str]) -> List[List[int]]:
    """Group syllable indices into words: ["đăng","ký","tạm","trú"] -> [[0,1],[2,3]]."""
    if not syllables:
        return []
    tags = _tagger().predict([[syllable] for syllable in syllables])
    words: List[List[int]] = []
    for index, tag in enumerate(tags):
        if tag == "I-W" and words:
            words[-1].append(index)
        else:
            words.append([index])
    return words
