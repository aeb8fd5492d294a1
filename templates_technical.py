"""
Offline technical documents (templates.py): how-to guides and reference notes, each a task with numbered
steps and their commands, its parameters drawn per document, and a troubleshooting note. Prompt words
pick the tools ("git", "Python", "Docker").
"""
import re

from words import BOY_NAMES, GIRL_NAMES, gerund


# Technical guides: a topic, a task with its steps (text, command), parameters drawn per document.
TECH_TASKS = [
    ("git", "create a feature branch and push it", ["Git installed", "a clone of the repository"],
     [("Update your local main branch", "git checkout main && git pull"), ("Create and switch to the new branch", "git checkout -b {branch}"),
      ("Commit your work", "git add {file} && git commit -m \"{message}\""), ("Push the branch and set its upstream", "git push -u origin {branch}")],
     "If the push is rejected, run `git pull --rebase origin {branch}` and push again."),
    ("git", "undo the last commit but keep the changes", ["Git installed", "a commit that was not pushed yet"],
     [("Check the history", "git log --oneline -n 5"), ("Move the branch back one commit", "git reset --soft HEAD~1"),
      ("Confirm the changes are staged", "git status")], "If the commit was already pushed, use `git revert HEAD` instead so others are not affected."),
    ("python", "set up a virtual environment", ["Python {pyver} or newer"],
     [("Create the environment in the project folder", "python -m venv .venv"), ("Activate it", "source .venv/bin/activate"),
      ("Install the dependencies", "pip install {package}"), ("Save the exact versions", "pip freeze > requirements.txt")],
     "If `python` is not found, try `python3`, or check that Python is on your PATH."),
    ("python", "read a CSV file and print a summary", ["Python {pyver}", "a CSV file named {csv}"],
     [("Open the file with the csv module", "rows = list(csv.DictReader(open(\"{csv}\")))"), ("Count the rows", "print(len(rows), \"rows\")"),
      ("Sum one column", "total = sum(float(r[\"{column}\"]) for r in rows)"), ("Print the average", "print(total / len(rows))")],
     "If you see a KeyError, print `rows[0].keys()` to check the exact column names."),
    ("python", "write a unit test with pytest", ["Python {pyver}", "pytest installed (pip install pytest)"],
     [("Create a test file", "touch tests/test_{module}.py"), ("Write a test function", "def test_{func}(): assert {func}({arg}) == {result}"),
      ("Run the tests", "pytest -q tests/test_{module}.py"), ("Run one test by name", "pytest -k {func}")],
     "If pytest cannot import your module, run it from the project root or add an empty conftest.py there."),
    ("linux", "find the largest files in a folder", ["a Linux or macOS shell"],
     [("List folder sizes", "du -sh {dir}/* | sort -h"), ("Find files bigger than {size}", "find {dir} -type f -size +{size}"),
      ("Check free disk space", "df -h")], "If you see 'Permission denied', repeat the command with sudo or limit it to your own folders."),
    ("linux", "schedule a nightly backup with cron", ["shell access to the server", "a backup script at {script}"],
     [("Make the script executable", "chmod +x {script}"), ("Open your crontab", "crontab -e"),
      ("Add a line that runs at {hour}:00 every night", "0 {hour} * * * {script} >> /var/log/backup.log 2>&1"), ("Check the entry", "crontab -l")],
     "If nothing runs, use absolute paths in the script; cron starts with a minimal PATH."),
    ("linux", "set up an SSH key for a server", ["an account on {host}"],
     [("Generate a key pair", "ssh-keygen -t ed25519 -C \"{user}@{host}\""), ("Copy the public key to the server", "ssh-copy-id {user}@{host}"),
      ("Log in without a password", "ssh {user}@{host}")], "If you are still asked for a password, check that ~/.ssh has mode 700 on the server."),
    ("docker", "run a web app in a container", ["Docker installed", "a Dockerfile in the project folder"],
     [("Build the image", "docker build -t {image} ."), ("Run it and publish port {port}", "docker run -d -p {port}:{port} --name {image} {image}"),
      ("Check that it is running", "docker ps"), ("Read the logs", "docker logs -f {image}")],
     "If the port is already in use, pick another one with -p {port2}:{port}."),
    ("docker", "clean up unused images and containers", ["Docker installed"],
     [("See how much space Docker uses", "docker system df"), ("Remove stopped containers", "docker container prune"),
      ("Remove unused images", "docker image prune -a")], "Prune commands ask for confirmation; add -f only in scripts you trust."),
    ("sql", "add an index to speed up a slow query", ["access to the {db} database"],
     [("Look at the query plan", "EXPLAIN SELECT * FROM {table} WHERE {column} = 42;"), ("Create the index", "CREATE INDEX idx_{table}_{column} ON {table} ({column});"),
      ("Check the plan again", "EXPLAIN SELECT * FROM {table} WHERE {column} = 42;")],
     "If the plan does not change, refresh the table statistics with ANALYZE {table};"),
    ("sql", "back up and restore a database", ["PostgreSQL client tools", "the {db} database"],
     [("Dump the database to a file", "pg_dump {db} > {db}_backup.sql"), ("Create an empty database", "createdb {db}_restore"),
      ("Restore the dump", "psql {db}_restore < {db}_backup.sql")], "If restoring fails on roles, add --no-owner to pg_dump."),
    ("javascript", "start a small Node.js project", ["Node.js {nodever} or newer", "npm"],
     [("Create the project", "mkdir {project} && cd {project} && npm init -y"), ("Install a package", "npm install {jspackage}"),
      ("Add a start script to package.json", "\"start\": \"node index.js\""), ("Run it", "npm start")],
     "If npm reports EACCES errors, do not use sudo; fix the npm folder permissions instead."),
    ("rust", "create and run a Rust command-line tool", ["Rust installed with rustup"],
     [("Create the project", "cargo new {project}"), ("Build and run it", "cargo run"), ("Add a dependency", "cargo add {crate}"),
      ("Build an optimized binary", "cargo build --release")], "If the build is slow, `cargo check` finds errors without producing a binary."),
]
TECH_PARAMS = {"branch": "feature/login fix/typo feature/search feature/export fix/timeout docs/readme feature/dark-mode fix/crash-on-start".split(),
               "file": "app.py main.rs index.js README.md config.yaml utils.py".split(),
               "message": ["Add login form", "Fix typo in docs", "Handle empty input", "Speed up search", "Add export button"],
               "pyver": "3.9 3.10 3.11 3.12".split(), "package": "requests numpy flask pandas rich click httpx".split(),
               "csv": "sales.csv data.csv scores.csv orders.csv weather.csv".split(), "column": "price amount score total temperature".split(),
               "module": "parser utils math_tools cart dates".split(), "func": "add slugify parse_date total_price clamp".split(),
               "arg": "2, 3|\"Hello World\"|\"2024-01-05\"|[1, 2]|15, 0, 10".split("|"), "result": "5|\"hello-world\"|date(2024, 1, 5)|3|10".split("|"),
               "dir": "~/Downloads /var/log ~/projects /home /tmp".split(), "size": "100M 500M 1G 50M".split(),
               "script": "/usr/local/bin/backup.sh ~/bin/backup.sh /opt/scripts/nightly.sh".split(), "hour": "1 2 3 4".split(),
               "user": "alice bob deploy admin maria".split(), "host": "example.com build-server staging.local 192.168.1.20".split(),
               "image": "myapp webapp api-server blog shop".split(), "port": "8000 8080 3000 5000".split(), "port2": "8081 9000 3001".split(),
               "db": "shop app inventory analytics".split(), "table": "orders users events products".split(),
               "nodever": "18 20 22".split(), "project": "todo-cli notes-app weather-bot hello-api word-count".split(),
               "jspackage": "express axios lodash dayjs chalk".split(), "crate": "clap serde anyhow regex rand".split(), "minutes": "5 10 15 20".split()}
