"""
Generated programming problems with tests, so the code path trains and is measured with no server: small
Python functions at four levels (string and list functions; simple arithmetic; a loop or a condition;
loops with conditions), each asked as a function to write (call-based, fn_name) or as a program that reads
standard input and prints (stdin), each with a worked solution that is correct by construction: the same
function the expected outputs are computed with, written out as source.

A problem is the dict problems.load_problems makes of an APPS record: id, source, kind 'code', problem,
tests {"inputs", "outputs"}, fn_name (None for stdin), level, type, solutions.
"""
import random
import re

WORDS = ("apple banana cherry river stone cloud garden window pencil rabbit tiger mango lemon orange purple "
         "silver rocket planet forest candle button kitten pepper summer winter dragon puzzle castle island "
         "violet carrot butter ticket hammer").split()
LETTERS = "aeinorst"  # letters the words above use often, so a count is seldom always zero
CODE_LEVELS = (1, 2, 3, 4)
CODE_LEVEL_TYPES = {1: "strings and lists", 2: "arithmetic", 3: "a loop or a condition", 4: "loops with conditions"}
# the easy level more often, as for math (problems.LEVEL_WEIGHTS): every harder level builds on its syntax
CODE_LEVEL_WEIGHTS = {1: 3, 2: 2, 3: 1, 4: 1}
TESTS_PER_PROBLEM = 4

# how each kind of argument is described to a function, and read from standard input (described, code)
INPUT_KINDS = {
    "str": ("a word", "a word", "{} = input()"),
    "int": ("an integer", "an integer", "{} = int(input())"),
    "ints": ("a list of integers", "integers separated by spaces", "{} = list(map(int, input().split()))"),
    "words": ("a list of words", "words separated by spaces", "{} = input().split()"),
}
# Each problem names its function and arguments one of several ways, words its request one of two ways and
# shows one example: held-out problems need texts the training never saw, and the model learns to copy the
# names it is given rather than one spelling per task.
FUNCTION_NAMES = {
    "reverse_text": ("reverse_text", "reverse_word", "backwards"), "first_chars": ("first_chars", "prefix", "head"),
    "last_chars": ("last_chars", "suffix_of", "tail"), "shout": ("shout", "to_upper", "capitals"),
    "text_length": ("text_length", "word_length", "count_chars"), "count_letter": ("count_letter", "letter_count"),
    "add_suffix": ("add_suffix", "with_ending"), "repeat_text": ("repeat_text", "repeat_word", "echo"),
    "first_item": ("first_item", "head_of", "first"), "last_item": ("last_item", "last", "final_item"),
    "largest": ("largest", "biggest", "max_value"), "smallest": ("smallest", "lowest", "min_value"),
    "sort_numbers": ("sort_numbers", "in_order", "sorted_list"), "total": ("total", "list_sum", "add_all"),
    "count_words": ("count_words", "word_count", "how_many"), "join_words": ("join_words", "glue", "link_words"),
    "add_k": ("add_k", "plus", "increase"), "times_k": ("times_k", "multiply", "scale"),
    "minus_k": ("minus_k", "decrease", "take_away"), "square": ("square", "squared", "sq"),
    "add": ("add", "sum_two", "plus_both"), "difference": ("difference", "subtract", "minus"),
    "product": ("product", "multiply_two", "times"), "rectangle_area": ("rectangle_area", "area"),
    "rectangle_perimeter": ("rectangle_perimeter", "perimeter"),
    "minutes_to_seconds": ("minutes_to_seconds", "to_seconds"), "whole_part": ("whole_part", "divide_down"),
    "remainder": ("remainder", "mod"), "last_digit": ("last_digit", "ones_digit"),
    "distance": ("distance", "gap", "abs_difference"), "sum_to_n": ("sum_to_n", "triangle", "sum_up_to"),
    "factorial": ("factorial", "fact"), "count_vowels": ("count_vowels", "vowels"),
    "count_above": ("count_above", "how_many_above"), "sum_even": ("sum_even", "even_total"),
    "larger": ("larger", "bigger", "max_of_two"), "sign_word": ("sign_word", "describe_sign"),
    "check_at_least": ("check_at_least", "at_least"), "is_even": ("is_even", "even"),
    "count_value": ("count_value", "occurrences"), "keep_above": ("keep_above", "filter_above"),
    "digit_sum": ("digit_sum", "sum_of_digits"), "is_prime": ("is_prime", "prime"), "gcd": ("gcd", "greatest_divisor"),
    "running_total": ("running_total", "prefix_sums"), "longest_word": ("longest_word", "longest"),
    "words_with_letter": ("words_with_letter", "count_with"), "fizz": ("fizz", "fizz_or_number"),
    "fibonacci": ("fibonacci", "fib"),
}
PARAMETER_NAMES = {"s": ("s", "word", "text"), "nums": ("nums", "numbers", "values"), "n": ("n", "x", "number"), "minutes": ("minutes", "m")}
PAIR_NAMES = (("a", "b"), ("x", "y"), ("first", "second"), ("m", "n"))  # two integers a, b


