"""Problems to solve through the whole product: rejection sampling in the data step (offline and through a
teacher on 127.0.0.1), loss only on solutions, and the measured accuracy of a trained model."""
import json
import os
import re
import subprocess
import sys
import zlib

import numpy as np
import pytest
import torch

import data
import problems
import refine
import evaluate
import settings
import teacher
import token_files
import train
from common import UserError
from conftest import ROOT, TINY_MODEL_FLAGS
from fake_teacher import closed_port, start_fake_teacher, stop_fake_teacher
from tokenizer import train_bpe

MATH_PROMPT = "A GPT that solves math word problems step by step"


def math_config(*flags):
    return settings.load_config([f"--prompt={MATH_PROMPT}", "--initial_tokens=3000", "--final_tokens=3000",
                                 "--block_size=32", "--vocab_size=300", "--teacher_device=gpu", *flags])


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


# -----------------------------------------------------------------------------
# the data step

def test_a_math_prompt_gets_generated_problems_with_checked_solutions(tmp_path):
    info = data.prepare_data(math_config(), str(tmp_path), log=lambda *a: None)
    assert info["domain"] == "math" and info["generation_method"] == "reference solutions"
    report = info["reasoning"]
    assert report["candidates"] == report["correct"] == report["problems"] > 30
    assert set(report["per_level"]) == {"math 1", "math 2", "math 3", "math 4", "math 5"}
    docs = read_jsonl(tmp_path / "dataset.jsonl")
    assert all(d["text"].startswith(d["prompt"]) and d["prompt"].startswith("Problem: ") for d in docs)
    assert {d["level"] for d in docs} == {1, 2, 3, 4, 5}
    verdicts = read_jsonl(tmp_path / "candidates.jsonl")
    assert len(verdicts) == report["candidates"] and all(v["reason"] == "correct" for v in verdicts)


def test_problems_that_differ_in_one_number_are_both_kept(tmp_path, monkeypatch):
    # near-duplicate removal is for free text; a problem with other numbers is another problem
    story = ("Ana packs boxes of apples for the school fair and for the market in town every week. Her brother "
             "drives the old blue van, her aunt counts the money, and the neighbours come early to buy the best "
             "fruit before the crowds arrive at noon. After lunch they clean the stall and walk home together. ")
    twins = []
    for n in (23, 24):
        p = problems.generate_math_problems(1, seed=1)[0]
        p.update(id=f"twin-{n}", problem=story + f"She has {n} apples. How many?", answer=str(n),
                 solutions=[f"Step 1: She has {n}.\nTherefore, the answer is {n}."])
        twins.append(p)
    texts = [{"text": problems.problem_prompt(p["problem"]) + p["solutions"][0], "source": "t"} for p in twins]
    assert len(refine.refine_samples(texts, MATH_PROMPT, "math", 10**9)[0]) == 1  # free text: one of them goes
    monkeypatch.setattr(data, "generated_problems", lambda cfg, n_tokens, kind: twins)
    data.prepare_data(math_config("--block_size=8"), str(tmp_path), log=lambda *a: None)
    assert {d["problem_id"] for d in read_jsonl(tmp_path / "dataset.jsonl")} == {"twin-23", "twin-24"}


def test_generated_problems_keep_their_repeats_and_each_problem_stays_on_one_side_of_the_split(tmp_path):
    data.prepare_data(math_config("--initial_tokens=20000", "--final_tokens=20000"), str(tmp_path), log=lambda *a: None)
    from tokenizer import load_tokenizer
    enc = load_tokenizer(str(tmp_path / "tokenizer.json"))

    def problems_in(split):
        ids = np.fromfile(tmp_path / f"{split}.bin", dtype=np.uint16).tolist()
        return [d.split("\nStep 1")[0] for d in enc.decode(ids).split("<|endoftext|>") if d.strip()]
    train, val = problems_in("train"), problems_in("val")
    assert len(train) > len(set(train))  # "What is 3 + 4?" drawn twice is trained twice: practice
    assert val and not set(train) & set(val)  # validation is on problems the model never trained on


