"""verify.py: the answer a math solution states and whether it is right; the sandbox that runs generated
code, and the tests that code must pass."""
import json
import math
import os
import signal
import time

import pytest

import verify
from common import UserError
from verify import (answers_match, check_code, check_math, extract_answer, extract_code, normalize_answer,
                    run_sandboxed, to_number)

# -----------------------------------------------------------------------------
# math answers

# (solution text, the answer extract_answer must return, a gold answer, whether they must match)
ANSWER_CASES = [
    (r"So the result is \boxed{\frac{1}{2}}.", r"\frac{1}{2}", "0.5", True),
    (r"First \boxed{3}, then on reflection \boxed{5}.", "5", "5", True),
    (r"First \boxed{3}, then on reflection \boxed{5}.", "5", "3", False),
    (r"\boxed{{3}}", "{3}", "3", True),
    (r"\boxed{1,000}", "1,000", "1000", True),
    ("She pays 8 * 9 = 72 dollars.\n#### 72", "72", "72", True),
    ("#### 1,000", "1,000", "1000", True),
    ("We get 5 and 6.\n#### 11", "11", "11", True),
    ("The answer is $18.", "$18", "18", True),
    ("So the answer is 3/4.", "3/4", r"\frac{3}{4}", True),
    ("The answer is 3/4.", "3/4", "4/3", False),
    ("Subtracting gives -5", "-5", "-5", True),
    ("The answer is 5.0", "5.0", "5", True),
    ("The answer is 5.00.", "5.00", "5", True),
    (r"\boxed{\dfrac{3}{4}}", r"\dfrac{3}{4}", "0.75", True),
    (r"\boxed{\frac34}", r"\frac34", r"\frac{3}{4}", True),
    ("Answer: 6/8", "6/8", "3/4", True),
    (r"\boxed{50\%}", r"50\%", "50", True),
    (r"\boxed{\$12}", r"\$12", "12", True),
    ("The answer is 12 apples.", "12 apples", "12", True),
    ("The answer is 12 apples.", "12 apples", "120", False),
    ("The answer is 3 dollars", "3 dollars", "3", True),
    ("Answer: 7 km/h", "7 km/h", "7", True),
    (r"\boxed{5\text{ cm}}", r"5\text{ cm}", "5", True),
    (r"\boxed{10\text{ cm}^2}", r"10\text{ cm}^2", "10", True),
    (r"\boxed{\text{(B)}}", r"\text{(B)}", "(B)", True),
    (r"\boxed{90^\circ}", r"90^\circ", "90", True),
    (r"\boxed{x = 7}", "x = 7", "7", True),
    ("The answer is +3.", "+3", "3", True),
    (r"\boxed{\sqrt2}", r"\sqrt2", r"\sqrt{2}", True),
    (r"\boxed{2\sqrt{3}}", r"2\sqrt{3}", "3.4641016", True),
    (r"\boxed{\sqrt{8}}", r"\sqrt{8}", r"2\sqrt{2}", True),
    (r"\boxed{(1, 2)}", "(1, 2)", "(1,2)", True),
    (r"\boxed{(1, 2)}", "(1, 2)", "12", False),
    ("The answer is 1,2", "1,2", "12", False),
    (r"\boxed{\left( 3, \frac{\pi}{2} \right)}", r"\left( 3, \frac{\pi}{2} \right)", r"(3,\frac{\pi}{2})", True),
    ("no numbers at all here", None, "4", False),
    ("I had 3 cats and now 7 remain, which is fine.", "7", "7", True),
    ("The temperature fell to -2.5 degrees overnight", "-2.5", "-2.50", True),
    ("The town has 1,234,567 people in total", "1,234,567", "1234567", True),
    ("Reading pages 3-4", "4", "4", True),
    ("Final Answer: The final answer is 5. I hope it is correct.", "5", "5", True),
    ("The answer is 0.333", "0.333", "1/3", False),
    (r"\boxed{\frac{1}{3}}", r"\frac{1}{3}", "0.333333333", True),
    ("The answer is 2.", "2", "2.0000001", True),
    ("The answer is 2.", "2", "2.00001", False),
    ("The answer is 12", "12", "12.5", False),
    (r"\fbox{9}", "9", "9", True),
    ("The answer is **42**.", "42", "42", True),
    (r"\boxed{-\frac{1}{2}}", r"-\frac{1}{2}", "-0.5", True),
    (r"\boxed{-\frac{1}{2}}", r"-\frac{1}{2}", "1/2", False),
    (r"\boxed{\frac{4}{2}}", r"\frac{4}{2}", "2", True),
    (r"\boxed{-0}", "-0", "0", True),
    (r"The solution was cut off: \boxed{5", "5", "5", True),
    ("half, that is .5 of the cake", ".5", "1/2", True),
    (r"The answer is 13, or rather \boxed{12}", "12", "12", True),
    ("Both sides are 0, so the answer is: 8", "8", "8", True),
    (r"The answer is \(\frac{1}{2}\).", r"\(\frac{1}{2}\)", "1/2", True),
]