TECH_PARAMS["project"] += "recipe-site inventory-tool chat-server photo-sorter budget-app blog-engine quiz-game ml-notes".split()
TECH_PARAMS["user"] += "chen fatima lucas olga priya tom".split()
TECH_CONTEXTS = ["You will need this when {user} sets up {project} on a new machine.",
                 "These steps were tested with {label} on {host}.", "Time needed: about {minutes} minutes.",
                 "This came up while working on {project}; the same steps work for any project.",
                 "Run the commands from the {project} folder unless a step says otherwise.",
                 "Written for {label} beginners; each step shows the exact command."]
STEP_OPENERS = ["", "", "First, ", "Next, ", "Then ", "Now ", "After that, ", "Once that is done, "]
# Remarks a writer adds after some steps; which steps get one, and which, differs per document, so guides
# for the same task share fewer phrases (they were 40% near duplicates with the steps alone).
STEP_REMARKS = ["This takes a few seconds.", "If it worked, there is no output.", "Read the output before moving on.",
                "Copy the command exactly; the spaces matter.", "You only need to do this once per machine.",
                "On Windows, run it in WSL or Git Bash.", "{author} forgot this step the first time.",
                "It is safe to run this again.", "Keep the terminal open for the next step.",
                "The output lists what changed.", "Expect a short pause on the first run.", "Skip this if you did it for {project}.",
                "Errors here usually mean a typo in the name.", "This is the step most people skip.", "Nothing else is needed here."]