def test_the_math_tokenizer_keeps_every_digit_a_token(tmp_path):
    data.prepare_data(math_config(), str(tmp_path), log=lambda *a: None)
    from tokenizer import load_tokenizer
    enc = load_tokenizer(str(tmp_path / "tokenizer.json"))
    assert [enc.decode([t]) for t in enc.encode_ordinary("is 1234.")] == ["is", " ", "1", "2", "3", "4", "."]


def test_loss_mask_covers_solutions_and_not_problems(tmp_path):
    enc = train_bpe(["Problem: what is 2 + 2?\nSolve.\nStep 1: 2 + 2 = 4."] * 5, 300)
    prompts = ["Problem: what is 2 + 2?\nSolve.\n", "Problem: what is 3 + 1?\nSolve.\n"]
    docs = [prompts[0] + "Step 1: 2 + 2 = 4.", prompts[1] + "Step 1: 3 + 1 = 4."]
    meta = token_files.write_dataset(docs, enc, str(tmp_path), val_fraction=0.5, seed=1, prompts=prompts)
    assert meta["loss_mask"] is True
    for split in ("train", "val"):
        tokens = token_files.open_tokens(str(tmp_path), split)
        mask = token_files.open_loss_mask(str(tmp_path), split, meta)
        assert len(mask) == len(tokens)
        shown = enc.decode([t for t, m in zip(tokens.tolist(), mask.tolist()) if m == 0])
        learned = enc.decode([t for t, m in zip(tokens.tolist(), mask.tolist()) if m == 1])
        assert shown.startswith("Problem: what is") and "Step" not in shown
        assert learned.startswith("Step 1: ") and learned.endswith("= 4.<|endoftext|>")


def test_training_batches_put_minus_one_on_problem_targets(tmp_path):
    data.prepare_data(math_config(), str(tmp_path), log=lambda *a: None)
    meta = token_files.load_meta(str(tmp_path))
    get_batch = token_files.make_batch_fn(str(tmp_path), 32, 64, "cpu", torch.Generator().manual_seed(0))
    x, y = get_batch("train")
    ignored = y == -1
    assert 0.05 < ignored.float().mean() < 0.9  # both kinds of target are there
    # a target is ignored exactly where the token at that place is part of a problem
    tokens = token_files.open_tokens(str(tmp_path), "train", meta)
    mask = token_files.open_loss_mask(str(tmp_path), "train", meta)
    starts = [int(np.flatnonzero(np.all(np.lib.stride_tricks.sliding_window_view(tokens, 32) == row.numpy(), axis=1))[0])
              for row in x[:4]]
    for row, start in enumerate(starts):
        assert torch.equal(ignored[row], torch.from_numpy(mask[start + 1:start + 33] == 0))


def test_files_that_are_not_math_keep_the_plain_token_files(tmp_path):
    cfg = settings.load_config(["--prompt=Bedtime stories", "--initial_tokens=2000", "--final_tokens=1500",
                                "--block_size=32", "--vocab_size=300"])
    data.prepare_data(cfg, str(tmp_path), log=lambda *a: None)
    assert "loss_mask" not in token_files.load_meta(str(tmp_path)) and not (tmp_path / "train_mask.bin").exists()


def test_code_problems_keep_only_reference_solutions_that_pass_their_tests(tmp_path):
    path = tmp_path / "apps.jsonl"
    io = json.dumps({"inputs": ["3\n", "5\n"], "outputs": ["9\n", "25\n"]})
    path.write_text("".join(json.dumps(r) + "\n" for r in [
        {"problem_id": 1, "question": "Print n squared.", "input_output": io,
         "solutions": json.dumps(["n = int(input())\nprint(n * n)", "n = int(input())\nprint(n + n)"])}]))
    info = data.prepare_data(math_config(f"--problems_file={path}", "--block_size=8"), str(tmp_path / "out"),
                             log=lambda *a: None)
    assert info["domain"] == "code" and info["reasoning"]["candidates"] == 2 and info["reasoning"]["correct"] == 1
    docs = read_jsonl(tmp_path / "out" / "dataset.jsonl")
    assert len(docs) == 1 and "n * n" in docs[0]["text"]
    reasons = sorted(v["reason"] for v in read_jsonl(tmp_path / "out" / "candidates.jsonl"))
    assert reasons == ["passed", "wrong output"]


