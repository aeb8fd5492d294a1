"""
How good a trained model's documents are, by rules a reader can check: the quality report.

A template domain's generator obeys its rules by construction (templates_cooking.check_recipe and the other
checkers beside their generators), so a model trained on that data is judged by the same rules: does a
recipe's method cook only what its list names, does a quatrain rhyme. Every document also gets the rules
that apply to any text: it ended (the model wrote its end-of-document token), it is long enough, and it
does not loop. Teacher-made and users' own data get only those, and the report says so.
Plain text in, numbers out: sampling the documents is sample.py's job.
"""
import collections
import re

from templates_cooking import RECIPE_RULES, check_recipe
from templates_general import STORY_RULES, check_story
from templates_poetry import POEM_RULES, check_poem
from templates_technical import GUIDE_RULES, check_guide

# domain -> (what its documents are, checker, rules that say a document is well-formed, rules on its content)
CHECKERS = {"cooking": ("recipes", check_recipe, RECIPE_RULES[:5], RECIPE_RULES[5:]),
            "poetry": ("poems", check_poem, POEM_RULES[:2], POEM_RULES[2:]),
            "technical": ("how-to guides", check_guide, GUIDE_RULES[:2], GUIDE_RULES[2:]),
            "general": ("children's stories", check_story, STORY_RULES[2:], STORY_RULES[:2])}
GENERIC_RULES = ("ended", "long_enough", "not_repetitive")
MIN_WORDS = 10


def check_text(text, ended):
    """The rules any document obeys: the model ended it, it has at least MIN_WORDS words, and no
    four-word phrase makes up more than a quarter of it (a model stuck in a loop)."""
    words = re.findall(r"\w+", text.lower())
    grams = [tuple(words[i:i + 4]) for i in range(len(words) - 3)]
    top = max(collections.Counter(grams).values(), default=0)
    return {"ended": bool(ended), "long_enough": len(words) >= MIN_WORDS,
            "not_repetitive": len(grams) < 8 or top * 4 <= len(grams)}


def applies(info):
    """The domain checker that fits a run's data (from data_info / generation_info), or None: only the
    offline templates obey the domain rules by construction."""
    method = str(info.get("generation_method", ""))
    if info.get("domain") in CHECKERS and method.startswith("template") and not info.get("sources"):
        return info["domain"]
    return None


def quality_report(documents, domain=None):
    """documents: [(text, ended)]. Returns each rule's pass rate, the share of well-formed documents (every
    format rule and the generic ones) and of documents that pass every rule, and a few failing examples."""
    kind, checker, form_rules, content_rules = CHECKERS[domain] if domain else ("documents", None, (), ())
    results = []
    for text, ended in documents:
        r = check_text(text, ended)
        if checker:
            r.update(checker(text))
        results.append(r)
    n = max(1, len(results))
    rules = list(GENERIC_RULES) + list(form_rules) + list(content_rules)
    rate = lambda passed: round(sum(passed) / n, 4)
    report = {"documents": len(results), "checked_as": kind,
              "rules": {rule: rate(r[rule] for r in results) for rule in rules},
              "well_formed": rate(all(r[k] for k in GENERIC_RULES + form_rules) for r in results),
              "all_rules": rate(all(r.values()) for r in results),
              "failing_examples": [{"text": text, "failed": [k for k, v in r.items() if not v]}
                                   for (text, _), r in zip(documents, results) if not all(r.values())][:3]}
    if not checker:
        report["not_checked"] = ("no domain rules: they exist for the offline template data only (recipes, "
                                 "poems, how-to guides, stories); teacher-made and users' own data get the rules "
                                 "any text has: " + ", ".join(GENERIC_RULES))
    return report


def summary_line(report):
    """One line for the console: well-formed share, then each rule's pass rate."""
    rules = ", ".join(f"{k} {v:.0%}" for k, v in report["rules"].items())
    if "edit_similarity" in report:  # a code model's gaps (evaluate.gap_report)
        rules += f", parses checked on {report['parses_checked']}; edit similarity {report['edit_similarity']:.0%}"
        if "next_line_lookup" in report:
            rules += f"; a lookup of the training split's next lines fills {report['next_line_lookup']:.0%}"
    return (f"quality of {report['documents']} sampled {report['checked_as']}: {report['well_formed']:.0%} well-formed, "
            f"{report['all_rules']:.0%} pass every rule ({rules})")
