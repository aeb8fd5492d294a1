"""The project's house rules, read from the source with ast: imports flow one way, with no loop."""
import ast
import os
import subprocess
import sys

import pytest

from conftest import ROOT

MODULES = sorted(f[:-3] for f in os.listdir(ROOT) if f.endswith('.py'))


def project_imports(name):
    """The project modules that name.py imports anywhere in its code (inside functions too)."""
    with open(os.path.join(ROOT, name + '.py'), encoding='utf-8') as f:
        tree = ast.parse(f.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split('.')[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split('.')[0])
    return found & set(MODULES) - {name}


def find_cycle(graph):
    """One import loop as a list of modules, or None."""
    state = {}  # absent: unvisited, 1: on the current path, 2: finished

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt, path + [nxt])
                if cycle:
                    return cycle
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [start])
            if cycle:
                return cycle
    return None


def test_the_cycle_finder_finds_a_planted_loop():
    assert find_cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': set()}) == ['a', 'b', 'c', 'a']
    assert find_cycle({'a': {'b'}, 'b': set(), 'c': {'a', 'b'}}) is None


def test_no_project_module_imports_another_in_a_loop():
    graph = {name: project_imports(name) for name in MODULES}
    cycle = find_cycle(graph)
    assert cycle is None, 'import loop: ' + ' -> '.join(cycle)


def test_the_bottom_floor_imports_nothing_of_ours():
    for name in ('common', 'model', 'hardware'):
        assert project_imports(name) == set(), name
    assert project_imports('optimizers') == {'hardware'}  # Muon orthogonalises in bf16 where the CPU has bf16 units


def test_no_data_source_imports_the_pipeline():
    for source in ('templates', 'templates_cooking', 'templates_poetry', 'templates_technical',
                   'templates_general', 'teacher', 'teacher_client', 'problems', 'problems_code', 'corpora', 'chats', 'privacy'):
        assert not project_imports(source) & {'data', 'train', 'sample'}, source
    assert project_imports('problems_code') == set()  # its solutions are checked by the caller, through verify.py


def test_the_tools_import_only_the_bottom_floor():
    assert project_imports('verify') == {'common'}
    assert project_imports('words') == set()
    assert project_imports('tokenizer') == {'common'}
    assert project_imports('refine') == {'tokenizer', 'words'}
    assert project_imports('token_files') == {'common', 'tokenizer'}
    # checkpoints are told the data settings by train.py, so they sit below the pipeline; a start model comes
    # through the tools beside them (a Hugging Face folder's reader, the tokenizer) and model.py's file reader
    assert project_imports('checkpoint') == {'common', 'huggingface', 'model', 'token_files', 'tokenizer'}


def test_the_export_and_the_server_sit_below_sample_py():
    # sample.py's --export_hf and --serve call them; they take a loaded model and never import sample.py back
    assert project_imports('huggingface') == {'common', 'model', 'tokenizer'}
    assert project_imports('serve') == {'common', 'chats', 'tokenizer'}
    assert project_imports('chats') == {'common', 'tokenizer'}  # corpora reads chats through it, never the other way
    assert project_imports('privacy') == {'corpora', 'tokenizer'}  # the pass runs over corpora's documents


def test_sample_py_reads_a_model_without_the_data_pipeline():
    pipeline = {'data', 'train', 'templates', 'teacher', 'teacher_client', 'refine'}
    assert not project_imports('sample') & pipeline
    assert not project_imports('evaluate') & (pipeline | {'sample'})  # train.py and sample.py both call it


def test_the_teacher_server_client_knows_nothing_of_what_is_asked():
    assert project_imports('teacher_client') == {'common'}


def test_the_quality_report_reads_only_the_checkers_beside_the_generators():
    assert project_imports('quality') == {'templates_cooking', 'templates_general', 'templates_poetry',
                                          'templates_technical'}


@pytest.mark.parametrize('script', ['train.py', 'data.py', 'sample.py', 'bench.py'])
def test_every_script_shows_its_help_without_unix_only_modules(script):
    # Windows has no resource or fcntl module: importing a script and asking for --help must not need them
    code = ("import runpy, sys; sys.modules['resource'] = None; sys.modules['fcntl'] = None; "
            f"sys.argv = [{script!r}, '--help']; runpy.run_path({script!r}, run_name='__main__')")
    r = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert 'usage' in r.stdout.lower() or 'Settings (--key=value' in r.stdout