# -----------------------------------------------------------------------------
# rejection sampling through a teacher

@pytest.fixture
def server():
    s = start_fake_teacher()
    yield s
    stop_fake_teacher(s)


def solver_that_is_right_on_even_seeds(known_answers):
    """A fake teacher: reads the problem, answers it right when the request's seed is even, else off by one."""
    def reply(body):
        question = re.search(r"Problem: (.*)\nSolve", body["messages"][-1]["content"], re.S).group(1)
        seed = body.get("seed", body.get("options", {}).get("seed"))
        answer = known_answers[question]
        given = answer if seed % 2 == 0 else str(int(answer) + 1)
        return f"Step 1: Work it out carefully.\nTherefore, the answer is {given}."
    return reply


def test_rejection_sampling_keeps_exactly_the_right_teacher_solutions(server, tmp_path):
    cfg = math_config(f"--teacher_url={server.url}", "--generation_method=ollama", "--solutions_per_problem=3",
                      "--max_level=2", "--initial_tokens=600", "--final_tokens=100000")
    ps = data.generated_problems(cfg, cfg["initial_tokens"])
    server.state["reply"] = solver_that_is_right_on_even_seeds({p["problem"]: p["answer"] for p in ps})
    info = data.prepare_data(cfg, str(tmp_path), log=lambda *a: None)
    expected = {(p["id"], j) for p in ps for j in range(3)
                if teacher.request_seed(cfg["seed"], zlib.crc32(f"{p['id']}:{j}".encode())) % 2 == 0}
    kept = {(d["problem_id"], d["text"]) for d in read_jsonl(tmp_path / "dataset.jsonl")}
    assert info["generation_method"] == "ollama" and info["reasoning"]["candidates"] == 3 * len(ps)
    assert info["reasoning"]["correct"] == len(expected) and 0 < len(expected) < 3 * len(ps)
    answers = {p["id"]: p["answer"] for p in ps}
    assert all(text.endswith(f"the answer is {answers[pid]}.") for pid, text in kept)
    verdicts = read_jsonl(tmp_path / "candidates.jsonl")
    assert {(v["problem_id"], v["sample"]) for v in verdicts if v["correct"]} == expected
    assert {v["reason"] for v in verdicts if not v["correct"]} == {"wrong"}
    assert server.counts["/api/chat"] == 3 * len(ps)


def test_teacher_solutions_are_not_asked_twice(server, tmp_path):
    cfg = math_config(f"--teacher_url={server.url}", "--generation_method=ollama", "--solutions_per_problem=2",
                      "--initial_tokens=300")
    ps = data.generated_problems(cfg, cfg["initial_tokens"])
    server.state["reply"] = solver_that_is_right_on_even_seeds({p["problem"]: p["answer"] for p in ps})
    first, _ = teacher.solve_problems(cfg, ps, str(tmp_path), lambda *a: None)
    asked = server.counts["/api/chat"]
    again, stats = teacher.solve_problems(cfg, ps, str(tmp_path), lambda *a: None)
    assert again == first and server.counts["/api/chat"] == asked and stats["resumed"] == len(first)


def test_solutions_of_another_model_or_other_problems_are_asked_again(server, tmp_path):
    cfg = math_config(f"--teacher_url={server.url}", "--generation_method=ollama", "--solutions_per_problem=1",
                      "--initial_tokens=300")
    ps = data.generated_problems(cfg, cfg["initial_tokens"])
    server.state["reply"] = solver_that_is_right_on_even_seeds({p["problem"]: p["answer"] for p in ps})
    teacher.solve_problems(cfg, ps, str(tmp_path), lambda *a: None)
    asked = server.counts["/api/chat"]
    _, stats = teacher.solve_problems(dict(cfg, gen_model="qwen2.5:7b"), ps, str(tmp_path), lambda *a: None)
    assert stats["resumed"] == 0 and server.counts["/api/chat"] == 2 * asked
    moved = [dict(p, problem=p["problem"] + " (changed)") for p in ps]  # the same ids now name other problems
    server.state["reply"] = solver_that_is_right_on_even_seeds({p["problem"]: p["answer"] for p in moved})
    _, stats = teacher.solve_problems(dict(cfg, gen_model="qwen2.5:7b"), moved, str(tmp_path), lambda *a: None)
    assert stats["resumed"] == 0 and server.counts["/api/chat"] == 3 * asked


