"""Users' own text through the pipeline (data.py's corpus steps, sample.py's chat and fill-in-the-middle):
sources merged with weights, de-duplicated across sources, split by document, scanned for length, and
trained on with the loss on what the model should write."""
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import numpy as np
import pytest

import corpora
import data
import settings
import templates
import token_files
from common import UserError
from conftest import ROOT, TINY_MODEL_FLAGS
from tokenizer import ASSISTANT, END_TURN, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX, USER, load_tokenizer

CODE = '''def total_price(items, tax_rate):
    """The price of items with tax added."""
    subtotal = sum(item.price * item.count for item in items)
    return round(subtotal * (1 + tax_rate), 2)


def cheapest(items):
    return min(items, key=lambda item: item.price)
'''


def write_code_folder(folder, n_files=12):
    os.makedirs(folder, exist_ok=True)
    for i in range(n_files):
        with open(os.path.join(folder, f"shop_{i}.py"), "w") as f:
            f.write(CODE.replace("total_price", f"total_price_{i}").replace("cheapest", f"cheapest_{i}")
                    + f"\n\nLIMIT_{i} = {i * 17}\n")
    return folder


def write_chat_file(path, conversations):
    with open(path, "w") as f:
        for c in conversations:
            f.write(json.dumps(c) + "\n")
    return path


def chat(user, assistant):
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]}


def cfg_for(sources, **overrides):
    flags = [f"--sources={sources}", "--vocab_size=400", "--block_size=32"] + [f"--{k}={v}" for k, v in overrides.items()]
    return settings.load_config(flags)


# -----------------------------------------------------------------------------
# merge, de-duplicate, split, weight

def test_documents_repeated_across_sources_are_kept_once(tmp_path):
    a = write_chat_file(tmp_path / "a.jsonl", [chat(f"Question {i} about rice?", f"Answer {i}: cook the rice slowly "
                                                    f"with {i} cups of water.") for i in range(30)])
    b = write_chat_file(tmp_path / "b.jsonl", [chat("Question 3 about rice?", "Answer 3: cook the rice slowly with 3 "
                                                    "cups of water.")])
    docs, report, _ = data.corpus_documents(cfg_for(f"chat:{a}, chat:{b}"), log=lambda *a: None)
    assert len(docs) == 30 and report["rejected"] == {"exact_duplicate": 1}


def test_the_split_is_by_document_deterministic_and_disjoint(tmp_path):
    path = write_chat_file(tmp_path / "c.jsonl", [chat(f"Tell me fact {i}.", f"Fact {i} is that {i} squared is "
                                                       f"{i * i}.") for i in range(200)])
    first, _, _ = data.corpus_documents(cfg_for(f"chat:{path}"), log=lambda *a: None)
    again, _, _ = data.corpus_documents(cfg_for(f"chat:{path}"), log=lambda *a: None)
    val = {d["text"] for d in first if d["val"]}
    assert val == {d["text"] for d in again if d["val"]}
    assert not val & {d["text"] for d in first if not d["val"]}
    assert 0.08 < len(val) / len(first) < 0.25  # about the default 0.15 for users' sources
    # a document keeps its split when others are removed
    fewer = write_chat_file(tmp_path / "d.jsonl", [chat(f"Tell me fact {i}.", f"Fact {i} is that {i} squared is "
                                                        f"{i * i}.") for i in range(0, 200, 2)])
    kept, _, _ = data.corpus_documents(cfg_for(f"chat:{fewer}"), log=lambda *a: None)
    assert {d["text"] for d in kept if d["val"]} <= val


def test_source_weights_repeat_train_documents_but_not_eval_ones(tmp_path):
    path = write_chat_file(tmp_path / "c.jsonl", [chat(f"Tell me fact {i}.", f"Fact {i}: {i} plus {i} is {2 * i}.")
                                                  for i in range(100)])
    docs, report, _ = data.corpus_documents(cfg_for(f"chat:{path}@3"), log=lambda *a: None)
    assert {d["copies"] for d in docs if not d["val"]} == {3}
    assert {d["copies"] for d in docs if d["val"]} == {1}
    half, _, _ = data.corpus_documents(cfg_for(f"chat:{path}@0.5"), log=lambda *a: None)
    trained = sum(d["copies"] for d in half if not d["val"])
    assert 0.3 * len(half) < trained < 0.7 * len(half)