@pytest.mark.parametrize("text, extracted, gold, match", ANSWER_CASES)
def test_extract_answer_finds_the_stated_answer(text, extracted, gold, match):
    assert extract_answer(text) == extracted


@pytest.mark.parametrize("text, extracted, gold, match", ANSWER_CASES)
def test_answers_match_only_equal_answers(text, extracted, gold, match):
    assert answers_match(extract_answer(text), gold) is match


@pytest.mark.parametrize("raw, canonical", [
    ("1,234", "1234"), ("(1, 2)", "(1,2)"), ("5.0", "5"), ("2.50", "2.5"), (r"\frac12", "1/2"),
    (r"\tfrac{6}{8}", "3/4"), ("4/2", "2"), ("-0", "0"), ("+3", "3"), (r"\sqrt2", r"\sqrt{2}"), ("x = 5", "5"),
    (r"\left(1, 2\right)", "(1,2)"), ("$\\$1,000$", "1000"), (r"\boxed{7}", "7"), (r"3\!\,000", "3000"),
])
def test_normalize_answer_writes_equal_answers_one_way(raw, canonical):
    assert normalize_answer(raw) == canonical


@pytest.mark.parametrize("normalised, value", [
    ("3/4", 0.75), ("-1/2", -0.5), ("2.5", 2.5), ("-7", -7.0), (r"\sqrt{2}", math.sqrt(2)),
    (r"2\sqrt{3}", 2 * math.sqrt(3)), (r"-\sqrt{2}", -math.sqrt(2)), ("(1,2)", None), ("x+1", None), ("1/0", None),
])
def test_to_number_reads_numbers_fractions_and_roots(normalised, value):
    if value is None:
        assert to_number(normalised) is None
    else:
        assert to_number(normalised) == pytest.approx(value)


def test_no_answer_never_matches():
    assert not answers_match(None, "5")
    assert not answers_match("", "")


def test_check_math_reports_correct():
    assert check_math("3 + 4 = 7, so the answer is 7.", 7) == {
        "extracted": "7", "gold": "7", "correct": True, "reason": "correct"}


def test_check_math_reports_wrong():
    result = check_math(r"So \boxed{8}", "7")
    assert (result["extracted"], result["correct"], result["reason"]) == ("8", False, "wrong")


def test_check_math_reports_no_answer_found():
    result = check_math("I am not sure how to solve this.", "7")
    assert (result["extracted"], result["correct"], result["reason"]) == (None, False, "no answer found")


# -----------------------------------------------------------------------------
# the sandbox

def test_stdin_reaches_the_program():
    run = run_sandboxed("print(input()[::-1])", stdin="hello\n", timeout_s=5)
    assert (run["status"], run["returncode"], run["stdout"]) == ("ok", 0, "olleh\n")


def test_a_crash_is_an_error_with_its_traceback():
    run = run_sandboxed("raise ValueError('boom')", timeout_s=5)
    assert (run["status"], run["returncode"]) == ("error", 1)
    assert "ValueError: boom" in run["stderr"] and '"<solution>", line 1' in run["stderr"]


def test_an_infinite_loop_times_out():
    run = run_sandboxed("while True: pass", timeout_s=1)
    assert run["status"] == "timeout"
    assert run["seconds"] < 3


def test_the_cpu_limit_stops_a_loop_before_the_wall_clock():
    run = run_sandboxed("while True: pass", timeout_s=10, cpu_s=1)
    assert (run["status"], run["returncode"]) == ("timeout", -signal.SIGXCPU)
    assert run["seconds"] < 5


def test_a_huge_allocation_hits_the_memory_limit():
    run = run_sandboxed("x = bytearray(4 * 1024**3)", timeout_s=5, memory_mb=256)
    assert run["status"] == "memory"


def test_a_growing_list_hits_the_memory_limit():
    run = run_sandboxed("x = []\nwhile True:\n    x.append(bytearray(10**6))", timeout_s=5, memory_mb=256)
    assert run["status"] == "memory"


