"""
Checks solutions to problems with known answers, so only verified reasoning becomes training data: a math
solution's stated final answer against the known one, and generated code against a problem's tests, run in
a sandboxed subprocess (own empty folder, scrubbed environment, process limits, an audit-hook guard).
"""
import json
import math
import os
import re
try:
    import resource  # Unix only: the sandbox's CPU, memory and file-size limits
except ImportError:  # Windows: math checks work; running code is refused (run_in_sandbox)
    resource = None
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from fractions import Fraction

from common import UserError

# -----------------------------------------------------------------------------
# math: which answer a solution states, and whether it equals the known one

NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?|(?<![\w.])-?\.\d+")
ANSWER_IS = re.compile(r"\banswer\s*(?:is|:)\s*:?", re.IGNORECASE)


def closing_brace(text, start):
    """The index just past the '}' that closes the '{' before text[start], or None if it never closes."""
    depth, i = 1, start
    while i < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return i if depth == 0 else None


def boxed_contents(text):
    """What every \\boxed{...} or \\fbox{...} in text holds, in order; braces may nest. A box whose
    braces never close (a solution cut off mid-answer) is skipped."""
    found = []
    for m in re.finditer(r"\\(?:boxed|fbox)(?:\s*\{|\s+([^\s{$]+))", text):
        if m.group(1):  # `\boxed 5`: LaTeX takes the next token
            found.append(m.group(1))
            continue
        end = closing_brace(text, m.end())
        if end:
            found.append(text[m.end():end - 1])
    return found


def extract_answer(text):
    """The final answer a solution states: its last \\boxed{}, else its last 'the answer is X' or
    'answer: X', else GSM8K's '#### X', else its last number; None when it states nothing."""
    text = text or ""
    boxed = [b.strip() for b in boxed_contents(text) if b.strip()]
    if boxed:
        return boxed[-1]
    # scan every 'answer is' from the last back: "Final Answer: The final answer is 5" means the second
    for m in reversed(list(ANSWER_IS.finditer(text))):
        rest = text[m.end():].split("\n", 1)[0]
        rest = re.split(r"[.!?;](?=\s|$)", rest, maxsplit=1)[0]  # to the sentence's end; 3.5 stays whole
        rest = rest.strip().strip("*`\"'").strip()  # markdown bold, quotes
        if rest:
            return rest
    hashes = [h.strip().rstrip(".").strip() for h in re.findall(r"####([^\n]*)", text)]
    hashes = [h for h in hashes if h]
    if hashes:
        return hashes[-1]
    numbers = NUMBER.findall(text)
    return numbers[-1] if numbers else None


def states_final_answer(text):
    """Whether text says which answer is final (\\boxed{}, 'the answer is', '#### N'), rather than merely
    ending on some number, as a solution cut off by a token limit does."""
    text = text or ""
    return bool(boxed_contents(text) or ANSWER_IS.search(text) or re.search(r"####\s*\S", text))