def test_final_tokens_caps_the_distinct_documents(tmp_path):
    path = write_chat_file(tmp_path / "c.jsonl", [chat(f"Tell me fact {i}.", f"Fact {i}: {i} plus {i} is {2 * i}.")
                                                  for i in range(300)])
    docs, report, _ = data.corpus_documents(cfg_for(f"chat:{path}", final_tokens=1000), log=lambda *a: None)
    assert report["rejected"]["over_budget"] > 0
    assert 900 < sum(data.estimate_tokens(d["text"]) for d in docs) < 1200


def test_length_scan_reports_percentiles_and_counts_documents_over_the_limit():
    docs = [{"source": "files:a"}] * 100 + [{"source": "code:b"}] * 3
    lengths = list(range(1, 101)) + [10, 5000, 7000]
    scan = data.length_scan(docs, lengths, max_tokens=4000)
    assert scan["files:a"]["count"] == 100 and scan["files:a"]["min"] == 1 and scan["files:a"]["max"] == 100
    assert scan["files:a"]["p50"] == 50 and scan["files:a"]["p99"] == 99
    assert scan["files:a"]["over_max_tokens"] == 0 and scan["code:b"]["over_max_tokens"] == 2


# -----------------------------------------------------------------------------
# the whole data step on users' text

@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    """The data step on a code folder and a chat file, into a fresh folder."""
    tmp = tmp_path_factory.mktemp("corpus")
    code = write_code_folder(str(tmp / "repo"))
    talk = write_chat_file(str(tmp / "chat.jsonl"), [
        chat(f"Write to me at user{i}@example.com about order {i}.", f"Order {i} ships on day {i % 7 + 1}. "
             f"Call 555-123-{4000 + i:04d} with questions.") for i in range(60)])
    out = str(tmp / "data")
    cfg = cfg_for(f"code:{code}, chat:{talk}@2", fim_rate=0.5, max_tokens=300)
    info = data.prepare_data(cfg, out, log=lambda *a: None)
    return cfg, out, info


def test_the_corpus_data_step_writes_token_files_splits_and_a_length_scan(corpus_run):
    _, out, info = corpus_run
    for name in ("train.bin", "val.bin", "meta.json", "tokenizer.json", "train.jsonl", "eval.jsonl",
                 "length_scan.json", "length_scan.svg", "refine_report.json", "data_info.json"):
        assert os.path.exists(os.path.join(out, name)), name
    assert info["domain"] == "corpus" and set(info["length_scan"]) == {s.strip().split("@")[0] for s in info["sources"].split(",")}
    train = [json.loads(line) for line in open(os.path.join(out, "train.jsonl"))]
    evals = [json.loads(line) for line in open(os.path.join(out, "eval.jsonl"))]
    assert train and evals and not {json.dumps(r) for r in train} & {json.dumps(r) for r in evals}
    assert any("messages" in r for r in train) and any("text" in r for r in train)
    svg = ET.parse(os.path.join(out, "length_scan.svg")).getroot()
    assert len(svg.findall("{http://www.w3.org/2000/svg}polyline")) == 2  # one series per source


def test_chat_and_git_text_is_redacted_by_default(corpus_run):
    _, out, info = corpus_run
    text = open(os.path.join(out, "dataset.txt")).read() + open(os.path.join(out, "train.jsonl")).read()
    assert "@example.com" not in text and "555-123-" not in text
    assert info["refine"]["redactions"]["email"] >= 60 and info["refine"]["redactions"]["phone"] >= 60


def test_chats_inside_a_files_source_are_redacted_by_default(tmp_path):
    notes = tmp_path / "notes.jsonl"
    notes.write_text("".join(json.dumps(r) + "\n" for r in [
        {"text": "A plain note that mentions nobody in particular and carries on for a while."}] + [
        chat(f"Mail me at friend{i}@example.com please.", f"I will write to you soon, number {i}.") for i in range(20)]))
    docs, report, _ = data.corpus_documents(cfg_for(f"files:{notes}"), log=lambda *a: None)
    assert any(d["kind"] == "chat" for d in docs) and report["redactions"]["email"] == 20  # near twins go later
    assert not any("@example.com" in d["text"] or "@example.com" in json.dumps(d.get("messages"))
                   for d in docs)


