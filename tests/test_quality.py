"""The quality report (quality.py and the checkers beside each template generator): the training data
passes its domain's rules, each rule catches the documents that break it, and sample.py / train.py write
the report of a trained model."""
import functools
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

import quality
import evaluate
import sample
import templates
import token_files
from conftest import PROMPTS, ROOT


@pytest.mark.parametrize("domain", templates.DOMAINS)
def test_the_training_data_passes_its_own_rules(domain):
    docs = _first_documents(domain, 1000)
    report = quality.quality_report([(d, True) for d in docs], domain)
    assert report["documents"] == 1000
    assert all(rate >= 0.99 for rate in report["rules"].values()), report["rules"]
    assert report["all_rules"] >= 0.99 and report["well_formed"] >= 0.99


def _first_documents(domain, n):
    docs, tokens = [], 50_000
    while len(docs) < n:
        docs = templates.generate_template_samples(PROMPTS[domain], domain, tokens, seed=11)
        tokens *= 2
    return docs[:n]


@functools.lru_cache(maxsize=None)
def _documents(domain, seed):
    return templates.generate_template_samples(PROMPTS[domain], domain, 100_000, seed)


def _doc(domain, want=lambda d: True, seed=3):
    return next(d for d in _documents(domain, seed) if want(d))


def _replace_line(text, index, new):
    lines = text.split("\n")
    lines[index] = new
    return "\n".join(lines)


def _break_recipe(rule):
    doc = _doc("cooking", lambda d: "Tip:" not in d and "plain flour" not in d)
    lines = doc.split("\n")
    first_item = lines.index("Ingredients:") + 1
    if rule == "title":
        return _replace_line(doc, 0, "- 2 onions")
    if rule == "servings_line":
        return _replace_line(doc, 1, "Serves lots of people")
    if rule == "ingredient_list":
        return _replace_line(doc, first_item, re.sub(r"^- [^a-z]+ (g |ml |tbsp |tsp |cloves )?", "- ", lines[first_item]))
    if rule == "numbered_steps":
        return doc.replace("\n2. ", "\n4. ")
    if rule == "no_ingredient_twice":
        return "\n".join(lines[:first_item + 1] + [lines[first_item]] + lines[first_item + 1:])
    if rule == "steps_use_listed":  # the steps cook an ingredient the list never named
        steps_at = doc.index("\nSteps:\n")
        return doc[:steps_at] + doc[steps_at:].replace("\n1. ", "\n1. Rinse the asparagus. ", 1) \
            if "asparagus" not in doc else doc.replace("asparagus", "fennel")


def _break_poem(rule):
    quatrain = _doc("poetry", lambda d: quality.check_poem(d) and len(d.split("\n\n")[1].split("\n")) == 4)
    if rule == "title":
        return _replace_line(quatrain, 0, "A title that goes on and on for far too many words to be one")
    if rule == "form":  # one stanza a line short
        title, first, *rest = quatrain.split("\n\n")
        return "\n\n".join([title, "\n".join(first.split("\n")[:3])] + rest)
    if rule == "rhyme":
        return _replace_line(quatrain, 2, quatrain.split("\n")[2].rsplit(" ", 1)[0] + " elephant")


def _break_guide(rule):
    doc = _doc("technical", lambda d: re.search(r"\n1\. .*:\n   git ", d) is not None and d.count("\n   ") >= 2)
    if rule == "title":
        return doc.replace("\n\n", "\n", 1)
    if rule == "steps_with_commands":  # step 2 lost its command
        lines = doc.split("\n")
        k = next(i for i, line in enumerate(lines) if line.startswith("2. "))
        return "\n".join(lines[:k + 1] + lines[k + 2:])
    if rule == "tool_matches_title":  # a git guide whose first command is Docker's
        return re.sub(r"(\n1\. .*:\n   )git [^\n]*", r"\1docker ps", doc, count=1)


def _break_story(rule):
    one_name_first = lambda d: sum(w in templates.NAMES for w in re.findall(r"\w+", d.split(". ")[0])) == 1
    doc = _doc("general", lambda d: "\n" not in d and d.split()[0] in templates.NAMES and one_name_first(d) and " she " in d)
    hero = doc.split()[0]
    if rule == "named_character":
        return "The child" + doc[len(hero):].replace(hero, "the child")
    if rule == "same_person":  # she becomes he halfway
        return doc.replace(" she ", " he ")
    if rule == "ending":
        return doc[:doc.rindex(" ")]


BREAKERS = {"cooking": _break_recipe, "poetry": _break_poem, "technical": _break_guide, "general": _break_story}


@pytest.mark.parametrize("domain,rule", [(d, r) for d, (_, _, form, content) in quality.CHECKERS.items()
                                         for r in form + content])
def test_each_rule_catches_a_document_that_breaks_it(domain, rule):
    broken = BREAKERS[domain](rule)
    result = quality.CHECKERS[domain][1](broken)
    assert not result[rule], broken
    # and it is that rule that fails, not another one by accident
    assert [k for k, ok in result.items() if not ok] == [rule] or rule == "named_character", (result, broken)


def test_rules_any_text_has_catch_unended_short_and_looping_documents():
    good = "A short note that has enough words in it to count as a real document here."
    assert all(quality.check_text(good, True).values())
    assert not quality.check_text(good, False)["ended"]
    assert not quality.check_text("Too short.", True)["long_enough"]
    assert not quality.check_text("the pan is hot " * 20, True)["not_repetitive"]