def normalize_answer(s):
    """A canonical string for an answer, so that equal answers written differently compare equal."""
    s = str(s).strip()
    boxed = boxed_contents(s)
    if boxed:  # gold answers are sometimes stored still boxed
        s = boxed[-1].strip()
    while s.startswith("{") and closing_brace(s, 1) == len(s):  # \boxed{{3}}
        s = s[1:-1].strip()
    s = s.replace("\\$", "").replace("$", "")  # math delimiters and currency signs
    s = re.sub(r"\\[()\[\]]", "", s)  # \( \) and \[ \] math delimiters
    s = re.sub(r"\\(?:left|right)(?![a-zA-Z])", "", s)
    s = re.sub(r"\\[!,;: ]", "", s)  # LaTeX spacing
    s = s.replace("\\%", "").replace("%", "")
    s = re.sub(r"\^\s*\{?\\circ\}?", "", s)  # degrees
    text_cmd = r"\\(?:text|textbf|mathrm|mbox)\s*\{([^{}]*)\}"
    if not re.fullmatch(text_cmd, s):  # a whole answer in \text{(B)} keeps its words
        s = re.sub(r"(?<=\S)\s*(?:" + text_cmd + r"(?:\^\{?\d\}?)?\s*)+$", "", s)  # trailing units
    s = re.sub(text_cmd, r"\1", s).strip()
    s = re.sub(r"^[a-zA-Z]\s*=\s*", "", s)  # "x = 5" answers the question "x"
    s = re.sub(r"^([-+]?[\d.,/]*\d)\s+[a-zA-Z][a-zA-Z/.\s]*$", r"\1", s)  # "12 apples", "7 km/h"
    s = re.sub(r"\\[dt]frac", r"\\frac", s)
    s = re.sub(r"\\frac\s*([^{\s\\])\s*([^{\s\\])", r"\\frac{\1}{\2}", s)  # \frac12
    s = re.sub(r"\\frac\s*([^{\s\\])\s*\{", r"\\frac{\1}{", s)  # \frac1{2}
    s = re.sub(r"\\frac\s*\{([^{}]*)\}\s*([^{\s\\])", r"\\frac{\1}{\2}", s)  # \frac{1}2
    s = re.sub(r"\\sqrt\s*([^{\s\\\[])", r"\\sqrt{\1}", s)  # \sqrt2
    s = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", s)  # 1,234 -> 1234, while "1,2" and "(1, 2)" stay lists
    s = re.sub(r"\s+", "", s)  # from here spaces carry no meaning: "(1, 2)" is "(1,2)"
    s = s.rstrip(".")  # a sentence's full stop
    if s.startswith("+"):
        s = s[1:]
    fraction = re.fullmatch(r"(-?)\\frac\{(-?\d+)\}\{(-?\d+)\}", s) or re.fullmatch(r"(-?)(\d+)/(\d+)", s)
    if fraction and int(fraction.group(3)) != 0:
        value = Fraction(int(fraction.group(2)), int(fraction.group(3)))
        s = str(-value if fraction.group(1) else value)  # "3/4", or "2" for 4/2
    decimal = re.fullmatch(r"(-?)(\d*)\.(\d+)", s)
    if decimal:  # "5.00" -> "5", "2.50" -> "2.5", ".5" -> "0.5"
        digits = decimal.group(3).rstrip("0")
        s = decimal.group(1) + (decimal.group(2) or "0") + ("." + digits if digits else "")
    if re.fullmatch(r"-?\d+", s):
        s = str(int(s))  # "-0" -> "0", "007" -> "7"
    return s


def to_number(s):
    """The value of a normalised answer that is a number, an a/b fraction or k\\sqrt{n}; else None."""
    try:
        if re.fullmatch(r"-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?", s):
            return float(s)
        fraction = re.fullmatch(r"(-?\d+)/(\d+)", s)
        if fraction and int(fraction.group(2)) != 0:
            return int(fraction.group(1)) / int(fraction.group(2))
        root = re.fullmatch(r"(-?)(\d+(?:\.\d+)?)?\\sqrt\{(\d+(?:\.\d+)?)\}", s)
        if root:
            sign = -1.0 if root.group(1) else 1.0
            return sign * float(root.group(2) or 1) * math.sqrt(float(root.group(3)))
    except OverflowError:  # an integer too large for a float has no useful tolerance
        return None
    return None


def answers_match(predicted, gold):
    """Equal after normalising, or both numbers equal to a relative 1e-6; no answer never matches."""
    if predicted is None or gold is None:
        return False
    p, g = normalize_answer(predicted), normalize_answer(gold)
    if p == g:
        return p != ""
    x, y = to_number(p), to_number(g)
    return x is not None and y is not None and math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9)


def check_math(solution_text, gold_answer):
    """The verdict on one math solution: the answer it states against the known one."""
    extracted = extract_answer(solution_text)
    correct = answers_match(extracted, gold_answer)
    reason = "no answer found" if extracted is None else "correct" if correct else "wrong"
    return {"extracted": extracted, "gold": str(gold_answer), "correct": correct, "reason": reason}


