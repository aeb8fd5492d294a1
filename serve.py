"""
An Ollama- and OpenAI-compatible HTTP server for a trained model folder, so the product's own teacher client
(teacher.py), Ollama's and OpenAI's client libraries and the tools built on them can use a model trained here.

    python sample.py --out_dir=models/cooking_4M_... --serve [--port=11435] [--host=127.0.0.1] [--model_name=NAME]

The APIs, followed in the fields their clients read:
  Ollama  https://github.com/ollama/ollama/blob/main/docs/api.md
          GET /, GET /api/version, GET /api/tags, POST /api/show, POST /api/generate, POST /api/chat
  OpenAI  https://platform.openai.com/docs/api-reference/chat, .../completions, .../models
          GET /v1/models, GET /v1/models/NAME, POST /v1/completions, POST /v1/chat/completions
Where this server differs: a prompt longer than the model's context is an error (Ollama would cut it);
format / response_format, tools, images and logprobs are ignored; Ollama's num_predict -1 and -2 both mean
"until the context is full"; Ollama's context field (the conversation as token ids) is not sent; OpenAI's n
must be 1 and a completion's prompt one string; OpenAI requests may also set top_k, as vLLM's server allows.

A chat goes to a model trained on chat sources in the format it learned (chats.render_chat), and its reply
ends with <|end|>. Any other model sees a plain transcript after <|endoftext|>, one 'role: text' line per
message, then 'assistant:'; its reply ends at <|endoftext|> or at a new line starting 'user:'.
"""
import codecs
import json
import select
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from contextlib import closing
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch

from common import UserError
from chats import clean_messages, render_chat
from tokenizer import END_TURN, encode_segments, encode_start

MAX_BODY_BYTES = 1_000_000  # a prompt longer than any context fits many times over; more is a mistake
SAMPLE_DEFAULTS = {'temperature': 0.8, 'top_k': 40, 'top_p': 1.0, 'max_tokens': 200}  # sample.py's own
OLLAMA_VERSION = '0.6.0'  # what /api/version reports to clients that check: it has every endpoint served here
NUMBER = (int, float)


class BadRequest(Exception):
    """A request the server refuses, answered in the API's own error shape."""

    def __init__(self, status, message, param=None, code=None):
        super().__init__(message)
        self.status, self.param, self.code = status, param, code


# -----------------------------------------------------------------------------
# reading a request: the model, the sampling settings, the prompt

def field(obj, key, default, kind, rule, ok=lambda v: True):
    """obj[key] if it is of kind (bool is not a number here) and ok() holds; default when absent or null."""
    value = obj.get(key)
    if value is None:
        return default
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind) or not ok(value):
        raise BadRequest(400, f"{key} must be {rule}", param=key)
    return value


def sampling_settings(source, defaults, max_tokens):
    """temperature, top_k, top_p, seed and stop strings from Ollama's options or an OpenAI body."""
    stop = source.get('stop')
    stop = [stop] if isinstance(stop, str) else [] if stop is None else stop
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        raise BadRequest(400, "stop must be a string or a list of strings", param='stop')
    d = defaults
    return {'temperature': field(source, 'temperature', d['temperature'], NUMBER, 'a number >= 0', lambda v: v >= 0),
            'top_k': field(source, 'top_k', d['top_k'], int, 'an integer >= 0 (0 = off)', lambda v: v >= 0),
            'top_p': field(source, 'top_p', d['top_p'], NUMBER, 'a number in (0, 1]', lambda v: 0 < v <= 1),
            'seed': field(source, 'seed', None, int, 'an integer'), 'stop': [s for s in stop if s],
            'max_tokens': max_tokens}


def check_model(server, name, openai):
    """The name a request asked for, if this server has it: NAME or NAME:latest."""
    if not isinstance(name, str) or not name:
        raise BadRequest(400, "model is required", param='model')
    if name not in server.names:
        raise BadRequest(404, f"The model `{name}` does not exist; this server has `{server.name}`" if openai
                         else f"model '{name}' not found", param='model', code='model_not_found')
    return name