TECH_INTROS = ["{author} asked how to {task}, so here are the steps.", "I keep forgetting how to {task}, so this is my cheat sheet.",
               "Our team had to {task} for {project} last week.", "A short answer to a common question: how to {task}.",
               "Below is the way I {task} on {host}.", "If you are new to {label}, this is a good first task.",
               "It took me a while to learn how to {task}; it should take you ten minutes."]
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _gerund_phrase(task):
    verb, _, rest = task.partition(" ")
    return gerund(verb).capitalize() + " " + rest


def _tech_title(rng, task, label, p):
    user = p["author"]
    date = f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    by_person = [f"{user}'s notes: {task}", f"{user}'s {label} notes: {task}", f"{user} on how to {task}",
                 f"{user} asks: how do I {task}?", f"Note {rng.randint(1, 99)} of {user}'s {label} series: {task}"]
    dated = [f"{date}: {task}", f"{date} {label} log: {task}", f"{MONTHS[rng.randrange(12)]} {rng.randint(1, 28)}: {task}"]
    plain = [f"How to {task}", f"{label}: {task}", f"{p['project']}: how to {task}", f"{_gerund_phrase(task)} ({label})",
             f"{_gerund_phrase(task)} on {p['host']}", f"{p['project']} runbook: {task}", f"{label} for {p['project']}: {task}"]
    # people and dates first in most titles: a task list this short would otherwise open every guide alike
    return rng.choice(rng.choices([by_person, dated, plain], weights=[5, 5, 2])[0])


def guide(rng, words):
    named = [t for t in TECH_TASKS if t[0] in words or (t[0] == "javascript" and "node" in words)]
    topic, task, prereqs, steps, trouble = rng.choice(named) if named and rng.random() < 0.9 else rng.choice(TECH_TASKS)
    p = {k: rng.choice(v) for k, v in TECH_PARAMS.items()}
    p["author"] = rng.choice(GIRL_NAMES + BOY_NAMES)  # who wrote the note; {user} is a login name in commands
    chosen = steps if len(steps) <= 3 or rng.random() < 0.6 else steps[:1] + rng.sample(steps[1:-1], len(steps) - 3) + steps[-1:]
    label = {"sql": "SQL", "javascript": "JavaScript", "linux": "Linux", "docker": "Docker", "git": "Git",
             "python": "Python", "rust": "Rust"}[topic]
    fill = dict(p, task=task, label=label)
    remark = lambda: " " + rng.choice(STEP_REMARKS).format(**fill) if rng.random() < 0.35 else ""
    title = _tech_title(rng, task, label, p)
    title = title[0].upper() + title[1:]
    shape = rng.random()
    if shape < 0.6:  # a guide with numbered steps
        lines = [title, ""]
        if rng.random() < 0.7:
            lines += [rng.choice(TECH_CONTEXTS + TECH_INTROS).format(**fill), ""]
        if rng.random() < 0.8:
            lines += ["Prerequisites:"] + [f"- {x.format(**p)}" for x in prereqs] + [""]
        lines += [rng.choice(["Steps:", "Steps:", "How:", "Do this:"])]
        for k, (text, cmd) in enumerate(chosen, 1):
            opener = rng.choice(STEP_OPENERS) if k > 1 else ""
            text = text.format(**p)
            lines.append(f"{k}. {opener}{(text[0].lower() if opener else text[0]) + text[1:]}:")
            lines.append(f"   {cmd.format(**p)}")
            note = remark()
            if note:
                lines.append("  " + note)
        lines += ["", rng.choice(["Troubleshooting: ", "If it fails: ", "Note: "]) + trouble.format(**p)]
    elif shape < 0.8:  # a journal-style entry in prose
        lines = [title, ""]
        prose = [rng.choice(TECH_INTROS).format(**fill)]
        for k, (text, cmd) in enumerate(chosen):
            lead = rng.choice(["First", "To begin"]) if k == 0 else rng.choice(["Then", "Next", "After that", "Finally" if k == len(chosen) - 1 else "Then"])
            text = text.format(**p)
            prose.append(f"{lead}, {text[0].lower() + text[1:]} with `{cmd.format(**p)}`.{remark()}")
        lines += [" ".join(prose), "", trouble.format(**p)]
    else:  # a short reference note
        text, cmd = rng.choice(steps)
        text = text.format(**p)
        lines = [title if rng.random() < 0.85 else rng.choice([f"{label} note: {text.lower()}", f"Note for {p['project']}: {text.lower()}",
                             f"{p['author']}'s {label} note: {text.lower()}"]), "", rng.choice([f"Use this when you need to {task}.",
                 f"This is one step of the usual way to {task}.", f"A command worth remembering if you often {task}."]),
                 "", "Example:", f"    {cmd.format(**p)}", "", rng.choice(TECH_CONTEXTS).format(**fill),
                 "Note: " + trouble.format(**p)]
    if label not in "\n".join(lines):
        lines += ["", rng.choice([f"Filed under: {label}.", f"Tags: {label}, {topic} how-to", f"Category: {label}"])]
    return "\n".join(lines)