def test_the_program_leads_its_own_process_group_so_a_timeout_kills_all_of_it():
    run = run_sandboxed("import os\nprint(os.getpgid(0) == os.getpid() == os.getsid(0))", timeout_s=5)
    assert run["stdout"] == "True\n"


def test_a_file_larger_than_the_file_limit_cannot_be_written():
    code = f"with open('big.bin', 'wb') as f:\n    f.write(bytes({2 * verify.FILE_LIMIT_BYTES}))"
    run = run_sandboxed(code, timeout_s=5)
    assert run["status"] == "error" and "File too large" in run["stderr"]


def test_the_parent_environment_is_not_visible(monkeypatch):
    monkeypatch.setenv("VERIFY_TEST_API_KEY", "sk-secret-4815162342")
    run = run_sandboxed("import os\nprint(sorted(os.environ.items()))", timeout_s=5)
    assert run["status"] == "ok" and "PATH" in run["stdout"]
    assert "sk-secret-4815162342" not in run["stdout"] and "VERIFY_TEST_API_KEY" not in run["stdout"]


def test_the_program_starts_in_an_empty_folder_deleted_afterwards():
    run = run_sandboxed("import os\nprint(os.getcwd())\nprint(os.listdir('.'))", timeout_s=5)
    cwd, listing = run["stdout"].splitlines()
    assert listing == "[]"
    assert not os.path.exists(cwd)


def test_files_inside_its_own_folder_can_be_written_and_removed():
    code = ("import os, shutil, tempfile\n"
            "open('out.txt', 'w').write('kept')\nprint(open('out.txt').read())\n"
            "os.makedirs('a/b')\nos.rename('out.txt', 'a/b/moved.txt')\nshutil.rmtree('a')\n"
            "with tempfile.NamedTemporaryFile() as f:\n    f.write(b'x')\n"
            "print(os.listdir('.'))")
    run = run_sandboxed(code, timeout_s=5)
    assert (run["status"], run["stdout"]) == ("ok", "kept\n[]\n")


@pytest.mark.parametrize("operation", [
    "open(P, 'w').write('changed')", "open(P, 'a').write('changed')", "open(NEW, 'x')",
    "os.close(os.open(P, os.O_WRONLY | os.O_TRUNC))", "os.remove(P)", "os.unlink(P)", "os.rename(P, NEW)",
    "os.replace(P, NEW)", "os.mkdir(NEW)", "os.rmdir(D)", "shutil.rmtree(D)", "os.symlink(P, NEW)",
    "os.truncate(P, 0)", "os.chmod(P, 0)",
    "os.remove('precious.txt', dir_fd=os.open(os.path.dirname(P), os.O_RDONLY))",
])
def test_changing_files_outside_its_folder_is_blocked(tmp_path, operation):
    folder = tmp_path / "outside"
    folder.mkdir()
    target = folder / "precious.txt"
    target.write_text("original")
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    code = (f"import os, shutil\nP, NEW, D = {str(target)!r}, {str(folder / 'new')!r}, "
            f"{str(empty if 'rmdir' in operation else folder)!r}\n{operation}")
    run = run_sandboxed(code, timeout_s=5)
    assert run["status"] == "blocked", run["stderr"]
    assert target.read_text() == "original" and os.stat(target).st_mode & 0o777 != 0
    assert sorted(os.listdir(folder)) == ["precious.txt"] and empty.exists()


def test_a_symlink_out_of_its_folder_does_not_let_writes_through(tmp_path):
    code = f"import os\nos.symlink({str(tmp_path)!r}, 'door')\nopen('door/escaped.txt', 'w').write('x')"
    run = run_sandboxed(code, timeout_s=5)
    assert run["status"] == "blocked"
    assert not (tmp_path / "escaped.txt").exists()


@pytest.mark.parametrize("code", [
    "import os\nos.system('echo started')",
    "import subprocess\nsubprocess.run(['echo', 'started'])",
    "import os\nos.popen('echo started').read()",
    "import os\nif os.fork() == 0:\n    print('started')",
    "import os\nos.execv('/bin/echo', ['echo', 'started'])",
    "import os\nos.posix_spawn('/bin/echo', ['echo', 'started'], {})",
    "import pty\npty.fork()",
])
def test_starting_a_process_is_blocked(code):
    run = run_sandboxed(code, timeout_s=5)
    assert run["status"] == "blocked", run["stderr"]
    assert "started" not in run["stdout"]


