"""Math and code problems mixed by weight, the choice among correct solutions, and AIME-style records that
only a teacher can solve (data.py, problems.py, settings.py)."""
import json
import re
import subprocess
import sys

import pytest
import torch

import data
import problems
import problems_code
import evaluate
import settings
import train
from common import UserError
from conftest import ROOT, TINY_MODEL_FLAGS
from fake_teacher import start_fake_teacher, stop_fake_teacher
from tokenizer import estimate_tokens, train_bpe

PROMPT = "A GPT that solves math and coding problems step by step"


def config(*flags):
    return settings.load_config([f"--prompt={PROMPT}", "--block_size=32", "--vocab_size=300", *flags])


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def quiet(*args):
    pass


# -----------------------------------------------------------------------------
# the mix

@pytest.mark.parametrize("math_weight", [0.5, 0.3])
def test_mix_weights_are_honoured_within_two_points_on_a_fixed_seed(tmp_path, math_weight):
    mix = {"math": math_weight, "code": 1 - math_weight}
    info = data.prepare_data(config(f"--mix={mix}", "--initial_tokens=24000", "--final_tokens=20000"),
                             str(tmp_path), log=quiet)
    assert info["domain"] == "reasoning"
    docs = read_jsonl(tmp_path / "dataset.jsonl")
    tokens = {kind: sum(estimate_tokens(d["text"]) for d in docs if d["kind"] == kind) for kind in mix}
    shares = json.load(open(tmp_path / "refine_report.json"))["shares"]
    for kind, weight in mix.items():
        measured = tokens[kind] / sum(tokens.values())
        assert abs(measured - weight) <= 0.02, (kind, measured, weight)
        assert shares[kind]["weight"] == pytest.approx(weight) and shares[kind]["share"] == pytest.approx(measured, abs=1e-4)
    # each level's share of all the kept tokens, and a kind's levels add up to the kind's share
    assert set(shares["math"]["levels"]) == {"1", "2", "3", "4", "5"} and set(shares["code"]["levels"]) == {"1", "2", "3", "4"}
    for v in shares.values():
        assert sum(v["levels"].values()) == pytest.approx(v["share"], abs=1e-3)


def test_a_mix_of_code_alone_trains_on_generated_code_problems_checked_in_the_sandbox(tmp_path):
    info = data.prepare_data(config("--mix={'code': 1}", "--initial_tokens=2500", "--final_tokens=2500"),
                             str(tmp_path), log=quiet)
    assert info["domain"] == "code" and info["reasoning"]["correct"] == info["reasoning"]["candidates"] > 10
    verdicts = read_jsonl(tmp_path / "candidates.jsonl")
    assert {v["reason"] for v in verdicts} == {"passed"} and all(v["failed"] == 0 and v["kept"] for v in verdicts)
    assert all("```python\n" in d["text"] and d["kind"] == "code" for d in read_jsonl(tmp_path / "dataset.jsonl"))


def test_the_mix_is_part_of_the_data_settings():
    assert data.data_key(config("--mix={'math': 1, 'code': 1}")) != data.data_key(config("--mix={'math': 1, 'code': 2}"))


def test_a_mix_with_a_problems_file_is_one_clear_error(tmp_path):
    path = tmp_path / "gsm8k.jsonl"
    path.write_text(json.dumps({"question": "What is 2 + 3?", "answer": "2 + 3 = 5\n#### 5"}) + "\n")
    with pytest.raises(UserError, match="drop one of the two"):
        data.prepare_data(config("--mix={'math': 1}", f"--problems_file={path}"), str(tmp_path / "out"), log=quiet)


@pytest.mark.parametrize("bad", ["{'maths': 1}", "{'math': -1}", "{'math': 0, 'code': 0}", "{'code': 'half'}"])
def test_a_bad_mix_is_one_line_naming_the_setting(bad):
    with pytest.raises(UserError, match=r"'mix' must give math and/or code a weight") as e:
        config(f"--mix={bad}")
    assert "\n" not in str(e.value)


# -----------------------------------------------------------------------------
# which correct solutions are kept

def problem_with_solutions(*solutions):
    p = problems.generate_math_problems(1, seed=3, levels=(1,))[0]
    return dict(p, id="p1", answer="12", solutions=list(solutions))


