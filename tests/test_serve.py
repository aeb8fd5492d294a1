"""serve.py: the Ollama and OpenAI APIs over a tiny trained model, checked with the official clients (ollama,
openai), raw requests for the errors, and the product's own teacher client training a second model from it.
Every server listens on 127.0.0.1 only."""
import argparse
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
import torch

ollama = pytest.importorskip('ollama', reason="the official ollama client is a test-only package (requirements-test.txt); "
                                              "without it the server cannot be checked against Ollama's own client")
openai = pytest.importorskip('openai', reason="the official openai client is a test-only package (requirements-test.txt)")

import refine  # noqa: E402
import sample  # noqa: E402
import serve  # noqa: E402
import teacher  # noqa: E402
import train  # noqa: E402
from conftest import ROOT, TINY_MODEL_FLAGS  # noqa: E402
from chats import render_chat  # noqa: E402
from tokenizer import END_TURN, encode_segments, encode_start  # noqa: E402


def start_server(model, enc, name):
    server = serve.make_server(model, enc, name, port=0)
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop_server(server):
    server.shutdown()
    serve.stop_serving(server)


@pytest.fixture(scope='module')
def plain(trained_run):
    """The recipe model of conftest (no chat tokens, context 32), served as 'tiny'."""
    model, enc = sample.load_model(trained_run, 'cpu')
    server = start_server(model, enc, 'tiny')
    yield server
    stop_server(server)


@pytest.fixture(scope='module')
def chat(tmp_path_factory):
    """A model trained on a chat source (so its tokenizer has the chat tokens), with a context of 512 that
    holds the teacher's long instructions, served as 'chef'."""
    folder = tmp_path_factory.mktemp('chat_model')
    with open(folder / 'chats.jsonl', 'w') as f:
        for i in range(200):
            f.write(json.dumps({'messages': [
                {'role': 'user', 'content': f"Write a recipe with {i % 9} eggs, please."},
                {'role': 'assistant', 'content': f"Recipe {i}: mix {i % 9} eggs with {i % 5} cups of flour. "
                                                 f"Bake for {10 + i % 30} minutes."}]}) + '\n')
    flags = [f for f in TINY_MODEL_FLAGS if not f.startswith('--block_size')]
    train.main([f"--sources=chat:{folder / 'chats.jsonl'}", '--vocab_size=400', '--block_size=512',
                f"--out_dir={folder / 'run'}", '--max_iters=30', '--eval_interval=15'] + flags)
    model, enc = sample.load_model(str(folder / 'run'), 'cpu')
    server = start_server(model, enc, 'chef')
    yield server
    stop_server(server)


def reference(server, ids, max_new_tokens, temperature=0.0, seed=None, stop_tokens=()):
    """What sample.py writes for these ids (sample.stream_sample), greedy unless a temperature and seed are given."""
    args = argparse.Namespace(device='cpu', max_new_tokens=max_new_tokens, temperature=temperature, top_k=40,
                              top_p=1.0, no_cache=False)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    return sample.stream_sample(server.model, server.enc, ids, args, generator, write=lambda s: None,
                                stop_tokens=stop_tokens)


def reference_token_count(server, ids, max_new_tokens, stop_tokens=(), temperature=0.0, seed=None):
    """How many tokens the model samples for ids, the end token included."""
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    out = server.model.generate(torch.tensor([ids]), max_new_tokens, temperature, top_k=40, generator=generator,
                                stop_tokens=(server.enc.eot_token, *stop_tokens))
    return out.size(1) - len(ids)


def chat_ids(server, messages):
    return encode_segments(server.enc, render_chat(messages, start_reply=True))[0]


def end_turn(server):
    return server.enc._special_tokens[END_TURN]


def assert_still_answers(server):
    assert requests.get(server.url + '/api/version', timeout=10).json()['version']


# -----------------------------------------------------------------------------
# the official ollama client

def test_ollama_client_lists_and_shows_the_model_by_name_and_name_latest(plain):
    client = ollama.Client(host=plain.url)
    assert [m.model for m in client.list().models] == ['tiny:latest']
    for name in ('tiny', 'tiny:latest'):
        shown = client.show(name)
        assert shown.modelinfo['gpt1.context_length'] == 32 and shown.capabilities == ['completion']
    with pytest.raises(ollama.ResponseError) as caught:
        client.show('other')
    assert caught.value.status_code == 404


