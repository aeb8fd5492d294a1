"""
Offline training documents: one seeded compositional generator per domain, each in its own file with the
word lists it draws from (templates_cooking.py, templates_poetry.py, templates_technical.py,
templates_general.py). Words of the user's prompt steer the choices ("vegan", "Japanese", "haiku", "git"),
and the same (prompt, domain, seed) always gives the same documents. A generator knows what it wrote, so
its documents obey their domain's rules by construction.
"""
import random

from common import UserError
from templates_cooking import recipe
from templates_general import story
from templates_poetry import poem
from templates_technical import guide
from tokenizer import estimate_tokens
from words import prompt_words, word_forms

GENERATORS = {"cooking": recipe, "poetry": lambda rng, w, ws: poem(rng, w),
              "technical": lambda rng, w, ws: guide(rng, ws), "general": lambda rng, w, ws: story(rng, ws)}
DOMAINS = tuple(GENERATORS)  # every domain a run can have; detect_domain answers one of these


def generate_template_samples(prompt, domain, n_tokens, seed):
    """Documents from the domain's compositional generator until their estimated tokens reach n_tokens.

    Deterministic for (prompt, domain, seed); words of the prompt steer the choices the vocabulary has.
    """
    if domain not in GENERATORS:
        raise UserError(f"unknown domain {domain!r}; choose one of {', '.join(DOMAINS)}")
    rng = random.Random(seed)
    words = prompt_words(prompt)
    words_set = set(words) | {f for w in words for f in word_forms(w)}
    make = GENERATORS[domain]
    docs, total = [], 0
    while total < n_tokens:
        doc = make(rng, words, words_set)
        docs.append(doc)
        total += estimate_tokens(doc)
    return docs