def random_value(rng, kind):
    if kind == "str":
        return rng.choice(WORDS)
    if kind == "int":
        return rng.randint(0, 30)
    if kind == "ints":
        return [rng.randint(0, 20) for _ in range(rng.randint(1, 6))]
    return rng.sample(WORDS, rng.randint(1, 5))


def as_stdin_line(value):
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def as_printed(value):
    """What the stdin form's `print` shows for a result: a list as its items separated by spaces."""
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def renamed(text, names):
    """text with each whole word in names replaced by its new name, outside double-quoted strings."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b") if names else None
    parts = re.split(r'("[^"]*")', text)
    return "".join(p if i % 2 or not pattern else pattern.sub(lambda m: names[m.group()], p) for i, p in enumerate(parts))


def named(t, rng):
    """Task t with a function name and argument names chosen from FUNCTION_NAMES and PARAMETER_NAMES."""
    canonical = [name for name, _ in t["params"]]
    if canonical == ["a", "b"]:
        chosen = list(rng.choice(PAIR_NAMES))
    else:
        chosen = [rng.choice(PARAMETER_NAMES.get(name, (name,))) for name in canonical]
    names = {old: new for old, new in zip(canonical, chosen) if old != new}
    return dict(t, fn=rng.choice(FUNCTION_NAMES.get(t["fn"], (t["fn"],))), task=t["fn"],
                params=[(new, kind) for new, (_, kind) in zip(chosen, t["params"])],
                what=renamed(t["what"], names), explain=renamed(t["explain"], names),
                body=[renamed(line, names) for line in t["body"]])


def task(fn, params, what, explain, body, reference, make_args=None):
    """One generated problem's ingredients: fn(params) returns what; body is the function's lines (indented
    below the def); reference computes the same in this process, for the expected outputs; make_args, when
    given, makes each argument tuple instead of random_value."""
    return {"fn": fn, "params": params, "what": what, "explain": explain, "body": body, "reference": reference,
            "make_args": make_args}


# -----------------------------------------------------------------------------
# the tasks of each level: a function of rng that picks the constants and returns a task

def _level1(rng):
    """One string or list operation, no loop."""
    k, c = rng.randint(1, 4), rng.choice(LETTERS)
    sep = rng.choice(["-", "+", ", ", "_"])
    suffix = rng.choice(["ing", "ed", "s", "!"])
    tasks = [
        lambda: task("reverse_text", [("s", "str")], "s reversed", "A slice with step -1 reverses a string.",
                     ["return s[::-1]"], lambda s: s[::-1]),
        lambda: task("first_chars", [("s", "str")], f"the first {k} characters of s",
                     f"The slice s[:{k}] takes the first {k} characters.", [f"return s[:{k}]"], lambda s: s[:k]),
        lambda: task("last_chars", [("s", "str")], f"the last {k} characters of s",
                     f"The slice s[-{k}:] takes the last {k} characters.", [f"return s[-{k}:]"], lambda s: s[-k:]),
        lambda: task("shout", [("s", "str")], "s in capital letters", "The method upper makes capitals.",
                     ["return s.upper()"], lambda s: s.upper()),
        lambda: task("text_length", [("s", "str")], "the number of characters in s",
                     "len gives the number of characters.", ["return len(s)"], lambda s: len(s)),
        lambda: task("count_letter", [("s", "str")], f"how many times the letter {c} appears in s",
                     f"The method count counts the letter {c}.", [f'return s.count("{c}")'], lambda s: s.count(c)),
        lambda: task("add_suffix", [("s", "str")], f's followed by "{suffix}"',
                     f'The + operator joins s and "{suffix}".', [f'return s + "{suffix}"'], lambda s: s + suffix),
        lambda: task("repeat_text", [("s", "str")], f"s repeated {k + 1} times",
                     f"Multiplying a string by {k + 1} repeats it.", [f"return s * {k + 1}"], lambda s: s * (k + 1)),
        lambda: task("first_item", [("nums", "ints")], "the first number in nums",
                     "Index 0 is the first item.", ["return nums[0]"], lambda nums: nums[0]),
        lambda: task("last_item", [("nums", "ints")], "the last number in nums",
                     "Index -1 is the last item.", ["return nums[-1]"], lambda nums: nums[-1]),
        lambda: task("largest", [("nums", "ints")], "the largest number in nums",
                     "max gives the largest item.", ["return max(nums)"], lambda nums: max(nums)),
        lambda: task("smallest", [("nums", "ints")], "the smallest number in nums",
                     "min gives the smallest item.", ["return min(nums)"], lambda nums: min(nums)),
        lambda: task("sort_numbers", [("nums", "ints")], "nums sorted from smallest to largest",
                     "sorted returns the items in order.", ["return sorted(nums)"], lambda nums: sorted(nums)),
        lambda: task("total", [("nums", "ints")], "the sum of the numbers in nums",
                     "sum adds the items.", ["return sum(nums)"], lambda nums: sum(nums)),
        lambda: task("count_words", [("words", "words")], "the number of words in words",
                     "len gives the number of items.", ["return len(words)"], lambda words: len(words)),
        lambda: task("join_words", [("words", "words")], f'the words of words joined by "{sep}"',
                     f'The method join puts "{sep}" between the words.', [f'return "{sep}".join(words)'],
                     lambda words: sep.join(words)),
    ]
    return rng.choice(tasks)()


def _level2(rng):
    """One arithmetic expression of whole numbers."""
    k = rng.randint(2, 9)
    tasks = [
        lambda: task("add_k", [("n", "int")], f"n plus {k}", f"Add {k} to n.", [f"return n + {k}"], lambda n: n + k),
        lambda: task("times_k", [("n", "int")], f"n times {k}", f"Multiply n by {k}.", [f"return n * {k}"],
                     lambda n: n * k),
        lambda: task("minus_k", [("n", "int")], f"n minus {k}", f"Subtract {k} from n.", [f"return n - {k}"],
                     lambda n: n - k),
        lambda: task("square", [("n", "int")], "n squared", "Multiply n by itself.", ["return n * n"], lambda n: n * n),
        lambda: task("add", [("a", "int"), ("b", "int")], "the sum of a and b", "Add a and b.", ["return a + b"],
                     lambda a, b: a + b),
        lambda: task("difference", [("a", "int"), ("b", "int")], "a minus b", "Subtract b from a.",
                     ["return a - b"], lambda a, b: a - b),
        lambda: task("product", [("a", "int"), ("b", "int")], "the product of a and b", "Multiply a by b.",
                     ["return a * b"], lambda a, b: a * b),
        lambda: task("rectangle_area", [("width", "int"), ("height", "int")],
                     "the area of a rectangle of that width and height", "The area is width times height.",
                     ["return width * height"], lambda width, height: width * height),
        lambda: task("rectangle_perimeter", [("width", "int"), ("height", "int")],
                     "the perimeter of a rectangle of that width and height", "The perimeter is twice the sum of width and height.",
                     ["return 2 * (width + height)"], lambda width, height: 2 * (width + height)),
        lambda: task("minutes_to_seconds", [("minutes", "int")], "the number of seconds in that many minutes",
                     "A minute has 60 seconds.", ["return minutes * 60"], lambda minutes: minutes * 60),
        lambda: task("whole_part", [("n", "int")], f"n divided by {k}, rounded down",
                     f"Floor division // divides by {k} and drops the remainder.", [f"return n // {k}"],
                     lambda n: n // k),
        lambda: task("remainder", [("n", "int")], f"the remainder of n divided by {k}",
                     f"The % operator gives the remainder of the division by {k}.", [f"return n % {k}"], lambda n: n % k),
        lambda: task("last_digit", [("n", "int")], "the last digit of n", "The remainder of n divided by 10 is its last digit.",
                     ["return n % 10"], lambda n: n % 10, lambda r: (r.randint(0, 999),)),
        lambda: task("distance", [("a", "int"), ("b", "int")], "the distance between a and b",
                     "abs makes the difference positive.", ["return abs(a - b)"], lambda a, b: abs(a - b)),
    ]
    return rng.choice(tasks)()


def _level3(rng):
    """One loop or one condition."""
    k = rng.randint(2, 12)
    word = rng.choice(["yes", "big", "ok", "high"])
    tasks = [
        lambda: task("sum_to_n", [("n", "int")], "the sum of the whole numbers from 1 to n",
                     "Loop over 1 to n and add each number to a total.",
                     ["total = 0", "for i in range(1, n + 1):", "    total += i", "return total"],
                     lambda n: n * (n + 1) // 2),
        lambda: task("factorial", [("n", "int")], "n factorial, the product of the whole numbers from 1 to n",
                     "Start from 1 and multiply by each number from 1 to n.",
                     ["result = 1", "for i in range(1, n + 1):", "    result *= i", "return result"],
                     lambda n: [1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880, 3628800][n], lambda r: (r.randint(0, 10),)),
        lambda: task("count_vowels", [("s", "str")], "the number of vowels in s",
                     "Loop over the letters and count those in aeiou.",
                     ["count = 0", "for ch in s:", '    if ch in "aeiou":', "        count += 1", "return count"],
                     lambda s: sum(ch in "aeiou" for ch in s)),
        lambda: task("count_above", [("nums", "ints")], f"how many numbers in nums are greater than {k}",
                     f"Loop over nums and count the numbers greater than {k}.",
                     ["count = 0", "for x in nums:", f"    if x > {k}:", "        count += 1", "return count"],
                     lambda nums: sum(x > k for x in nums)),
        lambda: task("sum_even", [("nums", "ints")], "the sum of the even numbers in nums",
                     "Loop over nums and add the numbers whose remainder by 2 is 0.",
                     ["total = 0", "for x in nums:", "    if x % 2 == 0:", "        total += x", "return total"],
                     lambda nums: sum(x for x in nums if x % 2 == 0)),
        lambda: task("larger", [("a", "int"), ("b", "int")], "the larger of a and b",
                     "Compare a and b and return the larger.", ["if a > b:", "    return a", "return b"],
                     lambda a, b: max(a, b)),
        lambda: task("sign_word", [("n", "int")], 'the word "positive" if n is above 0, "negative" if below, else "zero"',
                     "Compare n with 0.", ["if n > 0:", '    return "positive"', "if n < 0:", '    return "negative"',
                                          'return "zero"'],
                     lambda n: "positive" if n > 0 else "negative" if n < 0 else "zero", lambda r: (r.randint(-20, 20),)),
        lambda: task("check_at_least", [("n", "int")], f'"{word}" if n is at least {k}, else "no"',
                     f"Compare n with {k}.", [f"if n >= {k}:", f'    return "{word}"', 'return "no"'],
                     lambda n: word if n >= k else "no"),
        lambda: task("is_even", [("n", "int")], "True if n is even, else False",
                     "n is even when its remainder by 2 is 0.", ["return n % 2 == 0"], lambda n: n % 2 == 0),
        lambda: task("count_value", [("nums", "ints")], f"how many times {k} appears in nums",
                     f"Loop over nums and count the items equal to {k}.",
                     ["count = 0", "for x in nums:", f"    if x == {k}:", "        count += 1", "return count"],
                     lambda nums: nums.count(k),
                     lambda r: ([r.choice([k, k, r.randint(0, 12)]) for _ in range(r.randint(1, 6))],)),
    ]
    return rng.choice(tasks)()


def _level4(rng):
    """Loops that build a result, with conditions inside or a loop that runs until a condition."""
    k = rng.randint(2, 9)
    c = rng.choice(LETTERS)
    tasks = [
        lambda: task("keep_above", [("nums", "ints")], f"the numbers in nums that are greater than {k}, in order",
                     f"Loop over nums and keep each number greater than {k} in a new list.",
                     ["kept = []", "for x in nums:", f"    if x > {k}:", "        kept.append(x)", "return kept"],
                     lambda nums: [x for x in nums if x > k]),
        lambda: task("digit_sum", [("n", "int")], "the sum of the digits of n",
                     "While n is above 0, add its last digit n % 10 and drop it with n // 10.",
                     ["total = 0", "while n > 0:", "    total += n % 10", "    n //= 10", "return total"],
                     lambda n: sum(map(int, str(n))), lambda r: (r.randint(0, 9999),)),
        lambda: task("is_prime", [("n", "int")], "True if n is a prime number, else False",
                     "A prime is at least 2 and has no divisor from 2 to n - 1.",
                     ["if n < 2:", "    return False", "for d in range(2, n):", "    if n % d == 0:",
                      "        return False", "return True"],
                     lambda n: n >= 2 and all(n % d for d in range(2, n)), lambda r: (r.randint(0, 60),)),
        lambda: task("gcd", [("a", "int"), ("b", "int")], "the greatest common divisor of a and b",
                     "Euclid's method: replace (a, b) by (b, a % b) until b is 0.",
                     ["while b > 0:", "    a, b = b, a % b", "return a"],
                     lambda a, b: _gcd(a, b), lambda r: (r.randint(1, 60), r.randint(1, 60))),
        lambda: task("running_total", [("nums", "ints")], "the running totals of nums",
                     "Loop over nums, add each to a total and keep every total in a list.",
                     ["totals = []", "total = 0", "for x in nums:", "    total += x", "    totals.append(total)",
                      "return totals"],
                     lambda nums: [sum(nums[:i + 1]) for i in range(len(nums))]),
        lambda: task("longest_word", [("words", "words")], "the longest word in words (the first if tied)",
                     "Loop over the words and keep one only when it is longer than the best so far.",
                     ["best = words[0]", "for w in words:", "    if len(w) > len(best):", "        best = w", "return best"],
                     lambda words: max(words, key=len)),
        lambda: task("words_with_letter", [("words", "words")], f"how many words in words contain the letter {c}",
                     f"Loop over the words and count those that contain {c}.",
                     ["count = 0", "for w in words:", f'    if "{c}" in w:', "        count += 1", "return count"],
                     lambda words: sum(c in w for w in words)),
        lambda: task("fizz", [("n", "int")], f'"Fizz" if n is divisible by {k}, else n written as text',
                     f"If the remainder by {k} is 0 return Fizz, else str(n).",
                     [f"if n % {k} == 0:", '    return "Fizz"', "return str(n)"],
                     lambda n: "Fizz" if n % k == 0 else str(n)),
        lambda: task("fibonacci", [("n", "int")], "the n-th Fibonacci number, where the 0th is 0 and the 1st is 1",
                     "Start from 0 and 1 and step n times to the next pair.",
                     ["a, b = 0, 1", "for _ in range(n):", "    a, b = b, a + b", "return a"],
                     lambda n: _fibonacci(n), lambda r: (r.randint(0, 25),)),
    ]
    return rng.choice(tasks)()


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def _fibonacci(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


CODE_LEVEL_GENERATORS = {1: _level1, 2: _level2, 3: _level3, 4: _level4}


# -----------------------------------------------------------------------------
# a task as a problem: its text in one of the two forms, its tests and its worked solution

def function_source(t):
    return "\n".join([f"def {t['fn']}({', '.join(name for name, _ in t['params'])}):"] +
                     ["    " + line for line in t["body"]])


def stdin_source(t):
    """The function, then the lines that read its arguments one per line and print its result."""
    names = [name for name, _ in t["params"]]
    result = f"{t['fn']}({', '.join(names)})"
    printed = f'print(" ".join(map(str, {result})))' if t["task"] in LIST_RESULTS else f"print({result})"
    return "\n".join([function_source(t), ""] + [INPUT_KINDS[kind][2].format(name) for name, kind in t["params"]]
                     + [printed])


# the tasks whose result is a list: the stdin form prints its items separated by spaces (as_printed)
LIST_RESULTS = {"sort_numbers", "keep_above", "running_total"}


def code_problem(t, rng, call_based, problem_id, level):
    """The problem dict of task t (named here), with an example and TESTS_PER_PROBLEM tests, all made by
    t's reference function."""
    t = named(t, rng)
    args = [t["make_args"](rng) if t["make_args"] else tuple(random_value(rng, kind) for _, kind in t["params"])
            for _ in range(TESTS_PER_PROBLEM + 1)]
    example, args = args[0], args[1:]
    expected = [t["reference"](*a) for a in args]
    names = ", ".join(name for name, _ in t["params"])
    if call_based:
        takes = " and ".join(f"{INPUT_KINDS[kind][0]} {name}" for name, kind in t["params"])
        text = rng.choice([f"Write a Python function {t['fn']}({names}) that takes {takes} and returns {t['what']}.",
                           f"Define {t['fn']}({names}): given {takes}, it returns {t['what']}."])
        text += f" For example, {t['fn']}({', '.join(map(repr, example))}) returns {t['reference'](*example)!r}."
        tests = {"inputs": [list(a) for a in args], "outputs": expected}
        steps, code = [t["explain"]], function_source(t)
    else:
        reads = " and ".join(f"{name} ({INPUT_KINDS[kind][1]})" for name, kind in t["params"])
        one_per_line = ", one per line," if len(t["params"]) > 1 else ""
        text = rng.choice([f"Write a Python program that reads {reads} from standard input{one_per_line} and "
                           f"prints {t['what']}.",
                           f"Write a program: read {reads} from standard input{one_per_line} and print {t['what']}."])
        printed = as_printed(t["reference"](*example))
        text += (f" For example, for the input {' and '.join(as_stdin_line(v) for v in example)} it prints "
                 f"{printed or 'an empty line'}.")
        tests = {"inputs": ["".join(as_stdin_line(v) + "\n" for v in a) for a in args],
                 "outputs": [as_printed(e) + "\n" for e in expected]}
        steps, code = [t["explain"], "Read each input from its own line and print the result."], stdin_source(t)
    solution = "".join(f"Step {i}: {s}\n" for i, s in enumerate(steps, 1)) + f"```python\n{code}\n```"
    return {"id": problem_id, "source": "generated", "kind": "code", "problem": text, "tests": tests,
            "fn_name": t["fn"] if call_based else None, "level": level, "type": CODE_LEVEL_TYPES[level],
            "solutions": [solution]}


def generate_code_problems(n, seed, levels=CODE_LEVELS):
    """n problems over levels in the shares of CODE_LEVEL_WEIGHTS, half call-based and half stdin, each with
    its worked solution; the same seed gives the same."""
    rng = random.Random(seed)
    cycle = [level for level in levels for _ in range(CODE_LEVEL_WEIGHTS[level])]
    problems = []
    for i in range(n):
        level = cycle[i % len(cycle)]
        t = CODE_LEVEL_GENERATORS[level](rng)
        problems.append(code_problem(t, rng, rng.random() < 0.5, f"gen-code-{seed}-{i}", level))
    return problems
