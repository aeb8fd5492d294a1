"""problems.py: generated math problems with worked solutions, the training format, and the loaders for
the problem files users bring (small sample files each test writes itself)."""
import json

import pytest

import problems
from common import UserError
from verify import check_math, extract_answer


def test_generation_is_deterministic_for_a_seed_and_differs_across_seeds():
    a = problems.generate_math_problems(50, seed=3)
    assert a == problems.generate_math_problems(50, seed=3)
    assert [p["problem"] for p in a] != [p["problem"] for p in problems.generate_math_problems(50, seed=4)]


def test_every_level_is_generated_in_the_shares_of_its_weight():
    ps = problems.generate_math_problems(800, seed=1)  # weights 3:2:1:1:1, the easy levels more often
    assert {level: sum(p["level"] == level for p in ps) for level in problems.MATH_LEVELS} == {1: 300, 2: 200, 3: 100,
                                                                                                4: 100, 5: 100}
    only_easy = problems.generate_math_problems(20, seed=1, levels=(1, 2))
    assert {p["level"] for p in only_easy} == {1, 2}


def test_every_worked_solution_states_the_known_answer():
    for p in problems.generate_math_problems(2000, seed=7):
        verdict = check_math(p["solutions"][0], p["answer"])
        assert verdict["correct"], (p["problem"], p["solutions"][0], verdict)


def test_worked_solution_arithmetic_is_right_in_every_step():
    # each calculation "a op b [op c] = d" inside a step must hold, not just the final answer
    import re
    checked = 0
    for p in problems.generate_math_problems(1000, seed=9):
        for expression, value in re.findall(r"((?<![\d-])-?\d+(?: [-+x/] -?\d+)+) = (-?\d+)", p["solutions"][0]):
            assert eval(expression.replace("x", "*")) == int(value), p["solutions"][0]
            checked += 1
    assert checked > 1000


def test_level_answers_are_exact_whole_numbers_or_fractions():
    for p in problems.generate_math_problems(500, seed=2):
        assert p["answer"].isdigit() or (p["level"] == 4 and "/" in p["answer"]), p


def test_the_training_format_has_the_problem_then_numbered_steps_and_the_answer():
    p = problems.generate_math_problems(3, seed=1)[2]
    prompt = problems.problem_prompt(p["problem"])
    assert prompt == f"Problem: {p['problem']}\nSolve this problem step by step.\n"
    solution = p["solutions"][0]
    assert solution.startswith("Step 1: ") and solution.endswith(f"Therefore, the answer is {p['answer']}.")


# -----------------------------------------------------------------------------
# loaders

def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def test_math_style_records_give_the_boxed_answer_and_level(tmp_path):
    path = write_jsonl(tmp_path / "math.jsonl", [
        {"problem": "What is $\\frac{1}{2} + \\frac{1}{4}$?", "solution": "Add: $\\boxed{\\frac{3}{4}}$.",
         "level": "Level 2", "type": "Prealgebra"},
        {"problem": "No answer here", "solution": "We cannot tell.", "level": "Level 1", "type": "Algebra"}])
    loaded = problems.load_problems(path)
    assert len(loaded) == 1  # the record whose solution states no answer is skipped
    p = loaded[0]
    assert (p["kind"], p["source"], p["level"], p["type"]) == ("math", "math", 2, "Prealgebra")
    assert p["answer"] == "\\frac{3}{4}" and check_math(p["solutions"][0], p["answer"])["correct"]


def test_a_json_list_file_loads_like_jsonl(tmp_path):
    path = tmp_path / "math.json"
    path.write_text(json.dumps([{"problem": "1+1?", "solution": "So $\\boxed{2}$.", "level": "Level 1", "type": "x"}]))
    assert problems.load_problems(str(path))[0]["answer"] == "2"


def test_gsm8k_style_records_give_the_number_after_the_four_hashes(tmp_path):
    path = write_jsonl(tmp_path / "gsm8k.jsonl", [
        {"question": "Tom has 3 bags of 4 apples. How many apples?",
         "answer": "He has 3 * 4 = <<3*4=12>>12 apples.\n#### 12"},
        {"question": "A big sum?", "answer": "It is 1,000 + 200 = <<1000+200=1200>>1,200.\n#### 1,200"}])
    a, b = problems.load_problems(path)
    assert (a["source"], a["kind"], a["answer"], b["answer"]) == ("gsm8k", "math", "12", "1200")
    assert "<<" not in a["solutions"][0] and extract_answer(a["solutions"][0]) == "12"


def test_apps_style_records_give_tests_and_the_function_name(tmp_path):
    path = write_jsonl(tmp_path / "apps.jsonl", [
        {"problem_id": 7, "question": "Read n and print n squared.", "difficulty": "introductory",
         "input_output": json.dumps({"inputs": ["3\n", "5\n"], "outputs": ["9\n", "25\n"]}),
         "solutions": json.dumps(["n = int(input())\nprint(n * n)"])},
        {"problem_id": 8, "question": "Return the sum of a list.", "difficulty": "interview",
         "input_output": {"fn_name": "total", "inputs": [[[1, 2]], [[5]]], "outputs": [3, 5]}},
        {"problem_id": 9, "question": "No tests to check a solution with.",
         "input_output": {"inputs": [], "outputs": []}}])
    stdin_problem, call_problem = problems.load_problems(path)  # the one without tests is skipped
    assert stdin_problem["kind"] == "code" and stdin_problem["id"] == "7" and stdin_problem["fn_name"] is None
    assert stdin_problem["tests"] == {"inputs": ["3\n", "5\n"], "outputs": ["9\n", "25\n"]}
    assert stdin_problem["solutions"] == ["```python\nn = int(input())\nprint(n * n)\n```"]
    assert call_problem["fn_name"] == "total" and call_problem["level"] == "interview" and call_problem["solutions"] == []


@pytest.mark.parametrize("content,words", [("", "no usable problems"), ('{"a": 1}\n', "no usable problems"),
                                           ('{"problem": "x", "solution": "\\\\boxed{1}"}\n{oops\n', "line 2")])
def test_a_file_without_usable_problems_is_one_clear_error(tmp_path, content, words):
    path = tmp_path / "p.jsonl"
    path.write_text(content)
    with pytest.raises(UserError, match=words):
        problems.load_problems(str(path))


def test_a_missing_problems_file_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        problems.load_problems(str(tmp_path / "nope.jsonl"))