def test_ollama_greedy_generate_equals_sample_py_streamed_or_not(plain):
    client = ollama.Client(host=plain.url)
    options = {'temperature': 0, 'num_predict': 20}
    expected = reference(plain, encode_start(plain.enc, 'Recipe 7'), 20)
    whole = client.generate(model='tiny', prompt='Recipe 7', options=options)
    assert whole.response == expected and whole.done and whole.done_reason in ('stop', 'length')
    assert whole.prompt_eval_count == len(encode_start(plain.enc, 'Recipe 7'))
    assert whole.eval_count == reference_token_count(plain, encode_start(plain.enc, 'Recipe 7'), 20)
    parts = list(client.generate(model='tiny', prompt='Recipe 7', options=options, stream=True))
    assert ''.join(p.response for p in parts) == expected
    assert all(not p.done for p in parts[:-1]) and parts[-1].done and parts[-1].eval_duration > 0


def test_a_seed_gives_the_same_sampled_text_as_sample_py_with_that_seed(plain):
    client = ollama.Client(host=plain.url)
    expected = reference(plain, encode_start(plain.enc, 'Bake'), 25, temperature=0.8, seed=42)
    got = client.generate(model='tiny', prompt='Bake', options={'temperature': 0.8, 'top_k': 40, 'seed': 42,
                                                                'num_predict': 25})
    assert got.response == expected


def test_stop_strings_are_cut_from_the_text_streamed_or_not(plain):
    client = ollama.Client(host=plain.url)
    full = reference(plain, encode_start(plain.enc, 'Recipe 3'), 30)
    stop = full[3:6]
    options = {'temperature': 0, 'num_predict': 30, 'stop': [stop]}
    whole = client.generate(model='tiny', prompt='Recipe 3', options=options)
    assert whole.response == full[:full.index(stop)] and whole.done_reason == 'stop'
    parts = client.generate(model='tiny', prompt='Recipe 3', options=options, stream=True)
    assert ''.join(p.response for p in parts) == full[:full.index(stop)]


# A tiny chat model's greedy reply hardly depends on the question, so the chat tests sample with a seed: the
# same text as sample.py's only if the prompt's tokens are exactly the chat format it learned.
SEEDED = {'temperature': 0.8, 'top_k': 40, 'seed': 7}


def test_ollama_chat_uses_the_chat_format_the_model_learned(chat):
    client = ollama.Client(host=chat.url)
    messages = [{'role': 'user', 'content': 'Write a recipe with 4 eggs, please.'}]
    expected = reference(chat, chat_ids(chat, messages), 40, 0.8, 7, stop_tokens=(end_turn(chat),))
    whole = client.chat(model='chef', messages=messages, options={**SEEDED, 'num_predict': 40})
    assert whole.message.role == 'assistant' and whole.message.content == expected
    assert whole.prompt_eval_count == len(chat_ids(chat, messages))
    parts = list(client.chat(model='chef:latest', messages=messages, stream=True,
                             options={**SEEDED, 'num_predict': 40}))
    assert ''.join(p.message.content for p in parts) == expected and parts[-1].done


def test_ollama_generate_on_a_chat_model_is_a_user_turn_unless_raw(chat):
    client = ollama.Client(host=chat.url)
    options = {**SEEDED, 'num_predict': 30}
    messages = [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'A recipe?'}]
    expected = reference(chat, chat_ids(chat, messages), 30, 0.8, 7, stop_tokens=(end_turn(chat),))
    assert client.generate(model='chef', system='Be brief.', prompt='A recipe?', options=options).response == expected
    raw = client.generate(model='chef', prompt='Recipe 5: mix', raw=True, options=options).response
    assert raw == reference(chat, encode_start(chat.enc, 'Recipe 5: mix'), 30, 0.8, 7)


def test_a_model_without_chat_tokens_chats_through_a_plain_transcript(plain):
    messages = [{'role': 'user', 'content': 'mix eggs'}]
    ids = [plain.enc.eot_token] + plain.enc.encode_ordinary('user: mix eggs\nassistant:')
    expected = reference(plain, ids, 10).lstrip().split('\nuser:')[0]
    got = ollama.Client(host=plain.url).chat(model='tiny', messages=messages,
                                             options={'temperature': 0, 'num_predict': 10})
    assert got.message.content == expected and got.prompt_eval_count == len(ids)


def test_an_empty_prompt_loads_the_model_as_ollama_does(plain):
    got = ollama.Client(host=plain.url).generate(model='tiny', prompt='')
    assert got.done and got.done_reason == 'load' and got.response == ''


# -----------------------------------------------------------------------------
# the official openai client

def test_openai_client_lists_the_model(plain):
    client = openai.OpenAI(base_url=plain.url + '/v1', api_key='unused')
    assert [m.id for m in client.models.list().data] == ['tiny:latest']
    assert client.models.retrieve('tiny').id == 'tiny:latest'


