"""What the data step tells a user about their own sources: the licence of each code folder and repository,
quality signals per source (commit kinds, languages, Python that does not parse), the raw and cleaned file
of each source, named sets of splits, and splits that Hugging Face `datasets` reads back."""
import json
import os

import pytest

import corpora
import data
from common import UserError

from test_corpora import commit, git, python_file, write
from test_corpus_pipeline import chat, cfg_for, write_chat_file, write_code_folder

MIT = """MIT License

Copyright (c) 2024 Ann Example

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
documentation files (the "Software"), to deal in the Software without restriction, including without limitation
the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software.
"""
APACHE = """
                                 Apache License
                           Version 2.0, January 2004
                        http://www.apache.org/licenses/

   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION
"""
GPL3 = """                    GNU GENERAL PUBLIC LICENSE
                       Version 3, 29 June 2007

 Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>
 ... the GNU Lesser General Public License is a different licence ...
"""
GPL2 = """                    GNU GENERAL PUBLIC LICENSE
                       Version 2, June 1991
  (Some other Free Software Foundation software is covered by
the GNU Lesser General Public License instead.)
"""


def code_folder_with(tmp_path, name, files):
    folder = tmp_path / name
    write(folder / "main.py", python_file(12, f"total_{name}"))
    for path, text in files.items():
        write(folder / path, text)
    return str(folder)


# -----------------------------------------------------------------------------
# licences

@pytest.mark.parametrize("files, licence, permissive", [
    ({"LICENSE": MIT}, "MIT", True),
    ({"LICENSE.txt": APACHE}, "Apache-2.0", True),
    ({"COPYING": GPL3}, "GPL-3.0", False),
    ({"COPYING": GPL2}, "GPL-2.0", False),
    ({"pyproject.toml": '[project]\nname = "x"\nlicense = {text = "BSD-3-Clause"}\n'}, "BSD-3-Clause", True),
    ({"package.json": '{"name": "x", "license": "MIT OR Apache-2.0"}'}, "(MIT OR Apache-2.0)", True),
    ({"package.json": '{"name": "x", "license": "AGPL-3.0-only"}'}, "AGPL-3.0-only", False),
    ({"lib.py": "# SPDX-License-Identifier: Apache-2.0\n" + python_file(8, "f")}, "Apache-2.0", True),
])
def test_the_licence_of_a_code_folder_is_found_and_judged(tmp_path, files, licence, permissive):
    folder = code_folder_with(tmp_path, "app", files)
    report = corpora.code_documents(folder, ("py",), 2, 400, 0.0, 0)[1]["licence"]
    assert report["licence"] == licence and report["permissive"] is permissive
    assert (corpora.licence_warning("code:app", report) is None) is permissive


def test_no_licence_is_recorded_as_none_with_a_one_line_warning(tmp_path):
    report = corpora.licence_report(code_folder_with(tmp_path, "app", {}))
    assert report == {"licence": None, "found_in": [], "permissive": False, "spdx_headers": {}}
    warning = corpora.licence_warning("code:app", report)
    assert "no licence found" in warning and "\n" not in warning


def test_a_subfolder_of_a_repository_takes_the_repositorys_licence(tmp_path):
    repo = tmp_path / "repo"
    write(repo / "LICENSE", MIT)
    os.makedirs(repo / ".git")
    report = corpora.licence_report(code_folder_with(repo, "src", {}))
    assert report["licence"] == "MIT" and report["found_in"] == [os.path.join("..", "LICENSE")]


def test_a_folder_outside_a_repository_does_not_take_a_licence_from_above(tmp_path):
    write(tmp_path / "LICENSE", GPL3)  # someone else's folder above: not this code's licence
    assert corpora.licence_report(code_folder_with(tmp_path, "app", {}))["licence"] is None


def test_the_licences_reach_the_refine_report_data_info_and_the_log(tmp_path):
    mit = code_folder_with(tmp_path, "mit", {"LICENSE": MIT})
    gpl = code_folder_with(tmp_path, "gpl", {"COPYING": GPL3})
    lines = []
    info = data.prepare_data(cfg_for(f"code:{mit}, code:{gpl}", fim_rate=0.0), str(tmp_path / "out"), log=lines.append)
    assert info["licences"] == {f"code:{mit}": corpora.licence_report(mit),
                                f"code:{gpl}": corpora.licence_report(gpl)}
    assert info["refine"]["sources"][f"code:{gpl}"]["read"]["licence"]["licence"] == "GPL-3.0"
    warnings = [line for line in lines if line.startswith("WARNING") and "longer than the context" not in line]
    assert len(warnings) == 1 and "GPL-3.0" in warnings[0] and "not a permissive licence" in warnings[0]


def test_a_git_source_records_its_repositorys_licence(tmp_path):
    repo = str(tmp_path / "r")
    os.makedirs(repo)
    git(repo, "init", "-q", "-b", "main")
    commit(repo, {"LICENSE": APACHE, "a.py": "def a():\n    return 1\n"}, "Add the first module of the tool", 1)
    assert corpora.git_documents(repo, 20, 400)[1]["licence"]["licence"] == "Apache-2.0"


# -----------------------------------------------------------------------------
# quality signals per source

