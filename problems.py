"""
Problems with known answers, for models that solve step by step: an offline generator of math word
problems with worked solutions (correct by construction), loaders for the problem files users bring
(MATH, GSM8K, APPS), and the plain-text format a solution is trained and asked in.

A problem is a dict: id, source, kind ('math' or 'code'), problem (the text), level, type, and
answer (math) or tests {"inputs", "outputs"} and fn_name (code), plus the file's own reference solutions.
"""
import json
import math
import os
import random
import re

from common import UserError
from verify import extract_answer
from words import BOY_NAMES, GIRL_NAMES

# -----------------------------------------------------------------------------
# the format: what the model reads, and what it learns to write

def problem_prompt(problem_text):
    """What the model is given; the training loss skips these tokens, so it learns only to solve."""
    return f"Problem: {problem_text.strip()}\nSolve this problem step by step.\n"


def worked_solution(steps, answer):
    return "".join(f"Step {i}: {s}\n" for i, s in enumerate(steps, 1)) + f"Therefore, the answer is {answer}."


# -----------------------------------------------------------------------------
# generated math word problems, five levels: one sum within 20, one larger operation, two steps,
# fractions and percentages, linear equations. Every number is chosen so the answer is exact. The steps
# are the calculations, one small operation each: a small model spends its capacity on the arithmetic,
# not on restating names.

# people from the names every generator shares, each with the pronoun it takes
NAMES = GIRL_NAMES + BOY_NAMES
HE_SHE = {**{n: "he" for n in BOY_NAMES}, **{n: "she" for n in GIRL_NAMES}}
ITEMS = ("apples marbles stickers books pencils cookies shells stamps cards coins balloons flowers eggs "
         "oranges beads candles buttons leaves cupcakes").split()
SHOP_ITEMS = [("notebook", "notebooks"), ("pen", "pens"), ("sandwich", "sandwiches"), ("ticket", "tickets"),
              ("muffin", "muffins"), ("toy car", "toy cars"), ("plant", "plants"), ("comic", "comics")]
CONTAINERS = [("box", "boxes"), ("bag", "bags"), ("basket", "baskets"), ("jar", "jars"), ("pack", "packs")]
MATH_LEVELS = (1, 2, 3, 4, 5)
LEVEL_TYPES = {1: "arithmetic", 2: "arithmetic", 3: "multi-step", 4: "fractions and percentages", 5: "linear equations"}


def _level1(rng):
    """One addition or subtraction within 20 (the first-grade standard)."""
    name, friend = rng.sample(NAMES, 2)
    item = rng.choice(ITEMS)
    total = rng.randint(2, 20)
    b = rng.randint(1, total - 1)
    a = total - b
    kind = rng.randrange(5)
    if kind == 0:
        return (f"{name} has {a} {item}. {HE_SHE[name].capitalize()} gets {b} more. How many {item} does {name} have now?",
                [f"{a} + {b} = {total}."], total)
    if kind == 1:
        return (f"There are {a} {item} in a box and {b} {item} in a bag. How many {item} are there in all?",
                [f"{a} + {b} = {total}."], total)
    if kind == 2:
        return f"What is {a} + {b}?", [f"{a} + {b} = {total}."], total
    if kind == 3:
        return (f"{name} had {total} {item} and gave {b} to {friend}. How many {item} does {name} have left?",
                [f"{total} - {b} = {a}."], a)
    return f"What is {total} - {b}?", [f"{total} - {b} = {a}."], a


def _level2(rng):
    """One operation with larger numbers: a sum or difference within 100, a product or a quotient."""
    name = rng.choice(NAMES)
    item = rng.choice(ITEMS)
    box, boxes = rng.choice(CONTAINERS)
    kind = rng.randrange(4)
    if kind == 0:
        a, b = rng.randint(11, 60), rng.randint(11, 39)
        return (f"{name} collected {a} {item} on Monday and {b} {item} on Tuesday. How many {item} did "
                f"{HE_SHE[name]} collect in total?", [f"{a} + {b} = {a + b}."], a + b)
    if kind == 1:
        a, b = rng.randint(30, 99), rng.randint(11, 29)
        return (f"A shop had {a} {item}. It sold {b} of them. How many {item} are left?",
                [f"{a} - {b} = {a - b}."], a - b)
    n, k = rng.randint(2, 9), rng.randint(2, 10)
    if kind == 2:
        return (f"{name} has {n} {boxes}. Each {box} holds {k} {item}. How many {item} are there altogether?",
                [f"{n} x {k} = {n * k}."], n * k)
    return (f"{name} shares {n * k} {item} equally among {n} friends. How many {item} does each friend get?",
            [f"{n * k} / {n} = {k}."], k)