def test_openai_completions_equal_sample_py_with_real_usage_counts(plain):
    client = openai.OpenAI(base_url=plain.url + '/v1', api_key='unused')
    ids = encode_start(plain.enc, 'Recipe 9')
    expected, n_reply = reference(plain, ids, 20), reference_token_count(plain, ids, 20)
    whole = client.completions.create(model='tiny', prompt='Recipe 9', max_tokens=20, temperature=0)
    assert whole.choices[0].text == expected and whole.choices[0].finish_reason in ('stop', 'length')
    assert (whole.usage.prompt_tokens, whole.usage.completion_tokens, whole.usage.total_tokens) == \
           (len(ids), n_reply, len(ids) + n_reply)
    chunks = list(client.completions.create(model='tiny', prompt='Recipe 9', max_tokens=20, temperature=0,
                                            stream=True, stream_options={'include_usage': True}))
    assert ''.join(c.choices[0].text for c in chunks if c.choices) == expected
    assert chunks[-1].usage.completion_tokens == n_reply


def test_openai_chat_completions_streamed_or_not_with_real_usage_counts(chat):
    client = openai.OpenAI(base_url=chat.url + '/v1', api_key='unused')
    messages = [{'role': 'user', 'content': 'Write a recipe with 2 eggs, please.'}]
    ids = chat_ids(chat, messages)
    expected = reference(chat, ids, 40, 0.8, 7, stop_tokens=(end_turn(chat),))
    n_reply = reference_token_count(chat, ids, 40, stop_tokens=(end_turn(chat),), temperature=0.8, seed=7)
    whole = client.chat.completions.create(model='chef', messages=messages, max_tokens=40, temperature=0.8, seed=7,
                                           extra_body={'top_k': 40})
    assert whole.choices[0].message.content == expected and whole.choices[0].message.role == 'assistant'
    assert whole.choices[0].finish_reason == ('stop' if n_reply < 40 else 'length')
    assert (whole.usage.prompt_tokens, whole.usage.completion_tokens) == (len(ids), n_reply)
    chunks = list(client.chat.completions.create(model='chef', messages=messages, max_completion_tokens=40,
                                                 temperature=0.8, seed=7, stream=True,
                                                 stream_options={'include_usage': True}))
    assert chunks[0].choices[0].delta.role == 'assistant'
    assert ''.join(c.choices[0].delta.content or '' for c in chunks if c.choices) == expected
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == n_reply


def test_openai_n_other_than_one_is_refused_in_openais_error_shape(plain):
    client = openai.OpenAI(base_url=plain.url + '/v1', api_key='unused', max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model='tiny', prompt='Recipe', n=2)
    assert caught.value.body['param'] == 'n'


# -----------------------------------------------------------------------------
# bad requests: the API's own error shape, and the server goes on

LONG = 'eggs and flour ' * 40  # far more than the 32 tokens of the plain model's context
BAD_REQUESTS = [  # (path, body, status, Ollama shape or OpenAI's param)
    ('/api/generate', b'{"model": "tiny", "prompt": ', 400, None),
    ('/api/generate', {'model': 'nobody', 'prompt': 'x'}, 404, None),
    ('/api/generate', {'prompt': 'x'}, 400, None),
    ('/api/generate', {'model': 'tiny', 'prompt': 'x', 'options': {'num_predict': -5}}, 400, None),
    ('/api/generate', {'model': 'tiny', 'prompt': 'x', 'options': {'temperature': 'hot'}}, 400, None),
    ('/api/generate', {'model': 'tiny', 'prompt': LONG}, 400, None),
    ('/api/chat', {'model': 'tiny', 'messages': 'hello'}, 400, None),
    ('/api/chat', {'model': 'tiny', 'messages': [{'role': 'user', 'content': LONG}]}, 400, None),
    ('/api/show', {'model': 'nobody'}, 404, None),
    ('/v1/completions', b'not json', 400, None),
    ('/v1/completions', {'model': 'nobody', 'prompt': 'x'}, 404, 'model'),
    ('/v1/completions', {'model': 'tiny', 'prompt': 'x', 'max_tokens': -1}, 400, 'max_tokens'),
    ('/v1/completions', {'model': 'tiny', 'prompt': LONG}, 400, 'prompt'),
    ('/v1/completions', {'model': 'tiny', 'prompt': 'x', 'stop': 5}, 400, 'stop'),
    ('/v1/chat/completions', {'model': 'tiny', 'messages': []}, 400, 'messages'),
    ('/v1/chat/completions', {'model': 'tiny', 'messages': [{'role': 'user', 'content': LONG}]}, 400, 'messages'),
    ('/v1/nothing', {}, 404, None),
    ('/api/nothing', {}, 404, None),
]