def plain_prompt(enc, text):
    """A prompt to continue, taken as sample.py takes --start (tokenizer.encode_start)."""
    return {'ids': encode_start(enc, text), 'stop_ids': [], 'stop_texts': [], 'strip_start': False}


def read_messages(value):
    if not isinstance(value, list) or not all(isinstance(m, dict) and isinstance(m.get('role'), str) for m in value):
        raise BadRequest(400, 'messages must be a list of {"role": ..., "content": ...} objects', param='messages')
    return clean_messages(value)  # system, user and assistant turns with text; 'developer' is system


def chat_prompt(enc, messages):
    """The prompt for the assistant's reply to messages, and where that reply ends (module docstring)."""
    if END_TURN in enc._special_tokens:  # the tokens chat sources add; sample.py's --chat needs them too
        ids, _ = encode_segments(enc, render_chat(messages, start_reply=True))
        return {'ids': ids, 'stop_ids': [enc._special_tokens[END_TURN]], 'stop_texts': [], 'strip_start': False}
    transcript = ''.join(f"{m['role']}: {m['content']}\n" for m in messages) + 'assistant:'
    # after <|endoftext|>, where every training document starts; the reply's leading space is dropped
    return {'ids': [enc.eot_token] + enc.encode_ordinary(transcript), 'stop_ids': [], 'stop_texts': ['\nuser:'],
            'strip_start': True}


def check_context(server, prompt, settings, param, openai):
    block, n = server.model.config.block_size, len(prompt['ids'])
    if n > block:
        raise BadRequest(400, f"the prompt is {n} tokens but this model's context is {block}; shorten it",
                         param=param, code='context_length_exceeded' if openai else None)
    if settings['max_tokens'] < 0:  # Ollama's -1 (no limit) and -2 (fill the context)
        settings['max_tokens'] = block - n


# -----------------------------------------------------------------------------
# generation

def client_gone(sock):
    """True once the client has closed its connection: the socket reads as ready with nothing to read."""
    try:
        return bool(select.select([sock], [], [], 0)[0]) and sock.recv(1, socket.MSG_PEEK) == b''
    except (OSError, ValueError):
        return True


def generate_text(server, sock, prompt, s, result):
    """Yield the reply's text piece by piece as it becomes final (text that may begin a stop string waits for
    the next tokens). Fills result: finish_reason 'stop' or 'length', completion_tokens (every token sampled,
    the end token too, as Ollama's eval_count counts), prompt_ns and eval_ns. Raises ConnectionAbortedError
    when the client has gone or the server is stopping, so no generation runs on for no one."""
    enc, stop_ids, stops = server.enc, (server.enc.eot_token, *prompt['stop_ids']), prompt['stop_texts'] + s['stop']
    gen = torch.Generator(device=server.device)
    gen.manual_seed(s['seed'] % 2 ** 64) if s['seed'] is not None else gen.seed()
    x = torch.tensor([prompt['ids']], dtype=torch.long, device=server.device)
    utf8 = codecs.getincrementaldecoder('utf-8')(errors='replace')  # a character may span tokens
    text, sent, t0 = '', 0, time.perf_counter_ns()
    result.update(finish_reason='length', completion_tokens=0, prompt_ns=0, eval_ns=0)
    steps = server.model.generate_stream(x, s['max_tokens'], s['temperature'], s['top_k'], s['top_p'],
                                         generator=gen, stop_tokens=stop_ids)
    try:
        for token in steps:
            if not result['completion_tokens']:
                result['prompt_ns'] = time.perf_counter_ns() - t0  # the prompt's forward pass and one token
            result['completion_tokens'] += 1
            if server.stopping.is_set() or client_gone(sock):
                raise ConnectionAbortedError("the client went away or the server is stopping")
            t = token.item()
            if t in stop_ids:
                result['finish_reason'] = 'stop'
                break
            text += utf8.decode(enc.decode_single_token_bytes(t))
            text = text.lstrip() if prompt['strip_start'] else text
            cut = min((i for i in (text.find(stop) for stop in stops) if i >= 0), default=-1)
            if cut >= 0:
                text, result['finish_reason'] = text[:cut], 'stop'
                break
            hold = max((k for stop in stops for k in range(1, len(stop)) if text.endswith(stop[:k])), default=0)
            if len(text) - hold > sent:
                yield text[sent:len(text) - hold]
                sent = len(text) - hold
        if len(text) > sent:
            yield text[sent:]
    finally:
        steps.close()
        result['eval_ns'] = time.perf_counter_ns() - t0 - result['prompt_ns']


