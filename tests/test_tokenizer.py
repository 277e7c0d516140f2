"""The tokenizer: words from underthesea, offsets into the message as typed."""

from typing import List

import pytest
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from vietnamese.tokenizer import (
    SEGMENT_SYLLABLES,
    SEGMENT_SYLLABLES_WITH_WORDS,
    VietnameseTokenizer,
    tokenize_text,
)


def lemmas(tokens: List[Token]) -> List[str]:
    return [t.lemma for t in tokens]


def assert_offsets(text: str, tokens: List[Token]) -> None:
    for token in tokens:
        assert text[token.start : token.end] == token.text
    starts = [t.start for t in tokens]
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "cho em hỏi đăng ký tạm trú cần giấy tờ gì",
            ["cho", "em", "hỏi", "đăng_ký", "tạm_trú", "cần", "giấy_tờ", "gì"],
        ),
        ("dang ky tam tru o dau", ["dang", "ky", "tam_tru", "o", "dau"]),
        ("Cho e hỏi đk tạm trú", ["cho", "em", "hỏi", "đăng_ký", "tạm_trú"]),
    ],
)
def test_words_with_and_without_diacritics(text: str, expected: List[str]) -> None:
    tokens = tokenize_text(text)
    assert lemmas(tokens) == expected
    assert_offsets(text, tokens)


def test_teencode_expansion_is_one_token_with_the_original_span() -> None:
    text = "sdt của ad là j"
    tokens = tokenize_text(text)
    assert tokens[0].text == "sdt" and tokens[0].lemma == "số_điện_thoại"
    assert (tokens[0].start, tokens[0].end) == (0, 3)
    assert_offsets(text, tokens)


def test_numbers_stay_single_tokens() -> None:
    text = "CCCD 079203001234, sdt 0912 345 678 nhé"
    tokens = tokenize_text(text)
    texts = [t.text for t in tokens]
    assert "079203001234" in texts and "0912 345 678" in texts
    assert_offsets(text, tokens)


def test_entity_boundary_splits_a_word_in_training() -> None:
    text = "hộ chiếu"
    assert [t.text for t in tokenize_text(text)] == ["hộ chiếu"]
    split = tokenize_text(text, boundaries=[3])
    assert [t.text for t in split] == ["hộ", "chiếu"]


def test_syllables_carrying_their_word() -> None:
    for text in ("đăng ký tạm trú ở đâu", "dang ky tam tru o dau"):
        tokens = tokenize_text(text, segmentation=SEGMENT_SYLLABLES_WITH_WORDS)
        # the same token grid whether or not diacritics were typed
        assert [t.text for t in tokens] == text.split()
        assert_offsets(text, tokens)
    tokens = tokenize_text("đăng ký tạm trú", segmentation=SEGMENT_SYLLABLES_WITH_WORDS)
    assert lemmas(tokens) == ["đăng_ký", "đăng_ký", "tạm_trú", "tạm_trú"]
    sdt = tokenize_text("sdt của ad", segmentation=SEGMENT_SYLLABLES_WITH_WORDS)
    assert (sdt[0].text, sdt[0].lemma) == ("sdt", "số_điện_thoại")


def test_syllable_mode() -> None:
    tokens = tokenize_text("đăng ký tạm trú", segmentation=SEGMENT_SYLLABLES)
    assert lemmas(tokens) == ["đăng", "ký", "tạm", "trú"]


def test_component_on_messages() -> None:
    tokenizer = VietnameseTokenizer(VietnameseTokenizer.get_default_config())
    message = Message({TEXT: "làm hộ chiếu ở đâu ạ"})
    tokenizer.process([message])
    tokens = message.get(TOKENS_NAMES[TEXT])
    assert "hộ_chiếu" in lemmas(tokens)
    assert_offsets("làm hộ chiếu ở đâu ạ", tokens)


@pytest.mark.parametrize("text", ["😀😀😀", "???", "!!!"])
def test_emoji_or_punctuation_only_still_gives_a_token(text: str) -> None:
    tokenizer = VietnameseTokenizer(VietnameseTokenizer.get_default_config())
    message = Message({TEXT: text})
    tokenizer.process([message])
    assert len(message.get(TOKENS_NAMES[TEXT])) == 1


def test_very_long_message_keeps_its_beginning_and_its_question() -> None:
    text = "chào anh " + "em kể chuyện dài dòng lắm " * 2000 + "làm hộ chiếu ở đâu"
    assert len(tokenize_text(text)) > 1000
    tokenizer = VietnameseTokenizer(VietnameseTokenizer.get_default_config())
    message = Message({TEXT: text})
    tokenizer.process([message])
    tokens = message.get(TOKENS_NAMES[TEXT])
    assert len(tokens) == tokenizer.get_default_config()["max_tokens"]
    assert tokens[0].text == "chào" and tokens[-1].text == "đâu"
    assert "hộ_chiếu" in lemmas(tokens)
    assert_offsets(text, tokens)


def test_syllable_word_lemmas_ignore_entity_boundaries() -> None:
    """Training (with entity boundaries) and inference give the same lemmas."""
    text = "làm hộ chiếu ở đâu"
    plain = tokenize_text(text, segmentation=SEGMENT_SYLLABLES_WITH_WORDS)
    annotated = tokenize_text(
        text, segmentation=SEGMENT_SYLLABLES_WITH_WORDS, boundaries=[4, 7]
    )
    assert lemmas(annotated) == lemmas(plain)
    assert [t.text for t in annotated] == text.split()