@pytest.mark.parametrize('path, body, status, param', BAD_REQUESTS)
def test_a_bad_request_gets_the_apis_error_shape_and_the_server_goes_on(plain, path, body, status, param):
    kwargs = {'data': body} if isinstance(body, bytes) else {'json': body}
    r = requests.post(plain.url + path, timeout=10, **kwargs)
    assert r.status_code == status
    error = r.json()['error']
    if path.startswith('/v1/'):
        assert set(error) == {'message', 'type', 'param', 'code'} and error['param'] == param and error['message']
    else:
        assert isinstance(error, str) and error
    assert 'Traceback' not in r.text
    assert_still_answers(plain)


def test_unknown_paths_are_404_and_the_root_says_ollama_is_running(plain):
    assert requests.get(plain.url + '/api/nowhere', timeout=10).status_code == 404
    r = requests.get(plain.url + '/', timeout=10)
    assert r.status_code == 200 and r.text == 'Ollama is running'


def test_a_body_over_the_limit_is_refused_with_413(plain):
    r = requests.post(plain.url + '/api/generate', data=b'x' * (serve.MAX_BODY_BYTES + 1), timeout=10)
    assert r.status_code == 413 and 'at most' in r.json()['error']
    assert_still_answers(plain)


# -----------------------------------------------------------------------------
# concurrency and clients that leave