LONG_STEPS = "Step 1: Count them one by one: seven, then five more.\nStep 2: 7 + 5 = 12.\nTherefore, the answer is 12."
SHORT_STEPS = "Step 1: 7 + 5 = 12.\nTherefore, the answer is 12."
NO_STEPS = "7 + 5 = 12, so the answer is 12."
WRONG = "Step 1: 7 + 5 = 13.\nTherefore, the answer is 13."


@pytest.mark.parametrize("keep, expected", [(1, [SHORT_STEPS]), (2, [SHORT_STEPS, LONG_STEPS]),
                                            (3, [SHORT_STEPS, LONG_STEPS, NO_STEPS])])
def test_selection_keeps_up_to_n_correct_solutions_with_steps_first_then_the_shortest(tmp_path, keep, expected):
    cfg = {"generation_method": "template", "solutions_kept_per_problem": keep}
    p = problem_with_solutions(LONG_STEPS, NO_STEPS, WRONG, SHORT_STEPS)
    samples, report, _, _ = data.solved_problem_samples(cfg, [p], str(tmp_path), quiet)
    assert [s["text"][len(s["prompt"]):] for s in samples] == expected
    verdicts = read_jsonl(tmp_path / "candidates.jsonl")
    assert [v["kept"] for v in verdicts] == [t in expected for t in (LONG_STEPS, NO_STEPS, WRONG, SHORT_STEPS)]
    assert report["correct"] == 3 and report["kept"] == keep


def test_the_report_gives_mean_solution_length_and_steps_per_level(tmp_path):
    cfg = {"generation_method": "template", "solutions_kept_per_problem": 2}
    samples, report, _, _ = data.solved_problem_samples(cfg, [problem_with_solutions(LONG_STEPS, SHORT_STEPS)],
                                                        str(tmp_path), quiet)
    row = report["per_level"]["math 1"]
    assert row["kept"] == 2 and row["mean_steps"] == 1.5
    assert row["mean_solution_tokens"] == (estimate_tokens(LONG_STEPS) + estimate_tokens(SHORT_STEPS)) / 2


# -----------------------------------------------------------------------------
# AIME-style records: a problem and its answer, no solution