def now_iso():
    return datetime.now(timezone.utc).isoformat().replace('+00:00', 'Z')


# -----------------------------------------------------------------------------
# the endpoints: each reads its request and answers through the handler h

def ollama_tags(h, body):
    s = h.server
    h.send_json(200, {'models': [{'name': s.name, 'model': s.name, 'modified_at': s.modified_at,
                                  'size': s.size_bytes, 'details': s.details}]})


def ollama_show(h, body):
    s, d = h.server, h.server.defaults
    check_model(s, body.get('model') or body.get('name'), False)
    h.send_json(200, {'modelfile': f"# {s.name}: a GPT-1-style model trained by Text2GPT1\n", 'template': s.template,
                      'parameters': f"temperature {d['temperature']}\ntop_k {d['top_k']}\ntop_p {d['top_p']}\n"
                                    f"num_predict {d['max_tokens']}\nnum_ctx {s.model.config.block_size}",
                      'details': s.details, 'model_info': s.model_info, 'capabilities': ['completion'],
                      'modified_at': s.modified_at})


def ollama_generate(h, body, chat=False):
    s, enc = h.server, h.server.enc
    model = check_model(s, body.get('model'), False)
    options = field(body, 'options', {}, dict, 'an object')
    settings = sampling_settings(options, s.defaults, field(options, 'num_predict', s.defaults['max_tokens'], int,
                                 'an integer >= 0 (-1 or -2: until the context is full)', lambda v: v >= -2))
    stream = field(body, 'stream', True, bool, 'true or false')
    if chat:
        messages = read_messages(body.get('messages') or [])
        prompt = chat_prompt(enc, messages) if messages else None
    else:
        text, system = field(body, 'prompt', '', str, 'a string'), field(body, 'system', '', str, 'a string')
        raw = field(body, 'raw', False, bool, 'true or false')
        if not text:
            prompt = None
        elif raw or END_TURN not in enc._special_tokens:  # a plain model's template is the prompt itself
            prompt = plain_prompt(enc, f"{system}\n{text}" if system and not raw else text)
        else:
            prompt = chat_prompt(enc, clean_messages([{'role': 'system', 'content': system},
                                                      {'role': 'user', 'content': text}]))

    def part(text, done):  # every line of the reply: Ollama's stream, or the whole reply when done
        return {'model': model, 'created_at': now_iso(), 'done': done,
                **({'message': {'role': 'assistant', 'content': text}} if chat else {'response': text})}

    if prompt is None:  # Ollama loads a model on a request with nothing to answer, and answers at once
        return h.send_json(200, {**part('', True), 'done_reason': 'load'})
    check_context(s, prompt, settings, 'messages' if chat else 'prompt', False)
    result, started = {}, time.perf_counter_ns()
    with s.lock, closing(generate_text(s, h.connection, prompt, settings, result)) as pieces:
        if stream:
            h.start_stream('application/x-ndjson')
            for text in pieces:
                h.send_chunk(json.dumps(part(text, False)) + '\n')
        else:
            reply = ''.join(pieces)
    final = {**part('' if stream else reply, True), 'done_reason': result['finish_reason'],
             'total_duration': time.perf_counter_ns() - started, 'load_duration': 0,
             'prompt_eval_count': len(prompt['ids']), 'prompt_eval_duration': result['prompt_ns'],
             'eval_count': result['completion_tokens'], 'eval_duration': result['eval_ns']}
    h.note = f"{len(prompt['ids'])} + {result['completion_tokens']} tokens, {result['finish_reason']}"
    if not stream:
        return h.send_json(200, final)
    h.send_chunk(json.dumps(final) + '\n')
    h.end_stream()