def test_two_clients_at_once_both_get_their_complete_replies(plain):
    expected = {p: reference(plain, encode_start(plain.enc, p), 30) for p in ('Recipe 1', 'Recipe 2')}
    got, barrier = {}, threading.Barrier(2)

    def ask_ollama():
        barrier.wait()
        got['Recipe 1'] = ollama.Client(host=plain.url).generate(
            model='tiny', prompt='Recipe 1', options={'temperature': 0, 'num_predict': 30}).response

    def ask_openai():
        barrier.wait()
        chunks = openai.OpenAI(base_url=plain.url + '/v1', api_key='unused').completions.create(
            model='tiny', prompt='Recipe 2', max_tokens=30, temperature=0, stream=True)
        got['Recipe 2'] = ''.join(c.choices[0].text for c in chunks)

    threads = [threading.Thread(target=ask_ollama), threading.Thread(target=ask_openai)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert got == expected


@pytest.fixture
def scripted(trained_run):
    """A server whose model writes the token ids the test puts in server.script (an iterable), up to
    max_new_tokens as model.generate_stream does, counting the tokens it makes and noting when it is stopped."""
    model, enc = sample.load_model(trained_run, 'cpu')
    made = {'tokens': 0, 'closed': False}

    def generate_stream(idx, max_new_tokens, *args, **kwargs):
        try:
            for t in itertools.islice(server.script, max_new_tokens):
                made['tokens'] += 1
                yield torch.tensor([t])
        finally:
            made['closed'] = True

    model.generate_stream = generate_stream
    server = start_server(model, enc, 'scripted')
    server.made, server.eggs = made, enc.encode_ordinary(' eggs')
    assert len(server.eggs) == 1
    yield server
    stop_server(server)


def test_the_end_token_stops_the_reply_and_counts_as_generated(scripted):
    eggs, eot = scripted.eggs[0], scripted.enc.eot_token
    scripted.script = [eggs, eggs, eggs, eot, eggs]
    got = ollama.Client(host=scripted.url).generate(model='scripted', prompt='Mix')
    assert (got.response, got.done_reason, got.eval_count) == (' eggs eggs eggs', 'stop', 4)
    client = openai.OpenAI(base_url=scripted.url + '/v1', api_key='unused')
    choice_and_usage = client.completions.create(model='scripted', prompt='Mix')
    assert choice_and_usage.choices[0].finish_reason == 'stop' and choice_and_usage.usage.completion_tokens == 4
    cut = client.completions.create(model='scripted', prompt='Mix', max_tokens=2)
    assert (cut.choices[0].text, cut.choices[0].finish_reason, cut.usage.completion_tokens) == \
           (' eggs eggs', 'length', 2)


def endless_eggs(server):
    """One token a millisecond, forever."""
    while True:
        time.sleep(0.001)
        yield server.eggs[0]


@pytest.mark.parametrize('stream', [True, False])
def test_a_client_that_disconnects_stops_its_generation(scripted, stream):
    scripted.script = endless_eggs(scripted)
    body = json.dumps({'model': 'scripted', 'prompt': 'Recipe', 'stream': stream,
                       'options': {'num_predict': 10 ** 9}}).encode()
    sock = socket.create_connection(('127.0.0.1', scripted.server_address[1]))
    sock.sendall(b'POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                 b'Content-Length: %d\r\n\r\n%s' % (len(body), body))
    if stream:
        received = b''
        while b'"response"' not in received:  # the generation is under way
            received += sock.recv(4096)
    else:
        deadline = time.time() + 10
        while scripted.made['tokens'] < 10 and time.time() < deadline:
            time.sleep(0.01)
    sock.close()
    # without the stop the lock would be held for 10**9 tokens, a millisecond each
    assert scripted.lock.acquire(timeout=10), "the generation went on after its client left"
    scripted.lock.release()
    assert scripted.made['closed']
    count = scripted.made['tokens']
    time.sleep(0.1)
    assert scripted.made['tokens'] == count
    assert_still_answers(scripted)


# -----------------------------------------------------------------------------
# the front door: sample.py --serve

@pytest.mark.parametrize('stop', ['SIGINT', 'SIGTERM'])  # Ctrl-C; docker stop, systemd and kill
def test_sample_py_serve_answers_and_a_signal_stops_it_cleanly_even_mid_generation(trained_run, stop):
    proc = subprocess.Popen([sys.executable, 'sample.py', f'--out_dir={trained_run}', '--serve', '--port=0',
                             '--device=cpu'], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # a shell that runs pytest in the background ignores SIGINT for its children, and
                            # Python then never raises KeyboardInterrupt: give the server the default back
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)", proc.stdout.readline()).group(1))
        tags = requests.get(f"http://127.0.0.1:{port}/api/tags", timeout=10).json()
        assert tags['models'][0]['name'] == os.path.basename(trained_run) + ':latest'
        # a greedy reply this tiny model never ends by itself: it is still being written at Ctrl-C
        body = json.dumps({'model': os.path.basename(trained_run), 'prompt': 'Recipe',
                           'options': {'temperature': 0, 'num_predict': 10 ** 6}}).encode()
        sock = socket.create_connection(('127.0.0.1', port))
        sock.sendall(b'POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s' % (len(body), body))
        received = b''
        while b'"response"' not in received:
            received += sock.recv(4096)
        proc.send_signal(getattr(signal, stop))
        proc.wait(timeout=10)
    finally:
        proc.kill()
    stderr = proc.stderr.read()
    assert proc.returncode in (0, 130), stderr
    assert 'Traceback' not in stderr and 'terminate' not in stderr and 'stopped serving' in stderr
    assert 'GET /api/tags 200' in stderr  # the one line per request
    assert re.search(r"POST /api/generate 200 .*stopped", stderr), stderr


# -----------------------------------------------------------------------------
# the product's round trip: teacher.py asks this server, train.py trains a second model on the replies

@pytest.mark.slow
def test_teacher_py_trains_a_second_model_from_the_served_models_text(chat, tmp_path, monkeypatch, capsys):
    # the served model is tiny and writes short, rough text: this test is about the round trip, not quality
    monkeypatch.setattr(teacher, 'MIN_SAMPLE_TOKENS', 1)
    monkeypatch.setattr(refine, 'MIN_SCORE', 0.0)
    monkeypatch.setattr(refine, 'NEAR_DUP_JACCARD', 1.01)
    out = tmp_path / 'student'
    train.main(['--prompt=A fun GPT that generates cooking recipes', f'--out_dir={out}', '--generation_method=ollama',
                f'--teacher_url={chat.url}', '--gen_model=chef', '--judge_model=', '--fallback=none',
                '--initial_tokens=300', '--final_tokens=300', '--num_predict=40', '--vocab_size=300',
                '--teacher_device=gpu', '--concurrency=2', '--max_iters=4', '--eval_interval=2'] + TINY_MODEL_FLAGS
               + ['--block_size=16'])  # 300 tokens of rough text: a val split of one short document must hold a window
    assert (out / 'model.safetensors').exists()
    info = json.loads((out / 'data_info.json').read_text())
    assert info['generation_method'] == 'ollama' and info['teacher']['requests'] > 0
    rows = [json.loads(line) for line in (out / 'dataset.jsonl').read_text().splitlines()]
    assert rows and all(r['source'] == 'ollama:chef' for r in rows)
    served = capsys.readouterr().err.count('POST /api/chat 200')
    assert served == info['teacher']['requests']