# -----------------------------------------------------------------------------
# code: the sandbox that runs untrusted generated code, and the tests it must pass

OUTPUT_LIMIT_BYTES = 64 * 1024  # of stdout (its start) and stderr (its end): a print loop stays small
RESULTS_LIMIT_BYTES = 8 * 1024 ** 2  # call-based results, one JSON line per test case
FILE_LIMIT_BYTES = 10 * 1024 ** 2  # the largest file the code may write in its folder
BLOCKED_MARK = "sandbox: blocked"
CASE_TIMEOUT_MARK = "sandbox: case timed out"
STATUS_RANK = {"ok": 0, "error": 1, "memory": 2, "timeout": 3, "blocked": 4}  # for "the worst status seen"

# The child runs this, not the solution directly. The guard goes in first, because an audit hook cannot be
# removed from Python code; only then is the solution compiled and run. The guard stops accidents and
# ordinary misuse; code set on escaping could still rewrite the os functions the path check relies on,
# so the process limits, the scrubbed environment and the throw-away folder are the walls that hold.
SANDBOX_RUNNER = r'''
import os, sys

def install_guard(box, mark):
    realpath, readlink, fsdecode, fspath, write = os.path.realpath, os.readlink, os.fsdecode, os.fspath, os.write
    box = realpath(box)
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    always_blocked = {
        # a new process would run outside this hook
        "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork", "os.forkpty",
        "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",  # no network, in or out
        "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",  # a name look-up reaches the network too
        "ctypes.dlopen",  # native code does anything, unaudited
        "os.kill", "os.killpg",  # no signals to other processes, the checker included
    }
    # ctypes is native code; _posixsubprocess.fork_exec starts processes without an audit event
    blocked_imports = {"ctypes", "_ctypes", "_posixsubprocess"}
    # events that change files (os.unlink raises "os.remove", os.replace "os.rename"): (path, dir_fd) positions
    path_events = {"os.remove": [(0, 1)], "os.rmdir": [(0, 1)], "os.mkdir": [(0, 2)], "shutil.rmtree": [(0, 1)],
                   "os.rename": [(0, 2), (1, 3)], "os.link": [(0, 2), (1, 3)], "os.symlink": [(1, 2)],
                   "os.truncate": [(0, None)], "os.chmod": [(0, 2)], "os.chown": [(0, 3)]}

    def inside_box(path, dir_fd=None):
        if isinstance(path, int):
            return True  # a descriptor, opened earlier under this same check
        path = fsdecode(fspath(path))
        if dir_fd not in (None, -1) and not path.startswith("/"):  # relative to an open folder (shutil.rmtree)
            path = readlink("/proc/self/fd/%d" % dir_fd) + "/" + path
        path = realpath(path)  # through symlinks and ".."
        return path == box or path.startswith(box + "/")

    def block(event, detail):
        message = "%s %s %r" % (mark, event, detail)
        try:
            write(2, (message + "\n").encode())  # on stderr even when the solution catches the error
        except OSError:
            pass
        raise PermissionError(message)

    def guard(event, args):
        if event in always_blocked:
            block(event, args[0] if args else "")
        elif event == "import" and args[0] in blocked_imports:
            block(event, args[0])
        elif event == "open":  # builtins.open and os.open; reading anywhere stays allowed (the stdlib)
            path, mode, flags = args
            writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool(flags & write_flags)
            if writes and not inside_box(path):
                block(event, path)
        elif event in path_events:
            for p, d in path_events[event]:
                if not inside_box(args[p], args[d] if d is not None and d < len(args) else None):
                    block(event, args[p])

    sys.addaudithook(guard)

install_guard(sys.argv[1], sys.argv[5])
CASE_TIMEOUT_MARK = sys.argv[6]
import io, json, signal
with open(sys.argv[2], encoding="utf-8") as f:
    solution = compile(f.read(), "<solution>", "exec")
fn_name, case_timeout_s = sys.argv[3], float(sys.argv[4])
sys.argv = ["<solution>"]

def run_calls():
    """Call fn_name on each case from stdin, one JSON line per result after a marker the solution cannot
    see, so its own prints can neither mix with nor fake the results."""
    def on_case_timeout(signum, frame):
        os.write(2, (CASE_TIMEOUT_MARK + "\n").encode())
        os._exit(124)
    payload = json.loads(sys.stdin.read())
    marker, real_stdout = payload["marker"], sys.stdout
    signal.signal(signal.SIGALRM, on_case_timeout)
    sys.stdout = io.StringIO()
    namespace = {"__name__": "solution"}  # not "__main__": a main block would wait for input
    signal.setitimer(signal.ITIMER_REAL, case_timeout_s)
    exec(solution, namespace)
    if fn_name in namespace:
        fn = namespace[fn_name]
    elif "Solution" in namespace:  # LeetCode style: a method of class Solution
        fn = getattr(namespace["Solution"](), fn_name)
    else:
        sys.exit("sandbox: the solution defines no function %r" % fn_name)
    for args in payload["cases"]:
        sys.stdout = io.StringIO()
        signal.setitimer(signal.ITIMER_REAL, case_timeout_s)
        result = fn(*args)
        signal.setitimer(signal.ITIMER_REAL, 0)
        real_stdout.write(marker + " " + json.dumps(result, default=repr) + "\n")
        real_stdout.flush()

if fn_name:
    run_calls()
else:
    exec(solution, {"__name__": "__main__"})
'''


