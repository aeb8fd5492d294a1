"""
Offline training documents: one seeded compositional generator per domain, each in its own file with the
word lists it draws from (templates_cooking.py, templates_poetry.py, templates_technical.py,
templates_general.py). Words of the user's prompt steer the choices ("vegan", "Japanese", "haiku", "git"),
and the same (prompt, domain, seed) always gives the same documents. A generator knows what it wrote, so
its documents obey their domain's rules by construction.
"""
import random
import re

from common import UserError
from templates_cooking import recipe
from templates_general import story
from templates_poetry import poem
from templates_technical import guide
from tokenizer import estimate_tokens
from words import BOY_NAMES, GIRL_NAMES, joined, prompt_words, word_forms

NAMES = set(GIRL_NAMES + BOY_NAMES)

GENERATORS = {"cooking": recipe, "poetry": lambda rng, w, ws: poem(rng, w),
              "technical": lambda rng, w, ws: guide(rng, ws), "general": lambda rng, w, ws: story(rng, ws)}
DOMAINS = tuple(GENERATORS)  # every domain a run can have; detect_domain answers one of these


def generate_template_samples(prompt, domain, n_tokens, seed, progress=None):
    """Documents from the domain's compositional generator until their estimated tokens reach n_tokens.

    Deterministic for (prompt, domain, seed); words of the prompt steer the choices the vocabulary has.
    progress(tokens_so_far), when given, is called after each document.
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
        if progress:
            progress(total)
    return docs


# -----------------------------------------------------------------------------
# conversations: the chat preset's data (configs/chat_small.jsonl), asked for by a user, answered by a generator

def _request(domain, doc, rng):
    """What a user might have typed to get doc: its title, or the name its story uses most."""
    title = re.sub(r"^[^:]{1,12}: ", "", doc.split("\n", 1)[0].strip())  # a dated guide's title
    if domain == "cooking":  # the title as written or in lower case, as people type either
        return rng.choice(("How do I make {t}?", "Can you give me a recipe for {t}?", "I'd like to cook {t} tonight.",
                           "Recipe for {t}, please.")).format(t=title if rng.random() < 0.5 else title.lower())
    if domain == "poetry":
        return rng.choice(("Write me a poem called \"{t}\".", "A short poem titled {t}, please.",
                           "Could you write a poem named {t}?")).format(t=title)
    if domain == "technical":
        return rng.choice(("Write me a how-to: {t}.", "I need a guide for this: {t}.", "Step by step, please: {t}.")
                          ).format(t=title[0].lower() + title[1:])
    names = [w for w in re.findall(r"[A-Z][a-z]+", doc) if w in NAMES]
    name = max(names, key=names.count) if names else "a little fox"  # the hero: named most, then first
    return rng.choice(("Tell me a bedtime story about {n}.", "A short story with {n} in it, please.",
                       "Can you tell a story about a child called {n}?")).format(n=name)


CHAT_KINDS = {"cooking": "recipes", "poetry": "poems", "technical": "how-to guides", "general": "bedtime stories"}
CHAT_THANKS = ("Thanks! Another one, please.", "Lovely. One more?", "Great, can I have another?")


def template_conversations(n, seed, domains=DOMAINS):
    """n conversations {"messages": [...]} in which a user asks for a document of one of domains (a recipe,
    a poem, a how-to guide, a story) by its title or hero and the assistant answers with the generated one;
    some have a system message or a second request."""
    rng = random.Random(seed)
    system = f"You are a friendly assistant who writes {joined(CHAT_KINDS[d] for d in domains)}."
    conversations = []
    for i in range(n):
        domain = domains[i % len(domains)]
        messages = [{"role": "system", "content": system}] if rng.random() < 0.3 else []
        for turn in range(1 + (rng.random() < 0.25)):
            doc = GENERATORS[domain](rng, [], set())
            ask = _request(domain, doc, rng) if turn == 0 else rng.choice(CHAT_THANKS)
            messages += [{"role": "user", "content": ask}, {"role": "assistant", "content": doc}]
        conversations.append({"messages": messages})
    return conversations