def test_git_reports_commit_kinds(tmp_path):
    repo = str(tmp_path / "r")
    os.makedirs(repo)
    git(repo, "init", "-q", "-b", "main")
    messages = ["Add a parser for config lines", "Fix the crash on empty input", "fix(parser): keep the '=' in values",
                "feat: read values from the environment", "Document the parser in the README", "Rename parse to read_line",
                "Make the loader a little kinder"]
    for day, message in enumerate(messages, 1):
        commit(repo, {"parser.py": f"def parse(line):\n    return line.split('=', {day})\n"}, message, day)
    assert corpora.git_documents(repo, 20, 400)[1]["commit_kinds"] == {
        "feature": 2, "fix": 2, "docs": 1, "refactor": 1, "other": 1}


def test_code_reports_languages_and_drops_python_that_does_not_parse(tmp_path):
    folder = code_folder_with(tmp_path, "app", {
        "old.py": "print 'hello from Python 2'\n" * 20,
        "web/app.js": "".join(f"function add{i}(a, b) {{\n  return a + b + {i};\n}}\n\n" for i in range(30)),
        "escapes.py": "PATTERN = '\\d+'  # an invalid escape warns, still parses\n" * 10})
    docs, report = corpora.code_documents(folder, ("py", "js"), 3, 300, 0.0, 0)
    assert report["python_files"] == {"checked": 3, "dropped": 1} and report["skipped"]["python_syntax"] == 1
    assert not any(d["path"] == "old.py" for d in docs)
    assert set(report["languages"]) == {"Python", "JavaScript"} and abs(sum(report["languages"].values()) - 1) < 1e-3


def test_chat_and_files_report_whether_their_python_blocks_parse(tmp_path):
    good, bad = "```python\ndef f(x):\n    return x + 1\n```", "```python\ndef f(x)\n    return x +\n```"
    talk = write_chat_file(tmp_path / "c.jsonl", [chat(f"Broken on purpose: {bad}", f"Here it is fixed:\n{good}"),
                                                   chat("And another?", f"Sure:\n{bad}")])
    assert corpora.read_source("chat", talk, {}, 0)[1]["python_blocks"] == {"checked": 2, "valid": 1}  # users' turns are not learned


# -----------------------------------------------------------------------------
# raw and cleaned files per source, named sets

def sources_run(tmp_path, **overrides):
    code = write_code_folder(str(tmp_path / "repo"))
    talk = write_chat_file(str(tmp_path / "chat.jsonl"), [chat(f"What ships on day {i}, Ann?", f"Order {i} ships "
                                                               f"on day {i % 7 + 1}; write to ann@example.com.")
                                                          for i in range(40)] + [chat("Hi", "Hello")] * 3)
    out = str(tmp_path / "data")
    cfg = cfg_for(f"code:{code}, chat:{talk}", fim_rate=0.5, **overrides)
    return cfg, out, data.prepare_data(cfg, out, log=lambda *a: None)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_each_source_keeps_its_raw_and_its_cleaned_file(tmp_path):
    _, out, _ = sources_run(tmp_path, max_tokens=60)
    raw, clean = (read_jsonl(os.path.join(out, "sources", f"2-chat.{k}.jsonl")) for k in ("raw", "clean"))
    assert len(raw) == 43 and [r["dropped"] for r in raw].count("exact_duplicate") == 2
    assert any(r["dropped"] == "over_max_tokens" for r in read_jsonl(os.path.join(out, "sources", "1-code.raw.jsonl")))
    assert [r for r in raw if not r["dropped"]] == [dict(r, dropped=None) for r in clean]
    assert "ann@example.com" not in json.dumps(raw)  # redaction comes before anything is written
    kept = {json.dumps(r["messages"]) for r in clean}
    splits = {json.dumps(r["messages"]) for r in read_jsonl(os.path.join(out, "train.jsonl")) + read_jsonl(os.path.join(out, "eval.jsonl")) if "messages" in r}
    assert kept == splits


def test_a_named_set_is_written_beside_another_without_overwriting_it(tmp_path):
    cfg, out, _ = sources_run(tmp_path)
    before = open(os.path.join(out, "train.jsonl")).read()
    data.prepare_data(dict(cfg, name="small", max_tokens=60), out, log=lambda *a: None)
    assert open(os.path.join(out, "train.jsonl")).read() == before
    assert os.path.exists(os.path.join(out, "train.small.jsonl")) and os.path.exists(os.path.join(out, "eval.small.jsonl"))
    assert os.path.exists(os.path.join(out, "sources", "2-chat.small.clean.jsonl"))
    with pytest.raises(UserError, match="name"):
        data.prepare_data(dict(cfg, name="small", max_tokens=70), out, log=lambda *a: None)


def test_a_name_that_is_not_a_file_name_piece_is_one_line(tmp_path):
    with pytest.raises(UserError, match="letters, digits"):
        sources_run(tmp_path, name="../x")


def test_the_splits_load_with_hugging_face_datasets(tmp_path):
    datasets = pytest.importorskip("datasets", reason="datasets (test-only) checks that other tools read the splits")
    _, out, _ = sources_run(tmp_path)
    chats = os.path.join(out, "sources", "2-chat.clean.jsonl")
    loaded = datasets.load_dataset("json", data_files={"train": os.path.join(out, "train.jsonl"),
                                                       "eval": os.path.join(out, "eval.jsonl")},
                                   cache_dir=str(tmp_path / "hf"))
    assert loaded["train"].num_rows == len(read_jsonl(os.path.join(out, "train.jsonl")))
    conversations = datasets.load_dataset("json", data_files=chats, split="train", cache_dir=str(tmp_path / "hf"))
    first = conversations[0]["messages"]
    assert [m["role"] for m in first] == ["user", "assistant"] and all(isinstance(m["content"], str) for m in first)