def test_report_counts_rates_and_says_what_it_could_not_check():
    docs = [(_doc("cooking"), True), (_break_recipe("steps_use_listed"), True), (_doc("cooking", seed=4), False)]
    report = quality.quality_report(docs, "cooking")
    assert report["documents"] == 3 and report["checked_as"] == "recipes"
    assert report["rules"]["steps_use_listed"] == round(2 / 3, 4) and report["rules"]["ended"] == round(2 / 3, 4)
    assert report["well_formed"] == round(2 / 3, 4) and report["all_rules"] == round(1 / 3, 4)
    assert len(report["failing_examples"]) == 2 and "not_checked" not in report
    generic = quality.quality_report(docs, None)
    assert set(generic["rules"]) == set(quality.GENERIC_RULES) and "template data only" in generic["not_checked"]
    assert "sampled recipes: 67% well-formed" in quality.summary_line(report)


def test_domain_rules_apply_to_template_data_only():
    assert quality.applies({"domain": "cooking", "generation_method": "template"}) == "cooking"
    assert quality.applies({"domain": "cooking", "generation_method": "template (fallback: ollama unreachable)"}) == "cooking"
    assert quality.applies({"domain": "cooking", "generation_method": "ollama"}) is None
    assert quality.applies({"domain": "math", "generation_method": "template"}) is None
    assert quality.applies({}) is None


def test_sampled_documents_are_whole_seeded_and_flag_the_unended(trained_run):
    model, enc = sample.load_model(trained_run, 'cpu')
    a = evaluate.sample_documents(model, enc, 'cpu', 5, seed=1, temperature=0.8, max_new_tokens=40)
    b = evaluate.sample_documents(model, enc, 'cpu', 5, seed=1, temperature=0.8, max_new_tokens=40)
    assert a == b and len(a) == 5
    assert all("<|endoftext|>" not in text for text, _ in a)
    short = evaluate.sample_documents(model, enc, 'cpu', 5, seed=1, temperature=0.8, max_new_tokens=1)
    assert all(not ended for text, ended in short if text)


def test_sample_py_eval_writes_the_quality_report(trained_run):
    r = subprocess.run([sys.executable, 'sample.py', f'--out_dir={trained_run}', '--eval', '--eval_samples=6'],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "quality of 6 sampled documents" in r.stdout and "template data only" in r.stdout
    with open(f"{trained_run}/quality.json") as f:
        report = json.load(f)
    assert report["documents"] == 6 and set(report["rules"]) == set(quality.GENERIC_RULES)


def test_training_ends_with_the_quality_report(trained_run):
    with open(f"{trained_run}/generation_info.json") as f:
        info = json.load(f)
    assert info["quality"]["documents"] == 20 and "well_formed" in info["quality"]
    with open(f"{trained_run}/config.json") as f:
        assert info["quality"]["temperature"] == json.load(f)["config"]["sample_temperature"] == 0.8


def test_sample_py_samples_at_the_runs_sample_temperature(trained_run, tmp_path, capfd):
    folder = tmp_path / "run"
    shutil.copytree(trained_run, folder)
    with open(folder / "config.json") as f:
        config = json.load(f)
    config["config"]["sample_temperature"] = 0.0  # a run that asked for greedy sampling

    def samples(*flags):
        with open(folder / "config.json", "w") as f:
            json.dump(config, f)
        capfd.readouterr()
        sample.main([f"--out_dir={folder}", "--num_samples=1", "--max_new_tokens=30", *flags])
        out = capfd.readouterr().out
        assert len(out) > 60  # the sample itself, not only the separator line
        return out

    assert samples("--seed=1") == samples("--seed=2")  # greedy: the seed changes nothing
    assert samples("--seed=1", "--temperature=1.5") != samples("--seed=2", "--temperature=1.5")
    sample.main([f"--out_dir={folder}", "--eval", "--eval_samples=3"])
    with open(folder / "quality.json") as f:
        assert json.load(f)["temperature"] == 0.0
    del config["config"]["sample_temperature"]  # a folder from before the setting: sampled at 0.8, as then
    assert samples("--seed=1") == samples("--seed=1", "--temperature=0.8") != samples("--seed=2")


def test_doc_aligned_windows_start_where_documents_do(tiny_dataset):
    gen = torch.Generator().manual_seed(0)
    get_batch = token_files.make_batch_fn(tiny_dataset, 32, 64, 'cpu', gen, doc_aligned=True)
    meta = token_files.load_meta(tiny_dataset)
    tokens = token_files.open_tokens(tiny_dataset, 'train', meta)
    x, y = get_batch('train')
    eot = meta['eot_token']
    opening = tokens[:32].astype(np.int64)
    assert all(row[0] == eot or torch.equal(row, torch.from_numpy(opening)) for row in x)
    assert torch.equal(x[:, 1:], y[:, :-1])
    starts = token_files.document_starts(tokens, eot, len(tokens) - 32, chunk=100)
    assert starts[0] == 0 and all(tokens[s] == eot for s in starts[1:]) and starts[-1] < len(tokens) - 32
    assert len(starts) == 1 + int((np.asarray(tokens[:len(tokens) - 32]) == eot).sum())


def test_sample_py_eval_samples_as_many_documents_as_the_run_did(trained_run, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(trained_run, folder)
    with open(folder / "config.json") as f:
        config = json.load(f)

    def documents_checked(quality_samples, *flags):
        config["config"]["quality_samples"] = quality_samples
        with open(folder / "config.json", "w") as f:
            json.dump(config, f)
        sample.main([f"--out_dir={folder}", "--eval", *flags])
        with open(folder / "quality.json") as f:
            return json.load(f)["documents"]

    assert documents_checked(7) == 7  # a preset that asked for a larger report gets it again from --eval
    assert documents_checked(7, "--eval_samples=3") == 3
    assert documents_checked(0) == 20  # a run that skipped its report: the usual 20
