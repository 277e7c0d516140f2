"""Entity synonyms matched the way citizens spell them.

Rasa's EntitySynonymMapper matches an extracted value only if it equals an
annotated spelling up to case. Here the lookup key is the folded reading
(normalised, teencode expanded, diacritics removed), so "tạm trú", "tam tru",
"TẠM TRÚ" and "đk tạm trú" variants of a known spelling all map to
``temporary_residence`` without trainers listing each one.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.entity_synonyms import EntitySynonymMapper

from vietnamese.text import fold


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class VietnameseSynonymMapper(EntitySynonymMapper):
    """EntitySynonymMapper whose keys ignore diacritics, case and teencode."""

    def replace_synonyms(self, entities: List[Dict[str, Any]]) -> None:
        folded = self._folded_synonyms()
        for entity in entities:
            value = str(entity["value"])
            target = self.synonyms.get(value.lower()) or folded.get(fold(value))
            if target is not None and target != value:
                entity["value"] = target
                self.add_processor_name(entity)

    def _folded_synonyms(self) -> Dict[str, str]:
        """Folded keys, rebuilt only when the synonyms change (in training)."""
        size = len(self.synonyms)
        if getattr(self, "_folded_size", None) != size:
            self._folded_cache = {
                fold(key): target for key, target in self.synonyms.items()
            }
            self._folded_size = size
        return self._folded_cache