def openai_models(h, body):
    s = h.server
    entry = {'id': s.name, 'object': 'model', 'created': int(s.started), 'owned_by': 'text2gpt1'}
    path = h.path.split('?', 1)[0].rstrip('/')
    if path == '/v1/models':
        return h.send_json(200, {'object': 'list', 'data': [entry]})
    check_model(s, urllib.parse.unquote(path[len('/v1/models/'):]), True)
    h.send_json(200, entry)


def openai_completion(h, body, chat=False):
    s, enc = h.server, h.server.enc
    model = check_model(s, body.get('model'), True)
    field(body, 'n', 1, int, '1: this server writes one choice per request', lambda v: v == 1)
    limit = 'max_completion_tokens' if body.get('max_completion_tokens') is not None else 'max_tokens'
    settings = sampling_settings(body, s.defaults, field(body, limit, s.defaults['max_tokens'], int,
                                                         'an integer >= 1', lambda v: v >= 1))
    stream = field(body, 'stream', False, bool, 'true or false')
    stream_options = field(body, 'stream_options', {}, dict, 'an object')
    usage_too = field(stream_options, 'include_usage', False, bool, 'true or false')
    if chat:
        messages = read_messages(body.get('messages'))
        if not messages:
            raise BadRequest(400, "messages must hold at least one message with text", param='messages')
        prompt = chat_prompt(enc, messages)
    else:  # '' starts a new document, as OpenAI's own default prompt <|endoftext|> does
        prompt = plain_prompt(enc, field(body, 'prompt', '', str, 'a string (one prompt per request)'))
    check_context(s, prompt, settings, 'messages' if chat else 'prompt', True)
    head = {'id': ('chatcmpl-' if chat else 'cmpl-') + uuid.uuid4().hex, 'created': int(time.time()), 'model': model,
            'object': 'chat.completion.chunk' if chat and stream else 'chat.completion' if chat else 'text_completion'}

    def choice(text, finish, role=False):
        if not chat:
            return {'index': 0, 'text': text, 'logprobs': None, 'finish_reason': finish}
        if not stream:
            message = {'role': 'assistant', 'content': text}
            return {'index': 0, 'message': message, 'logprobs': None, 'finish_reason': finish}
        delta = {'role': 'assistant', 'content': text} if role else {} if finish else {'content': text}
        return {'index': 0, 'delta': delta, 'logprobs': None, 'finish_reason': finish}

    def event(choices, usage=None):  # a server-sent event; with include_usage every chunk has a usage field
        chunk = {**head, 'choices': choices, **({'usage': usage} if usage_too else {})}
        h.send_chunk(f"data: {json.dumps(chunk)}\n\n")

    result = {}
    with s.lock, closing(generate_text(s, h.connection, prompt, settings, result)) as pieces:
        if stream:
            h.start_stream('text/event-stream')
            if chat:
                event([choice('', None, role=True)])
            for text in pieces:
                event([choice(text, None)])
        else:
            reply = ''.join(pieces)
    n_prompt, n_reply = len(prompt['ids']), result['completion_tokens']
    usage = {'prompt_tokens': n_prompt, 'completion_tokens': n_reply, 'total_tokens': n_prompt + n_reply}
    h.note = f"{n_prompt} + {n_reply} tokens, {result['finish_reason']}"
    if not stream:
        return h.send_json(200, {**head, 'choices': [choice(reply, result['finish_reason'])], 'usage': usage})
    event([choice('', result['finish_reason'])])
    if usage_too:
        event([], usage)
    h.send_chunk('data: [DONE]\n\n')
    h.end_stream()