def extract_code(text):
    """The last ```python (or ```py) block in text, else its last fenced block of any language, else None."""
    blocks = re.findall(r"^[ \t]*```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)^[ \t]*```", text or "", re.M | re.S)
    python = [body for lang, body in blocks if lang.lower() in ("python", "py", "python3")]
    chosen = python or [body for _, body in blocks]
    return chosen[-1] if chosen else None


def child_limits(memory_mb, cpu_s):
    """The rlimits for the child, never above this process's own hard limits (raising one would fail)."""
    wanted = [(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1)),  # SIGXCPU at the soft limit, SIGKILL a second later
              (resource.RLIMIT_AS, (memory_mb * 1024 ** 2,) * 2),  # a MemoryError, not the machine's OOM killer
              (resource.RLIMIT_FSIZE, (FILE_LIMIT_BYTES,) * 2),
              (resource.RLIMIT_CORE, (0, 0))]
    # No RLIMIT_NPROC: it counts every process and thread of the user (a training run's too) and the kernel
    # does not apply it to root, so it would break threads for a normal user and do nothing for root.
    # Forks and execs are blocked by the audit hook instead.
    limits = []
    for kind, (soft, hard) in wanted:
        ceiling = resource.getrlimit(kind)[1]
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        limits.append((kind, (soft, hard)))
    return limits


def read_capped(stream, out, limit_bytes, keep_end):
    """Read a pipe to its end, keeping at most limit_bytes of it (its start, or its end when keep_end),
    so a print loop fills neither the pipe (the child would block) nor this process's memory."""
    while chunk := stream.read1(65536):
        out.extend(chunk)
        if len(out) > limit_bytes:
            if keep_end:
                del out[:len(out) - limit_bytes]
            else:
                del out[limit_bytes:]
    stream.close()


def write_input(stream, data):
    """Feed the program its stdin from a thread, so a program that prints before reading cannot deadlock."""
    try:
        stream.write(data)
    except OSError:  # the program ended without reading all its input
        pass
    try:
        stream.close()
    except OSError:
        pass