def test_the_loss_mask_covers_assistant_turns_only(corpus_run):
    _, out, _ = corpus_run
    meta = token_files.load_meta(out)
    enc = load_tokenizer(os.path.join(out, "tokenizer.json"))
    tokens, mask = np.array(token_files.open_tokens(out, "train", meta)), np.array(token_files.open_loss_mask(out, "train", meta))
    user, assistant, end = (enc._special_tokens[t] for t in (USER, ASSISTANT, END_TURN))
    assert mask[tokens == user].max() == 0 and mask[tokens == assistant].max() == 0
    assert mask[tokens == end].min() == 0 and mask[tokens == end].max() == 1  # the user's turn ends unlearned
    # inside a conversation, what follows <|assistant|> is learned up to its <|end|>
    starts = np.flatnonzero(tokens == assistant)
    for s in starts[:20]:
        stop = s + 1 + np.flatnonzero(tokens[s + 1:] == end)[0]
        assert mask[s + 1:stop + 1].all()
    # code documents, plain or fill-in-the-middle, are learned whole
    fim = np.flatnonzero(tokens == enc._special_tokens[FIM_PREFIX])
    assert len(fim) and mask[fim].all()


def test_weighted_chat_appears_twice_in_the_training_tokens(corpus_run):
    _, out, info = corpus_run
    train_text = open(os.path.join(out, "dataset.txt")).read()
    records = [json.loads(line) for line in open(os.path.join(out, "train.jsonl"))]
    chats = [r["messages"][-1]["content"] for r in records if "messages" in r]  # chat@2
    code = [r["text"] for r in records if "text" in r]  # code@1
    assert chats and code
    assert all(train_text.count(c) == 2 for c in chats)
    assert all(train_text.count(c) == 1 for c in code if len(c) > 200)


def test_a_rerun_with_other_settings_does_not_overwrite_the_splits(corpus_run):
    cfg, out, _ = corpus_run
    changed = dict(cfg, fim_rate=0.9)
    with pytest.raises(UserError, match="overwrite=True"):
        data.prepare_data(changed, out, log=lambda *a: None)


def test_a_source_longer_than_the_context_is_said_in_one_line(tmp_path):
    talk = write_chat_file(tmp_path / "c.jsonl", [chat(f"Hi {i}, how are you?", f"Fine, thanks, number {i}. "
                                                       f"The weather is mild today.") for i in range(40)])
    lines = []
    info = data.prepare_data(cfg_for(f"chat:{talk}", block_size=8), str(tmp_path / "short"), log=lines.append)
    warnings = [line for line in lines if line.startswith("WARNING")]
    assert len(warnings) == 1 and f"half the documents of chat:{talk} are over" in warnings[0]
    assert "lower max_chars" in warnings[0] and info["context_notes"] == [warnings[0][len("WARNING: "):]]
    info = data.prepare_data(cfg_for(f"chat:{talk}", block_size=256), str(tmp_path / "long"), log=lambda *a: None)
    assert info["context_notes"] == []


def test_overwrite_true_replaces_the_splits(tmp_path):
    talk = write_chat_file(tmp_path / "c.jsonl", [chat(f"Hi {i}, how are you?", f"Fine, thanks, number {i}. "
                                                       f"The weather is mild today.") for i in range(40)])
    out = str(tmp_path / "data")
    data.prepare_data(cfg_for(f"chat:{talk}"), out, log=lambda *a: None)
    info = data.prepare_data(cfg_for(f"chat:{talk}", max_tokens=1000, overwrite=True), out, log=lambda *a: None)
    assert info["documents"]["refined"] == 40


def test_unknown_source_kind_is_one_line(tmp_path):
    with pytest.raises(UserError, match="kind"):
        data.prepare_data(cfg_for(f"books:{tmp_path}"), str(tmp_path / "d"), log=lambda *a: None)