ROUTES = {('GET', '/'): lambda h, body: h.send_body(200, b'Ollama is running', 'text/plain; charset=utf-8'),
          ('GET', '/api/version'): lambda h, body: h.send_json(200, {'version': OLLAMA_VERSION}),
          ('GET', '/api/tags'): ollama_tags, ('POST', '/api/show'): ollama_show,
          ('POST', '/api/generate'): ollama_generate,
          ('POST', '/api/chat'): lambda h, body: ollama_generate(h, body, True),
          ('GET', '/v1/models'): openai_models, ('POST', '/v1/completions'): openai_completion,
          ('POST', '/v1/chat/completions'): lambda h, body: openai_completion(h, body, True)}


# -----------------------------------------------------------------------------
# HTTP: the one handler class http.server requires, and the server around it

class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'   # keep-alive, so a client's session reuses its connection
    timeout = 120                   # an idle connection gives its thread back after two minutes
    disable_nagle_algorithm = True  # each streamed piece goes out at once

    def do_GET(self):
        self.answer('GET')

    def do_POST(self):
        self.answer('POST')

    def setup(self):
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self):
        self.server.connections.discard(self.connection)
        super().finish()

    def handle(self):
        if self.server.stopping.is_set():  # it arrived as the server stopped (stop_serving)
            return
        try:
            super().handle()
        except ConnectionError:  # a client reset its kept-alive connection between requests: nothing to answer
            pass

    def log_request(self, code='-', size='-'):
        self.status = code  # the one line per request is written when it ends, with its time (answer)

    def log_message(self, fmt, *args):  # http.server's own complaints, such as a malformed request line
        sys.stderr.write(f"serve: {self.client_address[0]} {fmt % args}\n")

    def answer(self, method):
        started, self.status, self.streaming, self.note = time.time(), '-', False, ''
        path = self.path.split('?', 1)[0].rstrip('/') or '/'
        openai = (path + '/').startswith('/v1/')
        try:
            endpoint = ROUTES.get((method, path))
            if endpoint is None and method == 'GET' and path.startswith('/v1/models/'):
                endpoint = openai_models
            if endpoint is None:
                self.close_connection = True  # a body it may have sent stays unread
                raise BadRequest(404, f"no endpoint {method} {path}")
            endpoint(self, self.read_json() if method == 'POST' else {})
        except BadRequest as e:
            self.note = str(e)
            self.send_error_json(e.status, str(e), openai, e.param, e.code)
        except ConnectionError as e:  # the client went away (or the server is stopping): the generation ended
            self.close_connection, self.note = True, f"stopped: {e}"
        except Exception as e:  # a bug or a failing device: one line here, an error there, the server lives on
            self.note = f"{type(e).__name__}: {e}"
            self.send_error_json(500, f"internal error: {self.note}", openai, kind='server_error')
        sys.stderr.write(f"serve: {self.client_address[0]} {method} {self.path} {self.status} "
                         f"{time.time() - started:.2f}s {self.note}\n")

    def read_json(self):
        if self.headers.get('Transfer-Encoding'):
            self.close_connection = True  # the body stays unread, so the connection cannot carry another request
            raise BadRequest(411, "send the request body with a Content-Length")
        length = self.headers.get('Content-Length') or '0'
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            self.close_connection = True
            raise BadRequest(413, f"the request body must be at most {MAX_BODY_BYTES:,} bytes")
        try:
            body = json.loads(self.rfile.read(int(length)) or b'null')
        except (ValueError, RecursionError):
            raise BadRequest(400, "the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise BadRequest(400, "the request body must be a JSON object")
        return body

    def send_body(self, status, data, content_type):
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, status, obj):
        self.send_body(status, json.dumps(obj).encode(), 'application/json')

    def start_stream(self, content_type):
        self.send_response(200)
        self.send_header('Content-Type', content_type)
        self.send_header('Transfer-Encoding', 'chunked')  # the length is known only when the reply ends
        self.end_headers()
        self.streaming = True

    def send_chunk(self, text):
        data = text.encode()
        self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))

    def end_stream(self):
        self.wfile.write(b'0\r\n\r\n')

    def send_error_json(self, status, message, openai, param=None, code=None, kind='invalid_request_error'):
        error = {'message': message, 'type': kind, 'param': param, 'code': code} if openai else message
        try:
            if not self.streaming:
                self.send_json(status, {'error': error})
            else:  # the status line has gone out: the error goes into the stream, where both APIs' clients look
                line = json.dumps({'error': error})
                self.send_chunk(f"data: {line}\n\n" if openai else line + '\n')
                self.end_stream()
        except OSError:
            self.close_connection = True