def run_in_sandbox(code, stdin, timeout_s, memory_mb, cpu_s, fn_name="", case_timeout_s=0.0,
                   stdout_limit_bytes=OUTPUT_LIMIT_BYTES):
    """run_sandboxed, plus the call-based mode check_code uses (fn_name: call it on each case from stdin)."""
    if resource is None or os.name != "posix":
        raise UserError("checking code needs Linux or macOS: the sandbox limits a solution's CPU time and memory "
                        "with Unix resource limits, which this system lacks (on Windows, run it in WSL)")
    cpu_s = int(cpu_s or math.ceil(timeout_s) + 1)
    limits = child_limits(memory_mb, cpu_s)

    # preexec_fn runs in the child between fork and exec, where another thread's lock may be held: so only
    # plain system calls here, the limits computed above
    def limit_child():
        os.setsid()  # its own process group, so a timeout kills everything it started
        for kind, value in limits:
            resource.setrlimit(kind, value)

    with tempfile.TemporaryDirectory(prefix="verify-", ignore_cleanup_errors=True) as work:
        box = os.path.join(work, "box")  # the solution's own empty folder; the source sits beside it
        os.mkdir(box)
        code_path = os.path.join(work, "solution.py")
        with open(code_path, "w", encoding="utf-8") as f:
            f.write(code)
        # -s -S: no user or site packages, only the standard library. Not -I: its -E would also drop
        # PYTHONHASHSEED, and the environment below is ours alone; a fixed hash seed gives a solution
        # that prints a set the same verdict on every run.
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": box, "TMPDIR": box, "PYTHONHASHSEED": "0"}
        argv = [sys.executable, "-s", "-S", "-c", SANDBOX_RUNNER, box, code_path, fn_name or "",
                str(case_timeout_s), BLOCKED_MARK, CASE_TIMEOUT_MARK]
        start = time.monotonic()
        proc = subprocess.Popen(argv, cwd=box, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, preexec_fn=limit_child, close_fds=True)
        out, err = bytearray(), bytearray()
        threads = [threading.Thread(target=write_input, args=(proc.stdin, stdin.encode("utf-8"))),
                   threading.Thread(target=read_capped, args=(proc.stdout, out, stdout_limit_bytes, False)),
                   threading.Thread(target=read_capped, args=(proc.stderr, err, OUTPUT_LIMIT_BYTES, True))]
        for t in threads:
            t.daemon = True
            t.start()
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # not yet reaped, so the group id is still its own
            except ProcessLookupError:
                pass
            proc.wait()
        for t in threads:
            t.join(timeout=2.0)  # the pipes close with the process; a stray holder must not hang us
        seconds = time.monotonic() - start
    stderr = bytes(err).decode("utf-8", errors="replace")
    status = classify_run(proc.returncode, stderr, timed_out, seconds, cpu_s)
    return {"status": status, "returncode": proc.returncode, "stdout": bytes(out).decode("utf-8", errors="replace"),
            "stderr": stderr, "seconds": round(seconds, 3)}


def classify_run(returncode, stderr, timed_out, seconds, cpu_s):
    if timed_out:
        return "timeout"
    if BLOCKED_MARK in stderr:
        return "blocked"
    if returncode == 0:
        return "ok"
    if returncode == -signal.SIGXCPU or CASE_TIMEOUT_MARK in stderr:
        return "timeout"
    if "MemoryError" in stderr:  # RLIMIT_AS makes an allocation fail in Python
        return "memory"
    if returncode == -signal.SIGKILL:
        # the CPU limit's SIGKILL comes only after cpu_s seconds of CPU; earlier, it was the OOM killer
        return "timeout" if seconds >= cpu_s else "memory"
    return "error"


def run_sandboxed(code, stdin="", timeout_s=5.0, memory_mb=512, cpu_s=None):
    """Run untrusted Python code in a fresh subprocess, never in this one: an empty temporary folder as
    its cwd and HOME, a minimal environment, limits on CPU seconds (cpu_s, default ceil(timeout_s)+1),
    memory and file size, a wall-clock timeout that kills its whole process group, and the audit hook
    of SANDBOX_RUNNER. Returns status ('ok', 'timeout', 'memory', 'error' or 'blocked'), returncode,
    stdout and stderr (each at most OUTPUT_LIMIT_BYTES) and seconds."""
    return run_in_sandbox(code, stdin, timeout_s, memory_mb, cpu_s)