# -----------------------------------------------------------------------------
# training and sampling: chat loop and fill-in-the-middle

@pytest.fixture(scope="module")
def corpus_model(corpus_run, tmp_path_factory):
    import train
    _, out, _ = corpus_run
    model_dir = str(tmp_path_factory.mktemp("corpus_model"))
    train.main([f"--dataset_dir={out}", f"--out_dir={model_dir}", "--max_iters=10", "--eval_interval=5"]
               + TINY_MODEL_FLAGS)
    return model_dir


def run_sample(args, stdin=""):
    return subprocess.run([sys.executable, os.path.join(ROOT, "sample.py"), *args], input=stdin, capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_chat_loop_answers_each_turn(corpus_model):
    done = run_sample([f"--out_dir={corpus_model}", "--chat", "--max_new_tokens=8", "--device=cpu"],
                      stdin="When does order 5 ship?\nThanks\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("model> ") == 2


def test_fill_in_the_middle_prints_a_middle(corpus_model, tmp_path):
    head = tmp_path / "head.py"
    head.write_text("def total_price(items, tax_rate):\n")
    done = run_sample([f"--out_dir={corpus_model}", f"--fim_prefix=FILE:{head}", "--fim_suffix=    return total\n",
                       "--max_new_tokens=8", "--num_samples=1", "--device=cpu"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("-" * 40)


def test_chat_on_a_model_without_chat_tokens_is_one_line(trained_run):
    done = run_sample([f"--out_dir={trained_run}", "--chat", "--device=cpu"], stdin="hi\n")
    assert done.returncode == 1 and "not trained for chat" in done.stderr and "Traceback" not in done.stderr


def test_fim_prompt_is_prefix_then_suffix_then_middle(corpus_model):
    import sample
    model, enc = sample.load_model(corpus_model, "cpu")
    seen = {}

    def fake_stream(model, enc, ids, args, generator, write=None, stop_tokens=()):
        seen["ids"] = ids
        return ""
    original = sample.stream_sample
    sample.stream_sample = fake_stream
    try:
        sample.fill_in_the_middle(model, enc, "a = 1\n", "print(a)\n", SimpleNamespace(max_new_tokens=8), None)
        short = seen["ids"]
        # code longer than the context loses what is farthest from the gap, never the markers
        sample.fill_in_the_middle(model, enc, "a = 1\n" * 500, "print(a)\n" * 500, SimpleNamespace(max_new_tokens=8), None)
        long = seen["ids"]
    finally:
        sample.stream_sample = original
    p, s, m = (enc._special_tokens[t] for t in (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE))
    # after a document end, as every training document starts
    assert short[:2] == [enc.eot_token, p] and short[-1] == m
    assert enc.decode(short[2:short.index(s)]) == "a = 1\n" and enc.decode(short[short.index(s) + 1:-1]) == "print(a)\n"
    assert len(long) <= model.config.block_size - 8 and long[:2] == [enc.eot_token, p] and long[-1] == m
    assert enc.decode(long[2:long.index(s)]).endswith("a = 1\n") and enc.decode(long[long.index(s) + 1:-1]).startswith("print(a)\n")


# -----------------------------------------------------------------------------
# the chat preset's data

def test_the_shipped_chat_file_is_what_the_templates_write():
    path = os.path.join(ROOT, "configs", "chat_small.jsonl")
    with open(path, encoding="utf-8") as f:
        shipped = [json.loads(line) for line in f]
    assert shipped == templates.template_conversations(len(shipped), seed=1, domains=("cooking",))


def test_template_conversations_ask_for_what_the_assistant_answers():
    for c in templates.template_conversations(40, seed=3):
        roles = [m["role"] for m in c["messages"] if m["role"] != "system"]
        assert roles[:2] == ["user", "assistant"] and len(roles) % 2 == 0
        ask, answer = [m for m in c["messages"] if m["role"] != "system"][:2]
        words = {w.lower().strip(".,?!\"'") for w in answer["content"].split("\n", 1)[0].split()}
        assert words & {w.lower().strip(".,?!\"'") for w in ask["content"].split()}, ask["content"]


def test_recipe_chats_ask_for_the_dish_by_its_title_as_written_and_in_lower_case():
    from templates_cooking import check_recipe
    cases = set()
    for c in templates.template_conversations(60, seed=3, domains=("cooking",)):
        ask, answer = [m["content"] for m in c["messages"] if m["role"] != "system"][:2]
        title = answer.split("\n", 1)[0]
        assert all(check_recipe(answer).values()), answer
        assert title in ask or title.lower() in ask, (ask, title)
        cases.add(title in ask)
    assert cases == {True, False}  # both, so that a model learns to follow either


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["chat_small", "code_fim_small"])
def test_the_corpus_presets_data_steps_run_from_the_repository_root(preset, tmp_path):
    done = subprocess.run([sys.executable, "data.py", f"configs/{preset}.py", f"--dataset_dir={tmp_path}"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "length in tokens per source" in done.stdout
    meta = token_files.load_meta(str(tmp_path))
    assert meta["train_tokens"] > 100_000 and meta["val_tokens"] > 10_000
    assert bool(meta.get("loss_mask")) == (preset == "chat_small")  # chat learns the assistant only; code all


def test_chat_loop_forgets_the_oldest_turns_but_keeps_the_system_text(corpus_model, monkeypatch):
    import builtins
    import sample
    from tokenizer import SYSTEM
    model, enc = sample.load_model(corpus_model, "cpu")
    questions = iter(["first question", "second question", "third question", "fourth question"])
    asked = []

    def fake_input(prompt=""):
        try:
            return next(questions)
        except StopIteration:
            raise EOFError from None

    def fake_stream(model, enc, ids, args, generator, write=None, stop_tokens=()):
        asked.append(ids)
        return "a reply of several words"
    monkeypatch.setattr(builtins, "input", fake_input)
    monkeypatch.setattr(sample, "stream_sample", fake_stream)
    sample.chat_loop(model, enc, None, None, system="Be kind.")
    last = asked[-1]
    assert len(last) <= model.config.block_size
    assert last[0] == enc._special_tokens[SYSTEM] and last[-1] == enc._special_tokens[ASSISTANT]
    assert "fourth question" in enc.decode(last) and "first question" not in enc.decode(last)


def test_a_chat_models_quality_report_checks_its_replies_to_held_out_requests(corpus_model, tmp_path):
    import evaluate
    import sample
    folder = tmp_path / "run"
    shutil.copytree(corpus_model, folder)  # --eval rewrites quality.json; the shared model stays as it was
    model, enc = sample.load_model(str(folder), "cpu")
    run = evaluate.folder_settings(str(folder))
    openings = evaluate.chat_openings(run, str(folder), enc, 2)
    assert len(openings) == 2 and all(ids[-1] == enc._special_tokens[ASSISTANT] for ids in openings)
    sample.main([f"--out_dir={folder}", "--eval", "--eval_samples=2", "--device=cpu"])
    with open(folder / "quality.json") as f:
        report = json.load(f)
    # a chat model learned to write replies, never to open a document: the report asks it what a user would
    assert report["checked_as"] == "replies to held-out chat requests" and report["documents"] == 2


def test_a_code_models_quality_report_fills_lines_cut_from_held_out_windows(tmp_path, capsys):
    import evaluate
    import train
    code = write_code_folder(str(tmp_path / "repo"))
    out, model_dir = str(tmp_path / "data"), str(tmp_path / "model")
    data.prepare_data(cfg_for(f"code:{code}", fim_rate=0.5, max_chars=120), out, log=lambda *a: None)
    train.main([f"--dataset_dir={out}", f"--out_dir={model_dir}", "--max_iters=4", "--eval_interval=2",
                "--quality_samples=3"] + TINY_MODEL_FLAGS[:3] + ["--block_size=96"] + TINY_MODEL_FLAGS[4:])
    with open(os.path.join(model_dir, "quality.json")) as f:
        report = json.load(f)
    # a code model is asked for what fill-in-the-middle is for: a line missing from code it never saw
    assert report["checked_as"] == "middles of held-out code lines" and report["documents"] == 3
    assert set(report["rules"]) >= {"ended", "exact_line"} and 0 <= report["edit_similarity"] <= 1
    assert 0 <= report["next_line_lookup"] <= 1  # the baseline, from the train split beside the token files
    # the closing line says how to ask a code model for a middle
    assert f"Next: python sample.py --out_dir={model_dir} --fim_prefix=" in capsys.readouterr().out
    run = evaluate.folder_settings(model_dir)
    gaps = evaluate.code_gaps(run, model_dir, 3)
    with open(os.path.join(out, "eval.jsonl")) as f:
        windows = [corpora.code_window(json.loads(line)["text"]) for line in f]
    assert len(gaps) == 3
    for prefix, line, suffix in gaps:  # each gap is one non-blank line of a held-out window
        assert line.strip() and line.count("\n") <= 1 and prefix + line + suffix in windows
    assert evaluate.code_gaps(run, model_dir, 3) == gaps  # the run's seed picks them


def test_the_gap_report_scores_exact_lines_and_parsing(monkeypatch):
    import evaluate
    gaps = [("def f(x):\n", "    return x + 1\n", "\nprint(f(2))\n"), ("a = [\n", "    1, 2,\n", "]\n")]
    model = SimpleNamespace(config=SimpleNamespace(block_size=256))
    enc = SimpleNamespace(eot_token=0, _special_tokens={FIM_PREFIX: 1, FIM_SUFFIX: 2, FIM_MIDDLE: 3},
                          encode_ordinary=lambda text: [5] * len(text))

    def answers(middles):
        monkeypatch.setattr(evaluate, "greedy_continuations", lambda *a, **k: middles)
        return evaluate.gap_report(model, enc, "cpu", gaps)
    right = answers([("    return x + 1\n", True), ("    1, 2,\n", True)])
    assert right["rules"] == {"ended": 1.0, "parses": 1.0, "exact_line": 1.0} and right["all_rules"] == 1.0
    assert right["edit_similarity"] == 1.0 and right["parses_checked"] == 2
    wrong = answers([("    return x +\n", True), ("    3, 4,\n", False)])
    # a middle that breaks the code, one that parses but is another line and never ended
    assert wrong["rules"] == {"ended": 0.5, "parses": 0.5, "exact_line": 0.0} and wrong["well_formed"] == 0.0
    assert 0.5 < wrong["edit_similarity"] < 1 and wrong["failing_examples"][0]["middle"] == "    return x +\n"


def test_the_next_line_lookup_fills_a_gap_with_the_line_that_most_often_follows_the_one_before():
    import evaluate
    train_windows = ["try:\n    x = f()\nexcept KeyError:\n    pass\n", "try:\n    x = f()\n",
                     "try:\n    y = g()\n", "import os\nimport sys\n"]
    commonest = ("def h():\n    try:\n", "    x = f()\n", "    except:\n")  # after `try:` twice, `y = g()` once
    rarer = ("try:\n", "    y = g()\n", "")
    first = ("", "try:\n", "    z = 1\n")  # a window's first line: the commonest first line
    unseen = ("while True:\n", "    break\n", "")
    assert evaluate.next_line_lookup(train_windows, [commonest]) == 1.0
    assert evaluate.next_line_lookup(train_windows, [rarer, unseen]) == 0.0
    assert evaluate.next_line_lookup(train_windows, [first, commonest, rarer, unseen]) == 0.5


def test_the_next_command_asks_a_model_for_what_it_was_trained_on():
    import evaluate
    run = {"out_dir": "m", "dataset_dir": ""}
    chats = {"documents": {"by_kind": {"chat": 30, "files": 5}, "fim": 0}}
    code = {"documents": {"by_kind": {"code": 30}, "fim": 12}}
    assert evaluate.next_command(run, chats) == "python sample.py --out_dir=m --chat"
    assert evaluate.next_command(run, code).startswith("python sample.py --out_dir=m --fim_prefix=")
    for text in ({"documents": {"by_kind": {"code": 30}, "fim": 0}}, {"documents": {"generated": 9}}, {}):
        assert evaluate.next_command(run, text) == "python sample.py --out_dir=m"
