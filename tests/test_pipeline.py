"""prepare_data with the teacher path, against the fake teacher server on 127.0.0.1, and data.py's CLI."""
import json
import os
import subprocess
import sys

import pytest

import data
import refine
import settings
import teacher
import teacher_client
import token_files
import train
from common import UserError
from fake_teacher import closed_port, start_fake_teacher, stop_fake_teacher

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPT = "A fun GPT that generates cooking recipes"


@pytest.fixture
def server():
    s = start_fake_teacher()
    yield s
    stop_fake_teacher(s)


@pytest.fixture(autouse=True)
def keep_every_reply(monkeypatch):
    # The fake server's replies differ in one word, so refinement would keep one of them as the others'
    # near duplicate; these tests are about the pipeline, not de-duplication.
    monkeypatch.setattr(refine, "NEAR_DUP_JACCARD", 1.01)


def config(*flags):
    return settings.load_config([f"--prompt={PROMPT}", "--initial_tokens=400", "--final_tokens=300", "--block_size=16",
                              "--vocab_size=300", "--teacher_device=gpu", "--concurrency=2", *flags])


def run(cfg, out_dir):
    lines = []
    info = data.prepare_data(cfg, str(out_dir), log=lines.append)
    return info, lines


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_ollama_generation_end_to_end_records_source_and_teacher_stats(server, tmp_path):
    info, _ = run(config("--generation_method=ollama", f"--teacher_url={server.url}", "--judge_model="), tmp_path)
    rows = read_jsonl(tmp_path / "dataset.jsonl")
    assert rows and all(r["source"] == "ollama:llama3.1:8b" for r in rows)
    saved = json.load(open(tmp_path / "data_info.json"))
    assert saved["generation_method"] == "ollama"
    assert saved["teacher"]["gen_model"] == "llama3.1:8b" and saved["teacher"]["samples"] > 0
    assert saved["teacher"]["tokens"] >= 400 and saved["judge"] is None
    assert server.counts.get("/api/chat", 0) == saved["teacher"]["requests"]
    assert token_files.load_meta(str(tmp_path))["train_tokens"] == info["tokens"]["train"]


def test_server_down_with_template_fallback_warns_and_uses_templates(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    info, lines = run(config("--generation_method=ollama", f"--teacher_url={url}", "--fallback=template"), tmp_path)
    warnings = [line for line in lines if line.startswith("WARNING")]
    assert warnings and "no teacher server answers" in warnings[0] and "falling back to template" in warnings[0]
    assert info["generation_method"] == "template (fallback: ollama unreachable)"
    assert {r["source"] for r in read_jsonl(tmp_path / "dataset.jsonl")} == {"template"}
    assert info["judge"] is None  # no judge on template data, even with judge_model set


def test_server_down_without_fallback_raises_teacher_unreachable(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(teacher_client.TeacherUnreachable) as caught:
        run(config("--generation_method=ollama", f"--teacher_url={url}", "--fallback=none"), tmp_path)
    assert isinstance(caught.value, UserError)
    message = str(caught.value)
    assert "no teacher server answers at" in message and "127.0.0.1" in message
    assert "generation_method='template'" in message
    assert not (tmp_path / "train.bin").exists()


def test_judge_scores_are_combined_and_unparseable_replies_counted(server, tmp_path):
    server.state["judge_replies"] = ['{"score": 10, "reason": "Great."}', "I would rate this highly!"]
    info, _ = run(config("--generation_method=ollama", f"--teacher_url={server.url}", "--judge_model=qwen2.5:7b"), tmp_path)
    report = json.load(open(tmp_path / "refine_report.json"))
    judged = info["judge"]["judged"]
    assert judged == info["documents"]["generated"] and info["judge"]["unparseable"] == judged // 2
    assert report["judge"] == {"judged": judged - judged // 2, "unparseable": judged // 2}
    # A reply of 10 maps to 1.0, blended with the heuristic; an unparseable one leaves the heuristic alone.
    for row in read_jsonl(tmp_path / "dataset.jsonl"):
        heuristic = refine.score_sample(row["text"], PROMPT, "cooking")[0]
        blended = refine.JUDGE_WEIGHT * 1.0 + (1 - refine.JUDGE_WEIGHT) * heuristic
        assert row["score"] == pytest.approx(blended, abs=1e-4) or row["score"] == pytest.approx(heuristic, abs=1e-4)
    assert any(r["score"] > refine.score_sample(r["text"], PROMPT, "cooking")[0] for r in read_jsonl(tmp_path / "dataset.jsonl"))


def test_template_generation_never_contacts_a_server(server, tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("template generation made an HTTP request")

    monkeypatch.setattr(teacher, "call_teacher", no_network)
    cfg = config(f"--teacher_url={server.url}")
    assert cfg["generation_method"] == "template" and cfg["judge_model"] == "qwen2.5:7b"
    info, _ = run(cfg, tmp_path)
    assert info["generation_method"] == "template" and info["judge"] is None
    assert server.counts == {}


# -----------------------------------------------------------------------------
# the command line

def run_cli(*args):
    return subprocess.run([sys.executable, "data.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_cli_runs_the_data_steps_and_prints_the_stats(tmp_path):
    cfg_file = tmp_path / "tiny.py"
    cfg_file.write_text(f"prompt = 'Bedtime stories for kids'\ninitial_tokens = 3000\nfinal_tokens = 2000\n"
                        f"vocab_size = 300\nblock_size = 32\n")
    done = run_cli(str(cfg_file), f"--out_dir={tmp_path / 'run'}")
    assert done.returncode == 0, done.stderr
    for words in ("documents", "tokens", "distinct openings", "duplicate rate", "top keywords"):
        assert words in done.stdout
    assert (tmp_path / "run" / "data" / "train.bin").exists()


def test_cli_bad_key_is_a_one_line_error(tmp_path):
    done = run_cli("--promt=hello", f"--out_dir={tmp_path}")
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and "prompt" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_train_py_from_a_sentence_through_a_teacher_keeps_the_key_out_of_every_file(server, tmp_path, monkeypatch):
    from conftest import TINY_MODEL_FLAGS
    server.state["api_key"] = "sk-secret-0123456789"
    monkeypatch.setenv("TEACHER_KEY_FOR_TEST", "sk-secret-0123456789")
    out = tmp_path / "run"
    train.main([f"--prompt={PROMPT}", f"--out_dir={out}", "--generation_method=openai", f"--teacher_url={server.url}/v1",
                "--api_key_env=TEACHER_KEY_FOR_TEST", "--initial_tokens=2000", "--final_tokens=1500", "--vocab_size=300",
                "--teacher_device=gpu", "--max_iters=4", "--eval_interval=2"] + TINY_MODEL_FLAGS)
    info = json.load(open(out / "generation_info.json"))
    assert info["generation_method"] == "openai" and info["teacher"]["requests"] > 0
    assert {"raw_samples.jsonl", "ckpt.pt", "config.json", "model.safetensors", "loss.svg"} <= set(os.listdir(out))
    for name in os.listdir(out):
        assert b"sk-secret-0123456789" not in (out / name).read_bytes(), name