def make_server(model, enc, model_name, host='127.0.0.1', port=11435, defaults=None):
    """A ThreadingHTTPServer for model (a model.GPT in eval mode) and its tokenizer, bound but not yet serving."""
    try:
        server = ThreadingHTTPServer((host, port), Handler)
    except (OSError, OverflowError) as e:
        raise UserError(f"cannot listen on {host}:{port} ({getattr(e, 'strerror', None) or e}); pick another "
                        f"--port or --host, or stop what is using it") from None
    params, cfg = list(model.parameters()), model.config
    n_params = sum(p.numel() for p in params)
    server.model, server.enc, server.device = model, enc, params[0].device
    server.name = model_name if ':' in model_name else model_name + ':latest'
    server.names = {server.name, server.name.removesuffix(':latest')}
    server.defaults = {**SAMPLE_DEFAULTS, **(defaults or {})}
    # One generation at a time: requests on one device gain nothing by interleaving, and each holds a
    # key/value cache, so memory stays that of one. The others wait on the lock (in no promised order).
    server.lock = threading.Lock()
    server.stopping = threading.Event()  # set on Ctrl-C: a generation in progress ends at its next token
    server.connections = set()  # the open ones, so stopping can close those that wait for another request
    server.daemon_threads = False  # so server_close() waits for each request's thread (stop_serving)
    server.started, server.modified_at = time.time(), now_iso()
    server.size_bytes = sum(p.numel() * p.element_size() for p in params)
    dtype = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16'}.get(params[0].dtype, 'other')
    server.details = {'parent_model': '', 'format': 'safetensors', 'family': 'gpt1', 'families': ['gpt1'],
                      'parameter_size': f"{n_params / 1e6:.2f}M", 'quantization_level': dtype}
    # Ollama's clients read the context length as <architecture>.context_length
    server.model_info = {'general.architecture': 'gpt1', 'general.parameter_count': n_params,
                         'gpt1.context_length': cfg.block_size, 'gpt1.embedding_length': cfg.n_embd,
                         'gpt1.block_count': cfg.n_layer, 'gpt1.attention.head_count': cfg.n_head,
                         'gpt1.vocab_size': cfg.vocab_size}
    # what /api/generate does with system and prompt, in Ollama's template language
    server.template = ('{{ if .System }}<|system|>{{ .System }}<|end|>{{ end }}<|user|>{{ .Prompt }}<|end|>'
                       '<|assistant|>' if END_TURN in enc._special_tokens
                       else '{{ if .System }}{{ .System }}\n{{ end }}{{ .Prompt }}')
    return server


def serve(model, enc, model_name, host='127.0.0.1', port=11435, defaults=None):
    """Serve until Ctrl-C or SIGTERM (common.run_command makes that a KeyboardInterrupt too). defaults: the
    sampling settings a request leaves out (SAMPLE_DEFAULTS' keys)."""
    server = make_server(model, enc, model_name, host, port, defaults)
    print(f"serving {server.name} at http://{host}:{server.server_address[1]} (Ollama's API under /api, "
          f"OpenAI's under /v1); Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopped serving", file=sys.stderr)
    finally:
        stop_serving(server)


def stop_serving(server):
    """End the generation in progress and every connection, and wait for their threads: a thread that used
    torch and is still ending while the interpreter exits aborts the process ('terminate called ...')."""
    server.stopping.set()  # a generation ends at its next token
    for sock in list(server.connections):
        try:
            sock.shutdown(socket.SHUT_RDWR)  # a thread waiting for the next request on it wakes and ends
        except OSError:
            pass
    server.server_close()  # joins the request threads