def test_a_teacher_that_is_down_falls_back_to_the_worked_solutions(tmp_path):
    cfg = math_config(f"--teacher_url=http://127.0.0.1:{closed_port()}", "--generation_method=ollama")
    info = data.prepare_data(cfg, str(tmp_path), log=lambda *a: None)
    assert info["generation_method"].startswith("reference solutions (fallback")
    assert info["reasoning"]["correct"] == info["reasoning"]["candidates"] > 0


# -----------------------------------------------------------------------------
# measured accuracy

class AnswersFromTable:
    """Stands in for a GPT: 'generates' a stated solution for each prompt (right or wrong by design)."""

    def __init__(self, enc, solution_for_prompt):
        self.enc, self.solution_for_prompt = enc, solution_for_prompt

    def generate(self, x, max_new_tokens, temperature=1.0, stop_tokens=()):
        rows = []
        for ids in x.tolist():
            text = self.solution_for_prompt(self.enc.decode(ids[1:]))
            rows.append(ids + self.enc.encode_ordinary(text) + [self.enc.eot_token])
        width = max(map(len, rows))
        return torch.tensor([r + [self.enc.eot_token] * (width - len(r)) for r in rows])


def test_evaluation_scores_each_level_by_the_final_answer():
    enc = train_bpe(["Problem: Step 1: Therefore, the answer is 12/34."] * 4, 300)
    ps = problems.generate_math_problems(40, seed=5)
    by_prompt = {problems.problem_prompt(p["problem"]): p for p in ps}

    def right_on_odd_levels(prompt):
        p = by_prompt[prompt]
        return f"Therefore, the answer is {p['answer'] if p['level'] % 2 else p['answer'] + '9'}."
    result = evaluate.evaluate_math(AnswersFromTable(enc, right_on_odd_levels), enc, "cpu", ps)
    assert {k: v["accuracy"] for k, v in result["levels"].items()} == {"1": 1.0, "2": 0.0, "3": 1.0, "4": 0.0, "5": 1.0}
    assert {k: v["problems"] for k, v in result["levels"].items()} == {"1": 15, "2": 10, "3": 5, "4": 5, "5": 5}


def test_held_out_problems_never_repeat_a_training_problem():
    training = {problems.problem_prompt(p["problem"]) for p in problems.generate_math_problems(3000, seed=1)}
    held_out = evaluate.held_out_problems(1, 50, (1, 2), training)
    assert len(held_out) == 100 and not {problems.problem_prompt(p["problem"]) for p in held_out} & training