# -----------------------------------------------------------------------------
# the rules every guide above obeys, as a check of any text (a trained model's samples)

def _first_word(command):
    return re.match(r"[A-Za-z_\"\-]*|", command.strip()).group(0) or command.strip()[:1]


# the words a topic's commands start with ("git", "pip", "cargo"), and the phrases that put a topic in a title
TOOL_WORDS = {}
TITLE_PHRASES = {}
for _topic, _task, _, _steps, _ in TECH_TASKS:
    TOOL_WORDS.setdefault(_topic, set()).update(_first_word(cmd) for _, cmd in _steps)
    # a step's text names the topic in a short note's title; up to its first parameter ("publish port {port}")
    for _phrase in [_task, _gerund_phrase(_task)] + [text.split("{")[0].strip() for text, _ in _steps]:
        TITLE_PHRASES.setdefault(_phrase.lower(), set()).add(_topic)
for _topic in TOOL_WORDS:
    TITLE_PHRASES.setdefault(_topic, set()).add(_topic)
TITLE_PHRASES["node"] = {"javascript"}
_TITLE_RE = re.compile(r"\b(" + "|".join(re.escape(p) for p in sorted(TITLE_PHRASES, key=len, reverse=True)) + r")\b")
GUIDE_RULES = ("title", "steps_with_commands", "tool_matches_title")


def guide_commands(text):
    """The commands a guide gives: the indented line after each numbered step, the indented lines after
    'Example:', and `quoted` commands in prose paragraphs (not in the closing troubleshooting note)."""
    lines = text.split("\n")
    commands = [lines[i + 1].strip() for i, line in enumerate(lines[:-1])
                if (re.match(r"\d+\. .*:$", line) or line == "Example:") and lines[i + 1].startswith("   ")]
    if not commands:
        paragraphs = text.split("\n\n")
        commands = [c for p in paragraphs[1:-1] for c in re.findall(r"`([^`\n]+)`", p)]
    return commands


def check_guide(text):
    """{rule: passed} for one guide: a title line then a blank line; commands, and where steps are numbered,
    numbered 1, 2, 3... each with its command; every command is of the tool the title names (the title's
    task, or its Git/Python/Docker... label)."""
    lines = text.strip("\n").split("\n")
    numbered = [line for line in lines if re.match(r"\d+\. ", line)]
    commands = guide_commands(text)
    title_topics = set().union(*[TITLE_PHRASES[m.group(1)] for m in _TITLE_RE.finditer(lines[0].lower())]) if lines else set()
    return {"title": len(lines) > 2 and 0 < len(lines[0]) <= 100 and lines[1] == "",
            "steps_with_commands": bool(commands) and all(line.startswith(f"{k}. ") for k, line in enumerate(numbered, 1))
                                   and len(numbered) in (0, len(commands)),
            "tool_matches_title": bool(commands) and any(all(_first_word(c) in TOOL_WORDS[topic] for c in commands)
                                                         for topic in title_topics)}