def write_aime(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


AIME = [{"id": "2024-I-1", "problem": "Find the sum of 100 and 23.", "answer": 123},
        {"id": "2024-I-2", "problem": "Find the product of 9 and 8.", "answer": "72"}]


def test_aime_records_load_with_their_answer_and_no_solution(tmp_path):
    ps = problems.load_problems(write_aime(tmp_path / "aime.jsonl", AIME))
    assert [(p["id"], p["source"], p["kind"], p["answer"], p["solutions"]) for p in ps] == [
        ("2024-I-1", "aime", "math", "123", []), ("2024-I-2", "aime", "math", "72", [])]


def test_aime_records_offline_are_one_line_saying_a_teacher_is_needed(tmp_path):
    path = write_aime(tmp_path / "aime.jsonl", AIME)
    with pytest.raises(UserError, match="generation_method='ollama' or 'openai'") as e:
        data.prepare_data(config(f"--problems_file={path}"), str(tmp_path / "out"), log=quiet)
    assert "\n" not in str(e.value)


def test_offline_the_records_without_a_solution_are_left_out_and_counted(tmp_path):
    gsm8k = {"question": "What is 2 + 3?", "answer": "2 + 3 = 5\n#### 5"}
    path = write_aime(tmp_path / "mixed.jsonl", AIME + [gsm8k])
    lines = []
    info = data.prepare_data(config(f"--problems_file={path}", "--block_size=8"), str(tmp_path / "out"), log=lines.append)
    assert info["reasoning"]["unsolved_offline"] == 2 and info["reasoning"]["candidates"] == 1
    assert any("2 problems have an answer but no worked solution" in line for line in lines)


def test_a_teacher_solves_aime_records_and_only_right_answers_are_kept(tmp_path):
    server = start_fake_teacher()
    try:
        def reply(body):
            question = re.search(r"Problem: (.*)\nSolve", body["messages"][-1]["content"], re.S).group(1)
            return "Step 1: 100 + 23 = 123.\nTherefore, the answer is 123." if "sum" in question else \
                "Step 1: 9 x 8 = 71.\nTherefore, the answer is 71."
        server.state["reply"] = reply
        path = write_aime(tmp_path / "aime.jsonl", AIME)
        info = data.prepare_data(config(f"--problems_file={path}", f"--teacher_url={server.url}", "--block_size=8",
                                        "--generation_method=ollama", "--solutions_per_problem=1"),
                                 str(tmp_path / "out"), log=quiet)
    finally:
        stop_fake_teacher(server)
    assert info["reasoning"]["candidates"] == 2 and info["reasoning"]["correct"] == 1
    assert [d["problem_id"] for d in read_jsonl(tmp_path / "out" / "dataset.jsonl")] == ["2024-I-1"]


# -----------------------------------------------------------------------------
# measuring code: pass@1 on held-out generated problems

class SolutionsFromTable:
    """A stand-in model whose greedy 'generation' is a fixed reply per prompt (the tokens of answer(prompt))."""
    def __init__(self, enc, answer):
        self.enc, self.answer = enc, answer

    def generate(self, x, max_new_tokens, temperature=0.0, stop_tokens=()):
        rows = []
        for ids in x.tolist():
            prompt = self.enc.decode(ids[1:])
            rows.append(ids + self.enc.encode_ordinary(self.answer(prompt)) + [self.enc.eot_token])
        width = max(map(len, rows))
        return torch.tensor([r + [self.enc.eot_token] * (width - len(r)) for r in rows])


def test_code_evaluation_runs_each_solution_against_its_tests_and_scores_pass_at_1_per_level():
    ps = problems_code.generate_code_problems(28, seed=5)
    enc = train_bpe([problems.problem_prompt(p["problem"]) + p["solutions"][0] for p in ps], 400)
    by_prompt = {problems.problem_prompt(p["problem"]): p for p in ps}

    def right_on_odd_levels(prompt):  # the worked solution on levels 1 and 3; on 2 and 4 its function renamed
        p = by_prompt[prompt]
        return p["solutions"][0] if p["level"] % 2 else p["solutions"][0].replace("def ", "def renamed_")
    result = evaluate.evaluate_code(SolutionsFromTable(enc, right_on_odd_levels), enc, "cpu", ps)
    assert {k: v["pass_at_1"] for k, v in result["levels"].items()} == {"1": 1.0, "2": 0.0, "3": 1.0, "4": 0.0}
    assert {k: v["problems"] for k, v in result["levels"].items()} == {"1": 12, "2": 8, "3": 4, "4": 4}
    assert result["reasons"]["passed"] == 16 and sum(result["reasons"].values()) == 28


def test_held_out_code_problems_never_repeat_a_training_problem():
    training = {problems.problem_prompt(p["problem"]) for p in problems_code.generate_code_problems(3000, seed=1)}
    held_out = evaluate.held_out_problems(1, 40, (1, 2), training, problems_code.generate_code_problems)
    assert len(held_out) == 80 and not {problems.problem_prompt(p["problem"]) for p in held_out} & training
    assert {p["level"] for p in held_out} == {1, 2}


@pytest.mark.slow
def test_a_trained_mixed_model_is_measured_on_math_and_code_after_training_and_by_sample_py(tmp_path):
    out = tmp_path / "run"
    train.main([f"--prompt={PROMPT}", f"--out_dir={out}", "--mix={'math': 0.5, 'code': 0.5}", "--initial_tokens=6000",
                "--final_tokens=6000", "--vocab_size=300", "--max_iters=6", "--eval_interval=3",
                "--eval_problems=2"] + TINY_MODEL_FLAGS)
    info = json.load(open(out / "generation_info.json"))
    assert info["domain"] == "reasoning"
    assert set(info["math_eval"]) == {"1", "2", "3", "4", "5"} and set(info["code_eval"]) == {"1", "2", "3", "4"}
    assert all(row["problems"] == 2 and 0 <= row["pass_at_1"] <= 1 for row in info["code_eval"].values())
    done = subprocess.run([sys.executable, "sample.py", f"--out_dir={out}", "--eval=code", "--eval_problems=3"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "code level 1:" in done.stdout and "code level 4:" in done.stdout
    saved = json.load(open(out / "eval_code.json"))
    assert saved["levels"]["1"]["problems"] == 3 and saved["seed"] == info["seed"] + evaluate.EVAL_SEED_OFFSET
    assert sum(saved["reasons"].values()) == 12 and len(saved["examples"]) > 0