@pytest.mark.slow
def test_a_trained_math_model_is_measured_after_training_and_by_sample_py(tmp_path):
    out = tmp_path / "run"
    train.main([f"--prompt={MATH_PROMPT}", f"--out_dir={out}", "--initial_tokens=4000", "--final_tokens=4000",
                "--vocab_size=300", "--max_iters=6", "--eval_interval=3", "--eval_problems=3"] + TINY_MODEL_FLAGS)
    info = json.load(open(out / "generation_info.json"))
    assert set(info["math_eval"]) == {"1", "2", "3", "4", "5"}
    assert all(row["problems"] == 3 for row in info["math_eval"].values())
    # no document quality report: it samples whole documents from nothing, and this model learned only solutions
    assert "quality" not in info and not os.path.exists(out / "quality.json")
    done = subprocess.run([sys.executable, "sample.py", f"--out_dir={out}", "--eval=math", "--eval_problems=2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "math level 1:" in done.stdout and "math level 5:" in done.stdout
    saved = json.load(open(out / "eval_math.json"))
    assert saved["levels"]["1"]["problems"] == 2 and os.path.exists(out / "loss.svg")


@pytest.mark.slow
def test_a_math_model_trained_on_a_prepared_folder_is_measured_on_problems_it_never_saw(tmp_path, monkeypatch):
    prepared, out = str(tmp_path / "data"), str(tmp_path / "run")
    data.prepare_data(math_config(), prepared, log=lambda *a: None)
    seen = []
    held_out = evaluate.held_out_problems
    monkeypatch.setattr(evaluate, "held_out_problems", lambda seed, n, levels, prompts, generate:
                        seen.append(set(prompts)) or held_out(seed, n, levels, prompts, generate))
    train.main([f"--dataset_dir={prepared}", f"--out_dir={out}", "--max_iters=4", "--eval_interval=2",
                "--eval_problems=2"] + TINY_MODEL_FLAGS)
    # what the data steps reported there, as a run that makes its own data: a math model, measured as one
    info = json.load(open(os.path.join(out, "generation_info.json")))
    assert info["domain"] == "math" and set(info["math_eval"]) == {"1", "2", "3", "4", "5"}
    trained = {r["prompt"] for r in read_jsonl(os.path.join(prepared, "dataset.jsonl"))}
    assert seen == [trained] and trained  # the held-out problems avoid the prepared folder's


def test_a_reply_cut_at_the_token_limit_is_truncated_not_wrong(server, tmp_path):
    # half the replies stop mid-solution, the other half finish with a wrong answer; both hit the limit
    def reply(body):
        seed = body.get("options", {}).get("seed")
        return "Step 1: 3 + 4 = 7.\nStep 2: 7 x" if seed % 2 else "Step 1: Done.\nTherefore, the answer is 100000."
    server.state["reply"], server.state["done_reason"] = reply, "length"
    cfg = math_config(f"--teacher_url={server.url}", "--generation_method=ollama", "--solutions_per_problem=2",
                      "--initial_tokens=300", "--fallback=none")
    with pytest.raises(UserError, match="no usable documents"):  # no solution checks out: nothing to train on
        data.prepare_data(cfg, str(tmp_path), log=lambda *a: None)
    verdicts = read_jsonl(tmp_path / "candidates.jsonl")
    cut = [v for v in verdicts if v["reason"] == "truncated"]
    wrong = [v for v in verdicts if v["reason"] == "wrong"]
    assert cut and wrong and len(cut) + len(wrong) == len(verdicts)


def test_solution_requests_get_a_timeout_that_fits_their_token_budget(monkeypatch):
    seen = {}

    def fake_call(method, url, body, headers, timeout, read, max_retries=None):
        seen["timeout"] = timeout
        return ("Therefore, the answer is 1.", False), 0, None
    monkeypatch.setattr(teacher, "call_teacher", fake_call)
    cfg = math_config("--teacher_url=http://127.0.0.1:9", "--num_predict=128", "--generate_timeout_s=10")
    problem = problems.generate_math_problems(1, seed=1)[0]
    teacher.request_solution(cfg, "m", problem, 0, {})
    assert seen["timeout"][1] == pytest.approx(10 * 512 / 128)  # math replies may run to 512 tokens


def test_a_code_reply_cut_before_its_closing_fence_is_truncated_and_a_closed_wrong_one_is_not():
    problem = {"kind": "code", "tests": {"inputs": ["3\n"], "outputs": ["9\n"]}, "fn_name": None}
    cut = data.check_solution(problem, "Step 1: square it.\n```python\nn = int(inp", hit_token_limit=True)
    wrong = data.check_solution(problem, "```python\nprint(int(input()) + 1)\n```", hit_token_limit=True)
    unlimited = data.check_solution(problem, "Step 1: square it.\n```python\nn = int(inp", hit_token_limit=False)
    assert (cut["reason"], wrong["reason"], unlimited["reason"]) == ("truncated", "wrong output", "no code found")
    assert not cut["correct"] and not wrong["correct"]