def _level3(rng):
    """Two steps: buying with change, or gaining and losing."""
    name, friend = rng.sample(NAMES, 2)
    if rng.random() < 0.5:
        one, many = rng.choice(SHOP_ITEMS)
        n, price = rng.randint(2, 6), rng.randint(2, 9)
        bill = rng.choice([b for b in (20, 50, 100) if b >= n * price])
        cost = n * price
        return (f"{name} buys {n} {many} for ${price} each and pays with a ${bill} bill. How much change does "
                f"{HE_SHE[name]} get?", [f"The cost is {n} x {price} = {cost}.",
                                         f"The change is {bill} - {cost} = {bill - cost}."], bill - cost)
    item = rng.choice(ITEMS)
    a, b, c = rng.randint(10, 40), rng.randint(5, 30), rng.randint(1, 9)
    return (f"{name} has {a} {item}. {friend} gives {'her' if HE_SHE[name] == 'she' else 'him'} {b} more, and then "
            f"{name} loses {c}. How many {item} does {name} have now?",
            [f"{a} + {b} = {a + b}.", f"{a + b} - {c} = {a + b - c}."], a + b - c)


# a percentage as steps a small model can take: through 10% or a quarter, then a small product
PERCENT_STEPS = {10: (10, 1), 20: (10, 2), 30: (10, 3), 25: (4, 1), 50: (2, 1), 75: (4, 3)}


def _percent_of(n, p):
    """(steps, value) for p% of n, where n is a multiple of 20."""
    part, times = PERCENT_STEPS[p]
    share = n // part
    name = {10: "10%", 4: "25%", 2: "50%"}[part]
    if times == 1:
        return [f"{name} of {n} is {n} / {part} = {share}."], share
    return [f"{name} of {n} is {n} / {part} = {share}.", f"{p}% is {times} x {share} = {times * share}."], times * share


def _level4(rng):
    """Fractions and percentages whose results are whole numbers or simple fractions."""
    kind = rng.randrange(4)
    if kind == 0:
        p, n = rng.choice(list(PERCENT_STEPS)), rng.choice([20, 40, 60, 80, 100, 120, 200])
        steps, value = _percent_of(n, p)
        return f"What is {p}% of {n}?", steps, value
    if kind == 1:
        price, p = rng.choice([20, 40, 60, 80, 100]), rng.choice([10, 20, 25, 50])
        steps, off = _percent_of(price, p)
        return (f"A jacket costs ${price}. It is on sale for {p}% off. What is the sale price in dollars?",
                steps + [f"The sale price is {price} - {off} = {price - off}."], price - off)
    name = rng.choice(NAMES)
    if kind == 2:
        den = rng.choice([2, 3, 4, 5, 6, 8])
        num = rng.randint(1, den - 1)
        slices = den * rng.randint(1, 3)
        each = slices // den
        return (f"A pizza is cut into {slices} equal slices. {name} eats {num}/{den} of the pizza. How many slices "
                f"does {HE_SHE[name]} eat?", [f"1/{den} of {slices} is {slices} / {den} = {each}.",
                                              f"{num}/{den} is {num} x {each} = {num * each}."], num * each)
    den = rng.choice([4, 5, 6, 8, 10])
    a = rng.randint(1, den - 2)
    b = rng.randint(1, den - 1 - a)
    total = a + b
    g = math.gcd(total, den)
    answer = f"{total // g}/{den // g}" if den // g != 1 else str(total // g)
    steps = [f"Add the numerators: {a} + {b} = {total}, so the sum is {total}/{den}."]
    if g > 1:
        steps.append(f"Divide both by {g}: {total}/{den} = {answer}.")
    return f"What is {a}/{den} + {b}/{den}?", steps, answer


def _level5(rng):
    """A linear equation ax + b = c with a whole-number solution, or the same as a word problem."""
    a, x, b = rng.randint(2, 9), rng.randint(1, 12), rng.randint(1, 20)
    if rng.random() < 0.6:
        if rng.random() < 0.5:
            c = a * x + b
            return (f"Solve for x: {a}x + {b} = {c}.", [f"Subtract {b} from both sides: {a}x = {c} - {b} = {a * x}.",
                                                       f"Divide both sides by {a}: x = {a * x} / {a} = {x}."], x)
        c = a * x - b
        return (f"Solve for x: {a}x - {b} = {c}.", [f"Add {b} to both sides: {a}x = {c} + {b} = {a * x}.",
                                                   f"Divide both sides by {a}: x = {a * x} / {a} = {x}."], x)
    name = rng.choice(NAMES)
    one, many = rng.choice(SHOP_ITEMS)
    total = a * x + b
    return (f"{name} buys {a} {many} that cost the same and a bag for ${b}. {HE_SHE[name].capitalize()} pays ${total} "
            f"in all. How many dollars does one {one} cost?",
            [f"Without the bag: {total} - {b} = {a * x}.", f"One {one}: {a * x} / {a} = {x}."], x)


LEVEL_GENERATORS = {1: _level1, 2: _level2, 3: _level3, 4: _level4, 5: _level5}
# How often each level is drawn: the small sums and products every harder level builds on, more often.
# Level 1 has only 380 distinct sums; at 3:2:1:1:1 (with repeats kept, refine.py) a 12M model reached 76%
# on held-out level-1 problems where even shares gave 57% (same optimizer and steps; README).
LEVEL_WEIGHTS = {1: 3, 2: 2, 3: 1, 4: 1, 5: 1}