def test_a_socket_connect_is_blocked():
    run = run_sandboxed("import socket\nsocket.socket().connect(('127.0.0.1', 9))", timeout_s=5)
    assert run["status"] == "blocked" and "socket.connect" in run["stderr"]


def test_a_socket_bind_is_blocked():
    run = run_sandboxed("import socket\nsocket.socket().bind(('127.0.0.1', 0))", timeout_s=5)
    assert run["status"] == "blocked" and "socket.bind" in run["stderr"]


def test_a_name_lookup_is_blocked():
    run = run_sandboxed("import socket\nsocket.getaddrinfo('example.com', 80)", timeout_s=5)
    assert run["status"] == "blocked" and "socket.getaddrinfo" in run["stderr"]


@pytest.mark.parametrize("module", ["ctypes", "_ctypes", "_posixsubprocess"])
def test_importing_native_code_or_the_unaudited_process_starter_is_blocked(module):
    run = run_sandboxed(f"import {module}\nprint('loaded')", timeout_s=5)
    assert run["status"] == "blocked" and f"sandbox: blocked import '{module}'" in run["stderr"]
    assert "loaded" not in run["stdout"]


@pytest.mark.parametrize("event, args", [
    ("subprocess.Popen", "'/bin/echo', ['echo'], None, None"), ("os.system", "b'echo'"),
    ("os.exec", "'/bin/echo', ['echo'], None"), ("os.posix_spawn", "'/bin/echo', ['echo'], {}"), ("os.fork", ""),
    ("os.forkpty", ""), ("socket.connect", "None, ('127.0.0.1', 9)"), ("socket.bind", "None, ('127.0.0.1', 0)"),
    ("socket.sendto", "None, ('127.0.0.1', 9)"), ("ctypes.dlopen", "'libc.so.6'"), ("os.kill", "1, 9"),
])
def test_each_blocked_audit_event_is_refused(event, args):
    """The hook itself, event by event (sys.audit raises the event as the real call would)."""
    run = run_sandboxed(f"import sys\nsys.audit({event!r}, {args})\nprint('allowed')", timeout_s=5)
    assert run["status"] == "blocked" and f"sandbox: blocked {event}" in run["stderr"]
    assert "allowed" not in run["stdout"]


def test_a_blocked_operation_counts_even_when_the_program_catches_it(tmp_path):
    code = f"try:\n    open({str(tmp_path / 'x.txt')!r}, 'w')\nexcept Exception:\n    pass\nprint('done')"
    run = run_sandboxed(code, timeout_s=5)
    assert (run["status"], run["returncode"], run["stdout"]) == ("blocked", 0, "done\n")


def test_reading_the_standard_library_still_works():
    run = run_sandboxed("import json, collections, fractions, decimal, heapq, itertools, re\nprint('ok')", timeout_s=5)
    assert (run["status"], run["stdout"]) == ("ok", "ok\n")


def test_a_huge_print_is_cut_to_the_output_limit():
    run = run_sandboxed("for i in range(300000):\n    print('x' * 100)", timeout_s=10)
    assert run["status"] == "ok"
    assert 0 < len(run["stdout"]) <= verify.OUTPUT_LIMIT_BYTES and run["stdout"].startswith("x" * 100 + "\n")


def test_an_endless_print_times_out_with_bounded_output():
    run = run_sandboxed("while True:\n    print('x' * 1000)", timeout_s=1)
    assert run["status"] == "timeout" and len(run["stdout"]) <= verify.OUTPUT_LIMIT_BYTES
    assert run["seconds"] < 4


# -----------------------------------------------------------------------------
# code against tests

ADD_TESTS = {"inputs": ["1 2\n", "10 20\n", "2 2\n"], "outputs": ["3\n", "30", ["4"]]}
ADD_PROGRAM = "a, b = map(int, input().split())\nprint(a + b)"


def test_extract_code_takes_the_last_python_block():
    text = "```python\nprint(1)\n```\nthen\n```\nplain\n```\nfinally\n```py\nprint(2)\n```\n```text\nout\n```"
    assert extract_code(text) == "print(2)\n"


def test_extract_code_falls_back_to_the_last_fenced_block():
    assert extract_code("```\nprint(1)\n```\n```js\nconsole.log(2)\n```") == "console.log(2)\n"


def test_extract_code_finds_nothing_without_a_fence():
    assert extract_code("print(1) is the code") is None