def read_tests(tests):
    """APPS-style tests (a dict, or its JSON text) as (inputs, outputs, fn_name)."""
    if isinstance(tests, str):
        tests = json.loads(tests)
    inputs, outputs = (tests.get("inputs"), tests.get("outputs")) if isinstance(tests, dict) else (None, None)
    if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(outputs) or not inputs:
        raise UserError("a code problem's tests must hold 'inputs' and 'outputs' lists of the same non-zero "
                        "length (APPS's input_output field); fix or drop that problem")
    return inputs, outputs, tests.get("fn_name")


def as_text(value):
    """APPS sometimes stores a test's input or output as a list of lines."""
    return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)


def normalize_output(text):
    """Output compared without trailing spaces on each line or blank lines around it."""
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def same_value(result, expected):
    """JSON-equal (a tuple equals a list); APPS sometimes wraps the expected value in a one-item list."""
    expected = json.loads(json.dumps(expected))
    return result == expected or [result] == expected


def check_code(code, tests, fn_name=None, timeout_s=5.0, memory_mb=512):
    """The verdict on one program against APPS-style tests: standard input to standard output, or, with
    fn_name, fn_name(*inputs[i]) == outputs[i]. Every run happens in the sandbox. After a run that hits a
    limit or the sandbox's wall the rest count as failed unrun: they would cost the same and the verdict
    is already 'fail'."""
    inputs, outputs, tests_fn_name = read_tests(tests)
    fn_name = fn_name or tests_fn_name
    total, passed, worst, failed_stderr = len(inputs), 0, "ok", None
    if not code or not code.strip():
        return {"passed": 0, "failed": total, "total": total, "status": "ok", "verdict": "fail",
                "reason": "no code found", "stderr_tail": ""}
    if fn_name:  # all cases in one run; a case that crashes or times out ends it, and fails the rest
        marker = secrets.token_hex(8)
        cases = [args if isinstance(args, list) else [args] for args in inputs]
        run = run_in_sandbox(code, json.dumps({"marker": marker, "cases": cases}), timeout_s * (total + 1),
                             memory_mb, None, fn_name, timeout_s, RESULTS_LIMIT_BYTES)
        results = []
        for line in run["stdout"].splitlines():
            if line.startswith(marker + " "):
                try:
                    results.append(json.loads(line[len(marker) + 1:]))
                except ValueError:  # cut off by the output limit
                    break
        passed = sum(same_value(r, e) for r, e in zip(results, outputs))
        worst = "error" if run["status"] == "ok" and len(results) < total else run["status"]
        failed_stderr = run["stderr"] if passed < total else None
    else:
        for given, expected in zip(inputs, outputs):
            run = run_sandboxed(code, as_text(given), timeout_s, memory_mb)
            if run["status"] == "ok" and normalize_output(run["stdout"]) == normalize_output(as_text(expected)):
                passed += 1
            elif failed_stderr is None:
                failed_stderr = run["stderr"]
            worst = max(worst, run["status"], key=STATUS_RANK.get)
            if run["status"] in ("timeout", "memory", "blocked"):
                break
    reason = "passed" if passed == total else worst if worst != "ok" else "wrong output"
    return {"passed": passed, "failed": total - passed, "total": total, "status": worst,
            "verdict": "pass" if passed == total else "fail", "reason": reason,
            "stderr_tail": "\n".join((failed_stderr or "").splitlines()[-10:])}