def generate_math_problems(n, seed, levels=MATH_LEVELS):
    """n problems over levels in the shares of LEVEL_WEIGHTS, each with its worked solution; the same seed
    gives the same."""
    rng = random.Random(seed)
    cycle = [level for level in levels for _ in range(LEVEL_WEIGHTS[level])]
    problems = []
    for i in range(n):
        level = cycle[i % len(cycle)]
        text, steps, answer = LEVEL_GENERATORS[level](rng)
        problems.append({"id": f"gen-{seed}-{i}", "source": "generated", "kind": "math", "problem": text,
                         "answer": str(answer), "level": level, "type": LEVEL_TYPES[level],
                         "solutions": [worked_solution(steps, answer)]})
    return problems


# -----------------------------------------------------------------------------
# problem files users bring, told apart by their fields (not their names)

def read_records(path):
    """The records of a JSON list, a JSON object of records, or a JSONL file."""
    if not os.path.isfile(path):
        raise UserError(f"problems_file '{path}' not found")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        obj = json.loads(text)
        records = obj if isinstance(obj, list) else list(obj.values()) if isinstance(obj, dict) and all(
            isinstance(v, dict) for v in obj.values()) else [obj]
    except json.JSONDecodeError:
        records = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise UserError(f"{path}, line {n}: not JSON ({e.msg}); give a JSON list or one JSON record per line") from None
    return [r for r in records if isinstance(r, dict)]


def load_problems(path):
    """Problems from a MATH-style (problem, solution with \\boxed{}), GSM8K-style (question, answer ending
    '#### N'), AIME-style (problem, answer: no solution, so a teacher must write them) or APPS-style
    (question, input_output) file. Records without a usable answer are skipped."""
    problems = []
    for i, r in enumerate(read_records(path)):
        if "input_output" in r and "question" in r:
            p = _apps_problem(r, i, path)
            if p["tests"]["inputs"] and len(p["tests"]["inputs"]) == len(p["tests"]["outputs"]):
                problems.append(p)  # a problem without tests cannot check a solution
        elif "problem" in r and "solution" in r:
            answer = r.get("answer") or extract_answer(r["solution"])
            if answer is not None:
                level = re.search(r"\d+", str(r.get("level", "")))
                problems.append({"id": str(r.get("id", f"math-{i}")), "source": "math", "kind": "math",
                                 "problem": r["problem"], "answer": str(answer),
                                 "level": int(level.group()) if level else None, "type": r.get("type", ""),
                                 "solutions": [r["solution"]]})
        elif "question" in r and "answer" in r and "####" in str(r["answer"]):
            reasoning, _, answer = str(r["answer"]).rpartition("####")
            reasoning = re.sub(r"<<[^>]*>>", "", reasoning).strip()  # GSM8K's calculator annotations
            problems.append({"id": str(r.get("id", f"gsm8k-{i}")), "source": "gsm8k", "kind": "math",
                             "problem": r["question"], "answer": answer.strip().replace(",", ""), "level": None,
                             "type": "word problem", "solutions": [f"{reasoning}\nTherefore, the answer is {answer.strip()}."]})
        elif ("problem" in r or "question" in r) and str(r.get("answer") or "").strip():
            # AIME-style: a problem and its answer, no solution; only a teacher's solutions can be checked
            level = re.search(r"\d+", str(r.get("level", "")))
            problems.append({"id": str(r.get("id", f"aime-{i}")), "source": "aime", "kind": "math",
                             "problem": r.get("problem", r.get("question")), "answer": str(r["answer"]).strip(),
                             "level": int(level.group()) if level else None, "type": r.get("type", "competition"),
                             "solutions": []})
    if not problems:
        raise UserError(f"no usable problems in {path}; expected MATH records (problem, solution with \\boxed{{}}), "
                        f"GSM8K records (question, answer ending '#### N'), AIME records (problem, answer) or APPS records "
                        f"(question, input_output)")
    return problems


def _apps_problem(r, i, path):
    io = r["input_output"]
    try:
        io = json.loads(io) if isinstance(io, str) else io
        tests = {"inputs": list(io["inputs"]), "outputs": list(io["outputs"])}
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{path}: record {i} has an input_output that is not JSON with inputs and outputs") from None
    solutions = r.get("solutions") or []
    if isinstance(solutions, str):
        solutions = json.loads(solutions) if solutions.strip() else []
    return {"id": str(r.get("problem_id", r.get("id", f"apps-{i}"))), "source": "apps", "kind": "code",
            "problem": r["question"], "tests": tests, "fn_name": io.get("fn_name") or r.get("fn_name"),
            "level": r.get("difficulty"), "type": "code",
            "solutions": [f"```python\n{s.strip()}\n```" for s in solutions]}