def test_a_correct_stdin_program_passes_every_test():
    result = check_code(ADD_PROGRAM, ADD_TESTS, timeout_s=5)
    assert result == {"passed": 3, "failed": 0, "total": 3, "status": "ok", "verdict": "pass",
                      "reason": "passed", "stderr_tail": ""}


def test_output_is_compared_without_trailing_whitespace():
    result = check_code("print('a  ')\nprint('b')\nprint()", {"inputs": [""], "outputs": [["a", "b"]]}, timeout_s=5)
    assert result["verdict"] == "pass"


def test_a_wrong_stdin_program_fails_with_wrong_output_and_counts():
    result = check_code("a, b = map(int, input().split())\nprint(a * b)", ADD_TESTS, timeout_s=5)
    assert (result["passed"], result["failed"], result["total"]) == (1, 2, 3)
    assert (result["status"], result["verdict"], result["reason"]) == ("ok", "fail", "wrong output")


def test_a_crashing_program_reports_error_with_a_stderr_tail():
    result = check_code(ADD_PROGRAM + "\nraise RuntimeError('late crash')", ADD_TESTS, timeout_s=5)
    assert (result["passed"], result["verdict"], result["reason"]) == (0, "fail", "error")
    assert result["stderr_tail"].splitlines()[-1] == "RuntimeError: late crash"


def test_a_stdin_program_that_loops_times_out_and_fails_the_rest_unrun():
    start = time.monotonic()
    result = check_code("while True: pass", ADD_TESTS, timeout_s=1)
    assert (result["passed"], result["failed"], result["reason"]) == (0, 3, "timeout")
    assert time.monotonic() - start < 2.5  # one timeout, not three


def test_no_code_found_fails():
    result = check_code(None, ADD_TESTS)
    assert (result["passed"], result["failed"], result["verdict"], result["reason"]) == (0, 3, "fail", "no code found")


def test_tests_without_matching_inputs_and_outputs_are_a_user_error():
    with pytest.raises(UserError):
        check_code(ADD_PROGRAM, {"inputs": ["1 2"], "outputs": []})


CALL_TESTS = {"inputs": [[1, 2], [[1, 2], 3], [5, 5]], "outputs": [[3], [[1, 2, 3]], 10]}
CALL_PROGRAM = ("def add(a, b):\n"
                "    print('noise')  # its own prints must not disturb the results\n"
                "    return tuple(a) + (b,) if isinstance(a, list) else a + b")


def test_a_call_based_solution_passes_with_wrapped_and_tuple_outputs():
    result = check_code(CALL_PROGRAM, CALL_TESTS, fn_name="add", timeout_s=5)
    assert (result["passed"], result["verdict"], result["reason"]) == (3, "pass", "passed")


def test_a_call_based_solution_takes_fn_name_from_apps_json_text():
    tests = json.dumps(dict(CALL_TESTS, fn_name="add"))
    assert check_code(CALL_PROGRAM, tests, timeout_s=5)["verdict"] == "pass"


def test_a_call_based_method_of_class_solution_is_called():
    code = "class Solution:\n    def add(self, a, b):\n        return a + b"
    assert check_code(code, {"inputs": [[1, 2]], "outputs": [3]}, fn_name="add", timeout_s=5)["verdict"] == "pass"


def test_a_wrong_call_based_solution_fails_with_counts():
    result = check_code("def add(a, b):\n    return 10", CALL_TESTS, fn_name="add", timeout_s=5)
    assert (result["passed"], result["failed"], result["reason"]) == (1, 2, "wrong output")


def test_printed_lines_cannot_pose_as_results():
    code = "print('3')\nprint('[1, 2, 3]')\nprint('10')\ndef add(a, b):\n    print(3)\n    return None"
    result = check_code(code, CALL_TESTS, fn_name="add", timeout_s=5)
    assert result["passed"] == 0


def test_a_call_based_crash_fails_that_case_and_the_rest():
    code = "def add(a, b):\n    if isinstance(a, list):\n        raise ValueError('bad case')\n    return a + b"
    result = check_code(code, CALL_TESTS, fn_name="add", timeout_s=5)
    assert (result["passed"], result["failed"], result["status"], result["reason"]) == (1, 2, "error", "error")
    assert "ValueError: bad case" in result["stderr_tail"]


def test_a_call_based_program_that_exits_before_its_results_is_an_error():
    result = check_code("import sys\nsys.exit(0)", CALL_TESTS, fn_name="add", timeout_s=5)
    assert (result["passed"], result["failed"], result["reason"]) == (0, 3, "error")


