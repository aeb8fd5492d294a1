"""templates.py and its four generators as a specification: what each writes, and how the prompt steers it."""
import re

import pytest

import refine
import templates
import templates_cooking
import templates_poetry
from conftest import PROMPTS
from tokenizer import estimate_tokens


@pytest.mark.parametrize("domain", templates.DOMAINS)
def test_generation_is_deterministic_for_a_seed_and_differs_across_seeds(domain):
    a = templates.generate_template_samples(PROMPTS[domain], domain, 3000, seed=7)
    b = templates.generate_template_samples(PROMPTS[domain], domain, 3000, seed=7)
    c = templates.generate_template_samples(PROMPTS[domain], domain, 3000, seed=8)
    assert a == b and a != c
    assert sum(estimate_tokens(d) for d in a) >= 3000


def _recipe_parts(doc):
    ingredients = doc.split("Ingredients:\n")[1].split("\n\n")[0].splitlines()
    steps = doc.split("Steps:\n")[1]
    return [line[2:] for line in ingredients], steps


def test_recipes_use_their_own_listed_ingredients_in_steps():
    docs = templates.generate_template_samples(PROMPTS["cooking"], "cooking", 20000, seed=3)
    checked = 0
    for doc in docs:
        ingredients, steps = _recipe_parts(doc)
        for line in ingredients:
            names = [row[0] for row in templates_cooking.INGREDIENTS + templates_cooking.HOT_INGREDIENTS if row[0] in line]
            if names:  # a listed pantry ingredient must be used by name in the steps
                assert max(names, key=len) in steps, (line, doc)
                checked += 1
    assert checked > 500



def test_recipe_lists_follow_the_steps_order_and_steps_name_ingredients_as_listed():
    # what makes the list learnable by a small model (issue 11's measurements, README "Presets"): the list is in
    # the order the steps first use it, a role's ingredients alphabetical, and a step names each ingredient
    # word for word as its line does ("1 carrot" -> "the carrot", "3 carrots" -> "the carrots")
    checked = 0
    for doc in templates.generate_template_samples(PROMPTS["cooking"], "cooking", 20000, seed=4):
        ingredients, steps = _recipe_parts(doc)
        steps = steps.split("\n\nTip:")[0]
        if "plain flour" in doc:  # desserts: a fixed pantry, in the order its steps use it too
            continue
        listed = [templates_cooking.ingredients_in(line)[0] for line in ingredients]
        used = list(dict.fromkeys(templates_cooking.ingredients_in(steps)))
        assert listed == used, doc
        for line in ingredients:
            noun = re.sub(r"^(\d[\d /]*( g| ml| tbsp| tsp| cloves| stalks| cm piece)?|a (small |large )?handful of|a pinch of) ", "",
                          line).split(",")[0]
            assert re.search(r"\b" + re.escape(noun) + r"\b", steps), (noun, doc)
            checked += 1
    assert checked > 500

def test_recipe_format_has_title_times_ingredients_and_numbered_steps():
    doc = templates.generate_template_samples(PROMPTS["cooking"], "cooking", 1, seed=1)[0]
    lines = doc.splitlines()
    assert lines[1].startswith("Serves ") and "Prep" in lines[1] and "Cook" in lines[1]
    assert "\nIngredients:\n- " in doc and "\nSteps:\n1. " in doc


def test_vegan_prompt_gives_recipes_without_animal_products():
    docs = templates.generate_template_samples("Vegan recipes", "cooking", 20000, seed=2)
    animal = [row[0] for row in templates_cooking.INGREDIENTS if row[4]] + ["butter", "eggs", "honey", "ml milk"]
    for doc in docs:
        ingredients = doc.split("Ingredients:\n")[1].split("\n\n")[0]
        assert not [a for a in animal if re.search(rf"\b{a}\b", ingredients)], doc


def test_prompt_words_steer_cuisine_theme_and_form():
    japanese = templates.generate_template_samples("Japanese recipes", "cooking", 5000, seed=1)
    assert sum("miso" in d or "soy sauce" in d or "mirin" in d for d in japanese) > len(japanese) / 2
    haiku = templates.generate_template_samples("haiku about the ocean", "poetry", 2000, seed=1)
    ocean = set(templates_poetry.POETRY_THEMES["ocean"][0])
    assert sum(any(w in d for w in ocean) for d in haiku) > 0.8 * len(haiku)
    python = templates.generate_template_samples("Python tutorials", "technical", 3000, seed=1)
    assert sum("Python" in d for d in python) > 0.8 * len(python)


@pytest.mark.parametrize("domain", templates.DOMAINS)
def test_generated_data_has_few_duplicates_and_varied_openings(domain):
    # At 200k tokens the generators before titles and openers were made compositional reached 5-34%
    # distinct 10-character openings; now every domain is above 60% (and above 50% at 1M tokens).
    docs = templates.generate_template_samples(PROMPTS[domain], domain, 200_000, seed=5)
    stats = refine.generation_stats(docs)
    assert stats["duplicate_rate"] < 0.01
    assert stats["distinct_openings_share"] > 0.55


def test_technical_guides_are_rarely_near_duplicates():
    # Guides of one task used to share their steps word for word: refinement dropped ~40% of them.
    docs = templates.generate_template_samples(PROMPTS["technical"], "technical", 200_000, seed=6)
    _, report = refine.refine_samples(_samples(docs), PROMPTS["technical"], "technical", 10**9)
    assert report["rejected"].get("near_duplicate", 0) < 0.1 * len(docs)


def test_recipes_keep_their_format_whatever_the_title():
    for doc in templates.generate_template_samples(PROMPTS["cooking"], "cooking", 20_000, seed=8):
        title, times = doc.splitlines()[:2]
        assert title and not title.startswith(("-", "Serves")) and times.startswith("Serves ")
        assert "\nIngredients:\n- " in doc and "\nSteps:\n1. " in doc


def test_story_pronouns_agree_with_plural_subjects():
    for doc in templates.generate_template_samples(PROMPTS["general"], "general", 20_000, seed=8):
        first = doc.split(".")[0]
        if re.match(r"\w+ and \w+ ", first):
            assert not re.search(r" (was|is|has) ", first), first


def _samples(texts):
    return [{"text": t, "source": "template"} for t in texts]