# Many programs in one sandboxed process, each in a fresh namespace with its own per-case alarm: for solutions
# expected to pass (a generator's own, a file's references), where a process per test would cost more than
# the checking (a generated code dataset is thousands of problems). Each job's results follow a marker the
# programs cannot see; an exception fails that job alone.
BATCH_RUNNER = r'''
import contextlib, io, json, signal, sys
payload = json.loads(sys.stdin.read())
marker, real_stdout, real_stdin = payload["marker"], sys.stdout, sys.stdin

class CaseTimeout(BaseException):  # not an Exception: a solution's own `except Exception` cannot swallow it
    pass

def on_alarm(signum, frame):
    raise CaseTimeout()

signal.signal(signal.SIGALRM, on_alarm)
for job in payload["jobs"]:
    results, error = [], None
    for given in job["inputs"]:
        captured = io.StringIO()
        try:
            signal.setitimer(signal.ITIMER_REAL, payload["case_timeout_s"])
            with contextlib.redirect_stdout(captured):
                if job["fn_name"]:
                    namespace = {"__name__": "solution"}
                    exec(job["code"], namespace)
                    fn = namespace[job["fn_name"]] if job["fn_name"] in namespace else getattr(
                        namespace["Solution"](), job["fn_name"])
                    result = fn(*given)
                else:
                    sys.stdin = io.StringIO(given)
                    try:
                        exec(job["code"], {"__name__": "__main__"})
                    except SystemExit as e:
                        if e.code not in (None, 0):
                            raise
                    result = captured.getvalue()
            signal.setitimer(signal.ITIMER_REAL, 0)
        except CaseTimeout:
            error = "timeout"
        except BaseException as e:  # the job's own failure, SystemExit included; the batch goes on
            signal.setitimer(signal.ITIMER_REAL, 0)
            error = "error: %s: %s" % (type(e).__name__, str(e)[:200])
        finally:
            sys.stdin = real_stdin
        if error:
            break
        results.append(result)
    real_stdout.write(marker + " " + json.dumps({"results": results, "error": error}, default=repr) + "\n")
    real_stdout.flush()
'''
BATCH_JOBS = 500  # programs per sandboxed process


def check_code_batch(jobs, case_timeout_s=5.0, memory_mb=1024):
    """check_code's verdicts for many jobs (code, tests, fn_name), BATCH_JOBS of them per sandboxed process
    instead of a process per test: the batch finds the jobs that pass; every other job (a wrong output, a
    crash, a case timeout, or all of a batch that hit a process limit or the sandbox's wall) is checked
    again alone with check_code, so a failure's verdict is check_code's own."""
    verdicts = []
    for start in range(0, len(jobs), BATCH_JOBS):
        chunk = jobs[start:start + BATCH_JOBS]
        marker = secrets.token_hex(8)
        payload = {"marker": marker, "case_timeout_s": case_timeout_s, "jobs": []}
        for code, tests, fn_name in chunk:
            inputs, _, tests_fn_name = read_tests(tests)
            fn_name = fn_name or tests_fn_name
            payload["jobs"].append({"code": code or "", "fn_name": fn_name or "",
                                    "inputs": [(a if isinstance(a, list) else [a]) if fn_name else as_text(a)
                                               for a in inputs]})
        run = run_in_sandbox(BATCH_RUNNER, json.dumps(payload), case_timeout_s * (len(chunk) + 4), memory_mb, None,
                             stdout_limit_bytes=RESULTS_LIMIT_BYTES)
        lines = [json.loads(line[len(marker) + 1:]) for line in run["stdout"].splitlines() if line.startswith(marker + " ")]
        if run["status"] != "ok" or len(lines) != len(chunk):
            verdicts += [check_code(code, tests, fn_name, case_timeout_s) for code, tests, fn_name in chunk]
            continue
        for (code, tests, fn_name), job, line in zip(chunk, payload["jobs"], lines):
            _, outputs, _ = read_tests(tests)
            passed = code and code.strip() and not line["error"] and len(line["results"]) == len(outputs) and all(
                same_value(r, e) if job["fn_name"] else normalize_output(r) == normalize_output(as_text(e))
                for r, e in zip(line["results"], outputs))
            verdicts.append({"passed": len(outputs), "failed": 0, "total": len(outputs), "status": "ok",
                             "verdict": "pass", "reason": "passed", "stderr_tail": ""} if passed else
                            check_code(code, tests, fn_name, case_timeout_s))
    return verdicts
