"""Generated programming problems (problems_code.py): deterministic, in both forms, in the APPS loader's shape,
and every worked solution passes its own tests when run in the sandbox."""
import pytest

import problems_code
import verify

PER_LEVEL = 1000

@pytest.mark.parametrize("level", problems_code.CODE_LEVELS)
def test_a_thousand_generated_solutions_per_level_pass_their_own_tests(level):
    ps = problems_code.generate_code_problems(PER_LEVEL, seed=level, levels=(level,))
    assert len(ps) == PER_LEVEL and {p["level"] for p in ps} == {level}
    # in the sandbox, many to a process (check_code_batch, tested against check_code in test_verify.py)
    verdicts = verify.check_code_batch([(verify.extract_code(p["solutions"][0]), p["tests"], p["fn_name"]) for p in ps])
    failed = [(p["problem"], v) for p, v in zip(ps, verdicts) if v["verdict"] != "pass"]
    assert len(verdicts) == PER_LEVEL and not failed, failed[:3]


def test_solutions_pass_through_check_code_itself_in_both_forms():
    ps = problems_code.generate_code_problems(24, seed=3)
    assert {bool(p["fn_name"]) for p in ps} == {True, False}
    for p in ps:
        verdict = verify.check_code(verify.extract_code(p["solutions"][0]), p["tests"], p["fn_name"])
        assert verdict["verdict"] == "pass", (p["problem"], verdict)


def test_a_wrong_solution_fails_its_generated_tests():
    p = next(p for p in problems_code.generate_code_problems(500, seed=4, levels=(1,)) if p["fn_name"] == "reverse_text")
    assert verify.check_code("def reverse_text(s):\n    return s", p["tests"], p["fn_name"])["verdict"] == "fail"


def test_generation_is_deterministic_for_a_seed_and_differs_across_seeds():
    a, b = problems_code.generate_code_problems(40, seed=7), problems_code.generate_code_problems(40, seed=7)
    assert a == b and a != problems_code.generate_code_problems(40, seed=8)


def test_levels_come_in_the_shares_of_their_weights_and_half_the_problems_read_standard_input():
    ps = problems_code.generate_code_problems(700, seed=1)
    counts = {level: sum(p["level"] == level for p in ps) for level in problems_code.CODE_LEVELS}
    assert counts == {1: 300, 2: 200, 3: 100, 4: 100}
    assert 0.4 < sum(p["fn_name"] is None for p in ps) / len(ps) < 0.6


def test_problems_have_the_shape_the_apps_loader_gives():
    for p in problems_code.generate_code_problems(30, seed=2):
        assert set(p) == {"id", "source", "kind", "problem", "tests", "fn_name", "level", "type", "solutions"}
        assert p["kind"] == "code" and len(p["tests"]["inputs"]) == len(p["tests"]["outputs"]) > 0
        inputs, _, _ = verify.read_tests(p["tests"])  # the checker accepts them as they are
        if p["fn_name"]:
            assert all(isinstance(args, list) for args in inputs) and f"{p['fn_name']}(" in p["problem"]
        else:
            assert all(isinstance(given, str) and given.endswith("\n") for given in inputs)
            assert "standard input" in p["problem"]


def test_a_worked_solution_is_steps_then_one_python_block():
    for p in problems_code.generate_code_problems(20, seed=5):
        text = p["solutions"][0]
        assert text.startswith("Step 1: ") and text.endswith("```") and text.count("```python\n") == 1