def test_a_call_based_case_that_loops_times_out_and_fails_the_rest():
    code = "def add(a, b):\n    while isinstance(a, list):\n        pass\n    return a + b"
    result = check_code(code, CALL_TESTS, fn_name="add", timeout_s=1)
    assert (result["passed"], result["failed"], result["reason"]) == (1, 2, "timeout")


def test_a_blocked_operation_fails_the_code():
    result = check_code("import os\nos.system('echo 3')\n" + ADD_PROGRAM, ADD_TESTS, timeout_s=5)
    assert (result["verdict"], result["reason"], result["status"]) == ("fail", "blocked", "blocked")


@pytest.mark.parametrize("text,stated", [("Step 1: 3 + 4 = 7.\nTherefore, the answer is 7.", True),
                                         ("So the result is $\\boxed{3}$", True), ("48 / 2 = 24\n#### 24", True),
                                         ("Answer: 12", True), ("Step 1: 3 + 4 = 7.\nStep 2: 7 x 2", False),
                                         ("", False)])
def test_a_solution_states_its_final_answer_or_was_cut_off(text, stated):
    assert verify.states_final_answer(text) is stated


def test_a_code_block_cut_off_before_its_closing_fence_is_not_a_program():
    assert extract_code("Plan.\n```python\nprint(1)\n```") == "print(1)\n"
    assert extract_code("Plan.\n```python\nfor i in range(") is None


def test_without_unix_resource_limits_code_is_refused_not_run_unlimited(monkeypatch):
    monkeypatch.setattr(verify, "resource", None)  # as on Windows
    with pytest.raises(UserError, match="checking code needs Linux or macOS.*WSL"):
        verify.run_in_sandbox("print(1)", "", 5, 256, 5)
    assert check_math("the answer is 4", "4")["correct"]  # math needs no sandbox


# -----------------------------------------------------------------------------
# many programs to one sandboxed process: the same verdicts as check_code

SQUARE_STDIN = {"inputs": ["3\n", "5\n"], "outputs": ["9\n", "25\n"]}
SQUARE_CALL = {"inputs": [[3], [5]], "outputs": [9, 25]}
BATCH_CASES = [
    ("n = int(input())\nprint(n * n)", SQUARE_STDIN, None),  # passes
    ("import sys\nprint(int(sys.stdin.read()) ** 2)", SQUARE_STDIN, None),  # passes, reading all of stdin
    ("def square(n):\n    return n * n", SQUARE_CALL, "square"),  # passes
    ("class Solution:\n    def square(self, n):\n        return n ** 2", SQUARE_CALL, "square"),  # passes
    ("n = int(input())\nprint(n + n)", SQUARE_STDIN, None),  # wrong output
    ("def square(n):\n    return n + 6", SQUARE_CALL, "square"),  # right once, then wrong
    ("def square(n):\n    raise ValueError('no')", SQUARE_CALL, "square"),  # a crash
    ("def square(n):\n    while True:\n        pass", SQUARE_CALL, "square"),  # a case that never ends
    ("import sys\nsys.exit(3)", SQUARE_STDIN, None),  # exits with an error
    (None, SQUARE_STDIN, None),  # no code
    ("def cube(n):\n    return n ** 3", SQUARE_CALL, "square"),  # the function is missing
]


def test_a_batch_gives_the_verdicts_check_code_gives_one_by_one():
    batch = verify.check_code_batch(BATCH_CASES, case_timeout_s=1.0)
    alone = [check_code(code, tests, fn_name, timeout_s=1.0) for code, tests, fn_name in BATCH_CASES]
    assert [v["verdict"] for v in batch] == ["pass"] * 4 + ["fail"] * 7
    assert [(v["verdict"], v["passed"], v["reason"]) for v in batch] == [(v["verdict"], v["passed"], v["reason"]) for v in alone]


def test_one_job_cannot_leave_its_names_to_the_next():
    defines = ("def square(n):\n    return n * n", SQUARE_CALL, "square")
    relies = ("result = square", SQUARE_CALL, "result")  # passes only where square was left behind
    assert [v["verdict"] for v in verify.check_code_batch([defines, relies])] == ["pass", "fail"]


def test_a_batch_larger_than_one_process_holds_is_split():
    verdicts = verify.check_code_batch([BATCH_CASES[0]] * (verify.BATCH_JOBS + 3))
    assert len(verdicts) == verify.BATCH_JOBS + 3 and all(v["verdict"] == "pass" for v in verdicts)
