"""teacher.py against a fake Ollama/OpenAI server on 127.0.0.1 (tests/fake_teacher.py); no other traffic."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import teacher
import teacher_client
from tokenizer import estimate_tokens
from tests.fake_teacher import (DEFAULT_BEHAVIOUR, closed_port, start_fake_teacher, stop_fake_teacher,
                                teacher_cfg)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPLY_TOKENS = estimate_tokens(DEFAULT_BEHAVIOUR["reply"].format(seed=1000000))
CHAT = "/api/chat"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(teacher_client, "MAX_RETRIES", 2)
    monkeypatch.setattr(teacher_client, "BACKOFF_BASE_S", 0.01)
    monkeypatch.setattr(teacher_client, "BACKOFF_MAX_S", 0.05)


@pytest.fixture
def server():
    server = start_fake_teacher()
    yield server
    stop_fake_teacher(server)


def generate(cfg, out_dir, n_samples=8, log=None):
    return teacher.generate_samples(cfg, cfg["prompt"], "cooking", n_samples * REPLY_TOKENS, str(out_dir),
                                    log or (lambda line: None))


def raw_records(out_dir):
    with open(os.path.join(out_dir, "raw_samples.jsonl")) as f:
        return [json.loads(line) for line in f]


def requested_indices(server, cfg, start=0):
    """Request indices of the chat requests the server saw, recovered from their sampling seeds."""
    index_of = {teacher.request_seed(cfg["seed"], i): i for i in range(10000)}
    return [index_of[s["body"]["options"]["seed"]] for s in server.seen[start:] if s["path"] == CHAT]


# -----------------------------------------------------------------------------
# generation and failures

def test_generates_until_target_tokens_and_records_every_sample(server, tmp_path):
    cfg = teacher_cfg(server.url)
    samples, stats = generate(cfg, tmp_path, n_samples=8)
    assert len(samples) >= 8 and stats["tokens"] >= 8 * REPLY_TOKENS
    assert samples[0]["source"] == "ollama:llama3.1:8b" and samples[0]["text"].startswith("Recipe number")
    records = raw_records(tmp_path)
    assert [r["text"] for r in sorted(records, key=lambda r: r["index"])] == [s["text"] for s in samples]
    assert records[0]["request"]["model"] == "llama3.1:8b" and "instruction" in records[0]["request"]
    assert stats["requests"] == server.counts[CHAT] == len(samples)
    assert stats["method"] == "ollama" and stats["failures"] == 0 and stats["tokens_per_s"] > 0


@pytest.mark.parametrize("failure", ["fail_500", "fail_429", "malformed", "body_error", "stream_error"])
def test_transient_server_errors_are_retried_then_succeed(server, tmp_path, failure):
    server.state[failure] = 2
    samples, stats = generate(teacher_cfg(server.url, concurrency=1), tmp_path, n_samples=4)
    assert len(samples) == 4 and all(s["text"].startswith("Recipe number") for s in samples)
    assert stats["retries"] == 2 and stats["failures"] == 0
    assert server.counts[CHAT] == stats["requests"] + 2


def test_timeouts_are_retried_then_the_run_stops_with_a_clear_error(server, tmp_path):
    server.state["latency_s"] = 1.0
    cfg = teacher_cfg(server.url, concurrency=1, generate_timeout_s=0.15)
    started = time.time()
    with pytest.raises(teacher_client.TeacherError, match="no reply within 0.15 s"):
        generate(cfg, tmp_path)
    assert time.time() - started < 10
    assert server.counts[CHAT] == teacher.MAX_FAILED_IN_A_ROW * (teacher_client.MAX_RETRIES + 1)


def test_connection_refused_raises_teacher_unreachable(tmp_path):
    cfg = teacher_cfg(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(teacher_client.TeacherUnreachable, match="no teacher server answers"):
        generate(cfg, tmp_path)


def test_missing_model_names_the_ollama_pull_command(server, tmp_path):
    server.state["models"] = ["mistral:7b"]
    with pytest.raises(teacher_client.TeacherError, match="ollama pull llama3.1:8b") as error:
        generate(teacher_cfg(server.url), tmp_path)
    assert not isinstance(error.value, teacher_client.TeacherUnreachable)
    assert CHAT not in server.counts  # never falls back to another model


def test_missing_model_on_openai_server_lists_the_models_it_has(server, tmp_path):
    server.state["models"] = ["mistral:7b", "phi3:mini"]
    with pytest.raises(teacher_client.TeacherError, match="mistral:7b, phi3:mini"):
        generate(teacher_cfg(server.url, generation_method="openai"), tmp_path)


def test_model_name_without_tag_matches_latest(server, tmp_path):
    server.state["models"] = ["llama3.1:latest"]
    samples, _ = generate(teacher_cfg(server.url, gen_model="llama3.1"), tmp_path, n_samples=2)
    assert len(samples) >= 2


def test_very_short_replies_end_the_run_promptly(server, tmp_path):
    server.state["reply"] = "short"
    cfg = teacher_cfg(server.url)
    started = time.time()
    with pytest.raises(teacher_client.TeacherError, match="shorter than"):
        generate(cfg, tmp_path, n_samples=1000)
    assert time.time() - started < 10
    assert server.counts[CHAT] <= teacher.MAX_SHORT_IN_A_ROW + cfg["concurrency"]


def test_attempts_are_bounded_even_when_no_streak_rule_applies(server, tmp_path, monkeypatch):
    monkeypatch.setattr(teacher, "MAX_SHORT_IN_A_ROW", 10 ** 9)
    server.state["reply"] = "short"
    cfg = teacher_cfg(server.url)
    with pytest.raises(teacher_client.TeacherError, match="limit of"):
        generate(cfg, tmp_path, n_samples=8)
    min_tokens = min(teacher.MIN_SAMPLE_TOKENS, cfg["num_predict"] // 2)
    assert server.counts[CHAT] <= 2 * -(-8 * REPLY_TOKENS // min_tokens) + cfg["concurrency"]


def test_requests_run_concurrently(server, tmp_path):
    server.state["latency_s"] = 0.2
    generate(teacher_cfg(server.url, concurrency=4), tmp_path, n_samples=8)
    assert server.max_in_flight >= 3


def test_progress_lines_show_tokens_per_second_and_eta(server, tmp_path, monkeypatch):
    monkeypatch.setattr(teacher, "LOG_EVERY_S", 0.0)
    lines = []
    generate(teacher_cfg(server.url), tmp_path, n_samples=6, log=lines.append)
    assert any("tokens/s" in line and "ETA" in line for line in lines)


# -----------------------------------------------------------------------------
# resuming

RUN_GENERATION = """
import json, sys
sys.path.insert(0, sys.argv[1])
import teacher
cfg = json.loads(sys.argv[2])
teacher.generate_samples(cfg, cfg["prompt"], "cooking", int(sys.argv[3]), sys.argv[4], lambda line: None)
"""


def test_resume_after_the_process_is_killed_never_rerequests_finished_work(server, tmp_path):
    server.state["latency_s"] = 0.1
    cfg = teacher_cfg(server.url, concurrency=4)
    target = 60 * REPLY_TOKENS
    path = tmp_path / "raw_samples.jsonl"
    process = subprocess.Popen([sys.executable, "-c", RUN_GENERATION, ROOT, json.dumps(cfg), str(target),
                                str(tmp_path)])
    try:
        deadline = time.time() + 60
        while not (path.exists() and path.read_text().count("\n") >= 8) and time.time() < deadline:
            assert process.poll() is None, "generation ended before it could be killed"
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    first_run_done = {r["index"] for r in raw_records(tmp_path)}
    assert 8 <= len(first_run_done) < 60
    seen_before_resume = len(server.seen)

    samples, stats = teacher.generate_samples(cfg, cfg["prompt"], "cooking", target, str(tmp_path), lambda line: None)
    second_run = requested_indices(server, cfg, start=seen_before_resume)
    assert not first_run_done & set(second_run)
    assert len(second_run) == len(set(second_run))
    assert stats["resumed_samples"] == len(first_run_done)
    indices = [r["index"] for r in raw_records(tmp_path)]
    assert len(indices) == len(set(indices)) == len(samples)
    assert stats["tokens"] == sum(r["tokens"] for r in raw_records(tmp_path)) >= target


def test_resume_drops_a_half_written_last_line(server, tmp_path):
    cfg = teacher_cfg(server.url, concurrency=1)
    generate(cfg, tmp_path, n_samples=3)
    with open(tmp_path / "raw_samples.jsonl", "a") as f:
        f.write('{"index": 3, "text": "Whisk the')
    seen = len(server.seen)
    samples, stats = generate(cfg, tmp_path, n_samples=5)
    assert stats["resumed_samples"] == 3 and len(samples) == 5
    assert [r["index"] for r in raw_records(tmp_path)] == [0, 1, 2, 3, 4]
    assert requested_indices(server, cfg, start=seen) == [3, 4]


def test_a_finished_run_is_not_requested_again(server, tmp_path):
    cfg = teacher_cfg(server.url)
    first, _ = generate(cfg, tmp_path, n_samples=4)
    requests_before = dict(server.counts)
    again, stats = generate(cfg, tmp_path, n_samples=4)
    assert again == first and server.counts == requests_before and stats["requests"] == 0


# -----------------------------------------------------------------------------
# API key, OpenAI API, judging

def test_api_key_is_sent_but_never_written_or_logged(server, tmp_path, monkeypatch):
    secret = "sk-test-very-secret-123"
    monkeypatch.setenv("TEXT2GPT1_TEST_KEY", secret)
    server.state["api_key"] = secret
    cfg = teacher_cfg(server.url, api_key_env="TEXT2GPT1_TEST_KEY")
    lines = []
    samples, stats = generate(cfg, tmp_path, n_samples=3, log=lines.append)
    judge_stats = teacher.judge_samples(cfg, samples, cfg["prompt"], "cooking", str(tmp_path), lines.append)
    assert all(s["headers"]["Authorization"] == "Bearer " + secret for s in server.seen)
    for folder, _, files in os.walk(tmp_path):
        for name in files:
            assert secret not in open(os.path.join(folder, name), errors="replace").read()
    assert secret not in json.dumps([stats, judge_stats, samples, lines])


def test_a_rejected_key_stops_with_the_server_message_but_not_the_key(server, tmp_path, monkeypatch):
    monkeypatch.setenv("TEXT2GPT1_TEST_KEY", "sk-wrong-key-456")
    server.state["api_key"] = "sk-right-key"
    cfg = teacher_cfg(server.url, generation_method="openai", api_key_env="TEXT2GPT1_TEST_KEY")
    with pytest.raises(teacher_client.TeacherError, match=r"HTTP 401\): invalid api key") as error:
        generate(cfg, tmp_path)
    assert "sk-wrong-key-456" not in str(error.value)
    assert server.counts["/v1/models"] == 1  # 401 is not retried


def test_openai_api_end_to_end(server, tmp_path):
    cfg = teacher_cfg(server.url, generation_method="openai")
    samples, stats = generate(cfg, tmp_path, n_samples=4)
    assert len(samples) >= 4 and samples[0]["source"] == "openai:llama3.1:8b"
    assert stats["method"] == "openai" and server.counts["/v1/models"] == 1
    body = next(s["body"] for s in server.seen if s["path"] == "/v1/chat/completions")
    assert body["max_tokens"] == 150 and body["temperature"] == 0.8 and body["top_p"] == 0.9
    judge_stats = teacher.judge_samples(cfg, samples, cfg["prompt"], "cooking", str(tmp_path), lambda line: None)
    judge_body = [s["body"] for s in server.seen if s["path"] == "/v1/chat/completions"][-1]
    assert judge_body["response_format"]["type"] == "json_schema" and judge_body["model"] == "qwen2.5:7b"
    assert judge_stats["judged"] == len(samples) and all(s["judge_score"] == 7 / 9 for s in samples)


def test_judge_scores_are_normalised_and_unparseable_replies_counted(server, tmp_path):
    server.state["judge_replies"] = ['{"score": 10, "reason": "great"}', "I would say it is quite good."]
    cfg = teacher_cfg(server.url)
    samples = [{"text": f"Recipe {i}. Mix and bake.", "source": "template"} for i in range(6)]
    stats = teacher.judge_samples(cfg, samples, cfg["prompt"], "cooking", str(tmp_path), lambda line: None)
    assert stats["judged"] == 6 and stats["unparseable"] == 3 and stats["failures"] == 0 and "elapsed_s" in stats
    assert sorted(s["judge_score"] for s in samples if s["judge_score"] is not None) == [1.0, 1.0, 1.0]
    body = next(s["body"] for s in server.seen if s["path"] == CHAT)
    assert body["format"]["required"] == ["score", "reason"] and body["model"] == "qwen2.5:7b"


def test_judge_scores_are_saved_as_they_arrive_and_never_asked_for_twice(server, tmp_path):
    cfg = teacher_cfg(server.url)
    samples = [{"text": f"Recipe {i}. Mix and bake.", "source": "template"} for i in range(6)]
    teacher.judge_samples(cfg, samples[:4], cfg["prompt"], "cooking", str(tmp_path), lambda line: None)
    with open(tmp_path / "judge_scores.jsonl", "a") as f:
        f.write('{"sample": "half a li')  # a kill mid-write
    asked = server.judge_count
    fresh = [dict(s) for s in samples]
    stats = teacher.judge_samples(cfg, fresh, cfg["prompt"], "cooking", str(tmp_path), lambda line: None)
    assert server.judge_count - asked == 2 and stats["resumed"] == 4 and stats["judged"] == 6
    assert all(s["judge_score"] == 7 / 9 for s in fresh)
    other_judge = dict(cfg, judge_model="llama3.1:8b")  # another judge's scores are not this one's
    teacher.judge_samples(other_judge, [dict(s) for s in samples], cfg["prompt"], "cooking", str(tmp_path),
                          lambda line: None)
    assert server.judge_count - asked == 2 + 6


def test_judge_score_parsing():
    assert teacher.parse_judge_score('{"score": 1, "reason": "off topic"}') == 0.0
    assert teacher.parse_judge_score('```json\n{"score": 7, "reason": "ok"}\n```') == 6 / 9
    assert teacher.parse_judge_score('{"score": 42}') is None
    assert teacher.parse_judge_score("seven out of ten") is None


# -----------------------------------------------------------------------------
# reply cleaning, diversity, addresses

def test_clean_reply_removes_preamble_fences_and_sign_off():
    reply = ("Sure! Here's a quick recipe for you:\n\n```\n**Lemon Pasta**\n- 200 g pasta\n- 1 lemon\n\n"
             "Boil the pasta. Toss with lemon.\n```\n\nLet me know if you'd like more recipes!")
    assert teacher.clean_reply(reply) == "Lemon Pasta\n- 200 g pasta\n- 1 lemon\n\nBoil the pasta. Toss with lemon."
    assert teacher.clean_reply("Certainly! Boil the pasta.") == "Boil the pasta."
    assert teacher.clean_reply("Here is a haiku:\nold pond\nfrog leaps in") == "old pond\nfrog leaps in"


def test_clean_reply_cuts_a_half_sentence_only_when_the_token_limit_hit():
    assert teacher.clean_reply("Mix the flour. Add the eggs and", hit_token_limit=True) == "Mix the flour."
    assert teacher.clean_reply("1. Flour\n2. Eggs\n3. Whisk the", hit_token_limit=True) == "1. Flour\n2. Eggs"
    assert teacher.clean_reply("old pond\nfrog leaps in", hit_token_limit=False) == "old pond\nfrog leaps in"


def test_instructions_are_diverse_and_reproducible():
    prompt = "A fun GPT that generates cooking recipes"
    instructions = [teacher.build_instruction(prompt, "cooking", 1337, i) for i in range(500)]
    assert len(set(instructions)) >= 495
    assert all(prompt in text for text in instructions)
    assert instructions[7] == teacher.build_instruction(prompt, "cooking", 1337, 7)
    assert instructions[7] != teacher.build_instruction(prompt, "cooking", 1338, 7)
    for domain in ("poetry", "technical", "general", "unknown"):
        assert len({teacher.build_instruction(prompt, domain, 1, i) for i in range(100)}) >= 95


def test_teacher_address_follows_ollama_host_rules(monkeypatch):
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    cfg = teacher_cfg("")
    assert teacher_client.teacher_base_url(cfg) == "http://localhost:11434"
    assert teacher_client.teacher_base_url(dict(cfg, generation_method="openai")) == "http://localhost:11434/v1"
    for host, url in [("myhost", "http://myhost:11434"), ("0.0.0.0:11434", "http://127.0.0.1:11434"),
                      ("https://ollama.example.com", "https://ollama.example.com")]:
        monkeypatch.setenv("OLLAMA_HOST", host)
        assert teacher_client.teacher_base_url(cfg) == url
    openai = dict(cfg, generation_method="openai")
    assert teacher_client.teacher_base_url(dict(openai, teacher_url="http://127.0.0.1:8000")) == "http://127.0.0.1:8000/v1"
    assert teacher_client.teacher_base_url(dict(openai, teacher_url="http://h:1234/v1/")) == "http://h:1234/v1"
    assert teacher_client.describe_server("http://user:pw@h:8000/v1?key=abc") == "http://h:8000/v1"


def test_timeouts_follow_the_device_preset_unless_overridden():
    assert teacher_client.teacher_timeouts(teacher_cfg("", teacher_device="cpu")) == (5.0, 300.0, 60.0)
    assert teacher_client.teacher_timeouts(teacher_cfg("", teacher_device="gpu")) == (5.0, 30.0, 10.0)
    assert teacher_client.teacher_timeouts(teacher_cfg("", teacher_device="gpu", judge_timeout_s=2.5)) == (5.0, 30.0, 2.5)


@pytest.mark.slow
def test_concurrency_eight_keeps_most_of_eight_requests_in_flight_and_one_keeps_one():
    # what makes it faster, checked without timing it (bench.py reports the speed-up: README, "Benchmarks")
    from tests.fake_teacher import bench_teacher_generation
    result = bench_teacher_generation(latency_s=0.1, concurrencies=(1, 8), n_samples=48)
    one, eight = (run["max_in_flight"] for run in result["runs"])
    # never more than asked; most of the eight at once (on a busy CPU a worker may be between two requests)
    assert one == 1 and 4 <= eight <= 8, result
    assert all(run["samples"] >= 48 for run in result["runs"]), result
