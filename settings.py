"""
Every setting of Text2GPT1 with its default, and how a run's settings are read: the defaults below, then a
config file of plain assignments, then --key=value flags. Every value is checked against the default's
type, its allowed choices and its range, so a typo, a wrong type or an impossible value stops at once
with one line. train.py and data.py both read their settings through load_config.
"""
import ast
import difflib
import math
import os

import model as gpt
from checkpoint import read_start_model
from common import UserError
from tokenizer import TOKENIZER_KINDS
from words import UNMATCHED_NOTE, detect_domain

# -----------------------------------------------------------------------------
# Defaults. Every knob is here; configs/ and --key=value override them. *per size: the values below are the
# 4M size's; SIZE_DEFAULTS under this list has each size's own, used where a config and flags leave them alone.
# I/O
out_dir = ''  # '' = models/<domain>_<size>_<YYYYmmdd_HHMMSS> (size_label: '4x256' for a shape of the config's own)
dataset_dir = ''  # a prepared folder (train.bin, val.bin, meta.json, tokenizer.json; or nanoGPT's: GPT-2 ids, no meta.json): skips the data steps
init_from = 'scratch'  # 'scratch', 'resume' (continue exactly from out_dir/ckpt.pt), a folder this product trained, or 'hf:PATH' / 'hf:gpt2' (README, "Start from a model")
# what to build (data.py, templates.py)
prompt = ''  # the one sentence describing the model
size = '4M'  # model preset: '4M', '12M', '33M' or '117M' (model.PRESETS), or the original's small, medium, large
generation_method = 'template'  # 'template' (offline), 'ollama' or 'openai' (teacher.py)
initial_tokens = 3_000_000  # tokens to generate (per size*); 0 = the original product's budget (data.SIZE_TOKEN_TARGETS)
final_tokens = 2_000_000  # tokens kept after refinement (per size*); 0 = the original product's budget
tokenizer = 'bpe'  # 'bpe' (trained on the run's data) or 'gpt2' (tiktoken, 50,257 tokens)
val_fraction = 0.0  # share of documents held out for validation; 0 = 0.1 for generated data, 0.15 for sources
overwrite = False  # replace a trained model in out_dir, or train.jsonl / eval.jsonl another data step wrote
# users' own text (corpora.py): when set, these are the data instead of generated documents
sources = ''  # 'KIND:PATH[@WEIGHT], ...': files (txt/md/jsonl), code (a folder), git (a repo), chat (an app's export, session logs, jsonl)
code_extensions = 'py,js,ts,jsx,tsx,sql,css,html,md,sh,c,h,cpp,go,rs,java,rb'  # files the 'code' source reads
code_per_file = 6  # 'code': windows taken from each file
max_chars = 1600  # 'code' windows and 'files' chunks: at most this many characters
fim_rate = 0.5  # 'code': share of windows turned into fill-in-the-middle examples (the rest stay plain)
fim_spans = 'chars'  # 'code': a FIM middle cut at any two characters (the FIM paper's), or 'lines': whole lines, mostly one
git_max_files = 20  # 'git': skip commits touching more files than this
git_max_lines = 400  # 'git': skip commits changing more lines than this
redact = 'auto'  # e-mails, phones, IPs, keys, home-folder user names: 'auto' = in chat and git; True/False = all/none
max_tokens = 2048  # sources: drop documents longer than this many tokens (counted in the length scan)
name = ''  # sources: names this set's files, train.NAME.jsonl, eval.NAME.jsonl (another name never overwrites them)
# problems to solve (problems.py, verify.py): a prompt about math, or a problems_file
problems_file = ''  # MATH / GSM8K (JSON or JSONL) or APPS-style problems; '' = generated math word problems
max_level = 5  # generated math problems of levels 1 (one small sum) to 5 (linear equations)
solutions_per_problem = 4  # teacher solutions asked per problem; only those that check out are kept
solutions_kept_per_problem = 2  # of a problem's correct solutions, the most trained on: steps shown first, then shortest
mix = {}  # generated problems by share of the kept tokens, e.g. {'math': 0.5, 'code': 0.5}; {} = the prompt's (math)
eval_problems = 100  # after training a math or code model: held-out problems per level it is measured on; 0 = skip
# teacher models (teacher.py)
teacher_url = ''  # '' = OLLAMA_HOST or http://localhost:11434
gen_model = 'llama3.1:8b'  # writes the samples
judge_model = 'qwen2.5:7b'  # scores them; '' = heuristic scores only
api_key_env = ''  # NAME of the environment variable holding an API key (the key is never logged)
gen_temperature = 0.8
gen_top_p = 0.9
num_predict = 150  # max tokens per teacher reply
concurrency = 4  # teacher requests in flight
fallback = 'template'  # server down: 'template' (warn and go on) or 'none' (stop)
teacher_device = 'cpu'  # where the teacher runs: picks timeouts, 'cpu' (5/300/60 s) or 'gpu' (5/30/10 s)
connect_timeout_s = 0.0  # 0 = teacher_device's
generate_timeout_s = 0.0
judge_timeout_s = 0.0
# model (0 = the size preset's value)
n_layer = 0
n_head = 0
n_embd = 0
block_size = 0
vocab_size = 0  # BPE vocabulary to train; the model uses the tokenizer's real size
dropout = 0.0  # per size*
bias = True
norm_first = False  # False = GPT-1 post-LayerNorm, True = GPT-2 pre-LayerNorm
# optimisation: AdamW with the original product's settings, or Muon for the blocks' matrices
optimizer = 'adamw'  # 'adamw', or 'muon': Muon for the blocks' weight matrices, AdamW for the rest (optimizers.Muon)
muon_learning_rate = 0.02  # Muon's peak rate; the schedule scales it as it scales learning_rate
batch_size = 4  # per size*
doc_aligned = True  # every training window starts at a document's start (as sampling does), not anywhere (per size*)
gradient_accumulation_steps = 1  # per size*; effective batch = batch_size * this * number of processes
max_iters = 2500  # per size*; with patience, a run on little data ends when val loss stops improving
epochs = 0.0  # > 0 replaces max_iters: passes over the training tokens
learning_rate = 1e-3  # per size*
min_lr = 1e-4  # cosine decays to this (per size*)
warmup_iters = 100  # per size*
lr_decay_iters = 0  # 0 = max_iters
weight_decay = 0.01
beta1 = 0.9
beta2 = 0.999
eps = 1e-8
grad_clip = 1.0  # 0 = off
# fine-tuning: a run with a start model (init_from a folder or 'hf:...') takes FINETUNE_DEFAULTS, below
lora_rank = 0  # 0 = every weight trains; N = only rank-N adapters on the attention and MLP projections (model.py)
lora_alpha = 0.0  # the adapters' scale is lora_alpha / lora_rank; 0 = 2 * lora_rank (LoRA's usual r=8, alpha=16)
# evaluation and logging
eval_interval = 500  # per size*
eval_iters = 8  # per size*
log_interval = 20  # per size*
patience = 3  # stop after this many evaluations without a better val loss; 0 = off (per size*)
quality_samples = 20  # after training: documents sampled for the quality report (quality.py); 0 = skip
sample_temperature = 0.8  # how this model is sampled (top-k 40): the quality report's and sample.py's default (config.json keeps it); 0 = greedy
quality_interval = 0  # also every N iterations while training: the report on the weights as they are (log, metrics.jsonl); 0 = off
# system
seed = 1337
device = 'auto'  # 'auto' = cuda, then mps, then cpu
dtype = 'auto'  # 'auto', 'float32', 'bfloat16' or 'float16'
compile = 'auto'  # 'auto' = on for CUDA; True / False to force
cpu_peak_flops = 0.0  # MFU denominator on CPU; 0 = measure once
# -----------------------------------------------------------------------------
DEFAULTS = {k: v for k, v in globals().items() if not k.startswith('_') and isinstance(v, (int, float, bool, str, dict))}

# The measured best settings of each size. A run takes them for every setting its config and flags leave
# alone, so `--prompt=...` alone trains as the presets do; a preset's comments say which of them it changes.
# The token budgets are for template data: a teacher writes the original product's (data.SIZE_TOKEN_TARGETS),
# since each of its samples costs a model call; users' own text (sources) is used whole. Early stopping
# (patience) ends a run on little data when its val loss stops improving.
# How they were chosen, and what they give: README, "Presets".
SIZE_DEFAULTS = {  # setting: (4M, 12M, 33M, 117M); 117M's are GPT-1's own (the paper's rate, warm-up, dropout, batch)
    'initial_tokens': (3_000_000, 1_600_000, 1_600_000, 40_000_000),
    'final_tokens': (2_000_000, 800_000, 800_000, 20_000_000),
    'batch_size': (4, 4, 4, 16),
    'gradient_accumulation_steps': (1, 1, 1, 4),
    'max_iters': (2500, 1200, 300, 10_000),
    'learning_rate': (1e-3, 1e-3, 6e-4, 2.5e-4),
    'min_lr': (1e-4, 1e-4, 6e-5, 0.0),
    'warmup_iters': (100, 100, 30, 2000),
    'dropout': (0.0, 0.0, 0.0, 0.1),
    'eval_interval': (500, 200, 100, 500),
    'eval_iters': (8, 8, 8, 20),
    'log_interval': (20, 20, 10, 20),
    'patience': (3, 3, 3, 4),
    'doc_aligned': (True, True, True, True),
}
# A run that starts from a model fine-tunes it: for whatever its config and flags leave alone it takes this table's
# column for the start model's size, over SIZE_DEFAULTS. A lower peak rate, so what the model knows is adjusted
# rather than washed out; a short warm-up (the weights are good already); a few passes over the data (epochs,
# unless max_iters is set) with frequent evaluations and early stopping on val; and the 12M template budget
# for every size: the data fit the task, not the model (a teacher's and users' own text are as above). GPT-1's
# own fine-tuning (paper section 4.1): rate 6.25e-5, batch 32, 3 epochs, warm-up over 0.2% of the steps.
# Measured at 12M (README, "Start from a model"): continuing a cooking folder on vegan Japanese recipes, 3e-4
# beat the from-scratch rate 1e-3 (95% vs 90% well-formed, 50% vs 20% of recipes cooking only what they list)
# and both beat training from scratch; the 4M column is the 12M's and the 33M and 117M rates are scaled from
# it, none of them measured.
FINETUNE_DEFAULTS = {  # setting: (4M, 12M, 33M, 117M)
    'initial_tokens': (1_600_000, 1_600_000, 1_600_000, 1_600_000),
    'final_tokens': (800_000, 800_000, 800_000, 800_000),
    'epochs': (2.0, 2.0, 2.0, 2.0),
    'learning_rate': (3e-4, 3e-4, 2e-4, 1e-4),
    'min_lr': (3e-5, 3e-5, 2e-5, 1e-5),
    'warmup_iters': (20, 20, 20, 20),
    'batch_size': (4, 4, 4, 8),
    'gradient_accumulation_steps': (1, 1, 1, 4),  # 117M: GPT-1's 32 sequences a step
    'eval_interval': (100, 100, 100, 20),
    'patience': (3, 3, 3, 3),
}
CHOICES = {'size': tuple(gpt.PRESETS), 'tokenizer': TOKENIZER_KINDS,
           'generation_method': ('template', 'ollama', 'openai'), 'fallback': ('template', 'none'),
           'teacher_device': ('cpu', 'gpu'), 'device': ('auto', 'cpu', 'cuda', 'mps'),
           'dtype': ('auto', 'float32', 'bfloat16', 'float16'), 'compile': ('auto', True, False),
           'redact': ('auto', True, False), 'optimizer': ('adamw', 'muon'), 'fim_spans': ('chars', 'lines')}
# (lowest, highest) allowed; None = no bound. Shapes may be 0, meaning the size preset's value.
LIMITS = {**{k: (1, None) for k in ('batch_size', 'gradient_accumulation_steps', 'max_iters', 'eval_interval',
                                    'eval_iters', 'log_interval', 'concurrency', 'num_predict',
                                    'solutions_per_problem', 'solutions_kept_per_problem', 'code_per_file', 'max_chars', 'git_max_files',
                                    'git_max_lines', 'max_tokens')},
          **{k: (0, None) for k in ('n_layer', 'n_head', 'n_embd', 'block_size', 'vocab_size', 'initial_tokens',
                                    'final_tokens', 'epochs', 'learning_rate', 'muon_learning_rate', 'min_lr', 'warmup_iters', 'lr_decay_iters',
                                    'weight_decay', 'eps', 'grad_clip', 'patience', 'gen_temperature', 'sample_temperature', 'cpu_peak_flops',
                                    'connect_timeout_s', 'generate_timeout_s', 'judge_timeout_s')},
          'dropout': (0.0, 0.9), 'val_fraction': (0.0, 0.5), 'fim_rate': (0.0, 1.0), 'beta1': (0.0, 0.9999), 'beta2': (0.0, 0.9999),
          'gen_top_p': (0.01, 1.0), 'max_level': (1, 5), 'eval_problems': (0, None), 'quality_samples': (0, None),
          'quality_interval': (0, None), 'lora_rank': (0, None), 'lora_alpha': (0, None)}


def help_text(usage):
    """A script's usage, then every setting with its default and comment, read from this file's defaults."""
    with open(os.path.abspath(__file__), encoding='utf-8') as f:
        source = f.read()
    start = source.index('# Defaults.')
    block = source[start:source.index('# ----', start)]
    return (usage.strip() + "\n\nSettings (--key=value, --key value or --key-name value; a config file sets them "
            "as plain assignments):\n\n" + block.rstrip())


def load_config(argv, settings=None):
    """The settings as a dict: the defaults above, then config files and --key=value flags in argv order,
    then the dict settings (train.run's), each checked alike; then the size's SIZE_DEFAULTS for whatever
    none of them chose, and the size preset's shape wherever a shape setting was left at 0. A run that starts
    from a model (init_from) takes that model's shape and size instead, and FINETUNE_DEFAULTS over SIZE_DEFAULTS;
    cfg['start_from'] names the model ('' from scratch; a resumed run's from its config.json)."""
    cfg, chosen = apply_overrides(DEFAULTS, CHOICES, LIMITS, argv)
    if not isinstance(settings or {}, dict):
        raise UserError(f"settings must be a dict like {{'prompt': '...'}}, got {type(settings).__name__}")
    for key, value in (settings or {}).items():
        key = setting_name(str(key))
        set_setting(cfg, DEFAULTS, CHOICES, LIMITS, key, value, 'settings')
        chosen.add(key)
    start = read_start_model(cfg['init_from'], cfg['out_dir'])
    cfg['start_from'] = start['spec'] if start else ''
    if start:
        take_start_model(cfg, chosen, start)
    elif cfg['lora_rank']:
        raise UserError("lora_rank trains adapters on a model that already knows something: set init_from to a "
                        "trained folder or 'hf:...' as well (README, 'Start from a model')")
    column = tuple(gpt.PRESETS).index(cfg['size'])
    for key, values in SIZE_DEFAULTS.items():
        if key not in chosen:
            cfg[key] = values[column]
    for key, values in FINETUNE_DEFAULTS.items() if start else ():
        if key not in chosen and not (key == 'epochs' and 'max_iters' in chosen):  # a set max_iters stays
            cfg[key] = values[column]
    for key in ('initial_tokens', 'final_tokens'):
        if key not in chosen and (cfg['generation_method'] != 'template' or cfg['sources']):
            cfg[key] = 0  # a teacher's budget is data.SIZE_TOKEN_TARGETS; users' own text has none
    for key in ('n_layer', 'n_head', 'n_embd', 'block_size', 'vocab_size'):
        if cfg[key] == 0:
            cfg[key] = gpt.PRESETS[cfg['size']][key]
    if cfg['n_embd'] % cfg['n_head']:
        raise UserError(f"n_embd {cfg['n_embd']} must be a multiple of n_head {cfg['n_head']} (each head gets n_embd/n_head)")
    if cfg['tokenizer'] == 'gpt2':
        cfg['vocab_size'] = 50257
    return cfg


def take_start_model(cfg, chosen, start):
    """A run started from a model is that model: its shape, tokenizer and size (the column of the tables
    above). A setting that says otherwise is refused in one line; block_size may be lowered, not raised."""
    args = start['model_args']
    fixed = dict({k: args[k] for k in ('n_layer', 'n_head', 'n_embd', 'block_size', 'vocab_size', 'bias', 'norm_first')},
                 size=start['size'] or nearest_size(args), tokenizer=start['tokenizer'])
    for key, value in fixed.items():
        shorter = key == 'block_size' and 0 < cfg[key] < value
        if key in chosen and cfg[key] not in (0, value) and not shorter:
            why = (f"it learned positions up to {value} only: use at most that" if key == 'block_size' else
                   f"a run started from a model keeps its shape and tokenizer: drop the {key} setting")
            raise UserError(f"init_from={start['spec']!r} is a model with {key}={value!r}, but the settings say "
                            f"{key}={cfg[key]!r}; {why}")
        if not shorter:
            cfg[key] = value


def size_label(cfg):
    """The size a run's folder is named by: the preset's name, or layers x width when the config changed
    the shape (a 4 x 256 model named '12M' would mislead)."""
    preset = gpt.PRESETS[cfg['size']]
    if (cfg['n_layer'], cfg['n_embd']) == (preset['n_layer'], preset['n_embd']):
        return cfg['size']
    return f"{cfg['n_layer']}x{cfg['n_embd']}"


def nearest_size(model_args):
    """The size preset nearest a model's parameter count (on a log scale), for a model not trained here."""
    def params(a):
        return 12 * a['n_layer'] * a['n_embd'] ** 2 + (a['vocab_size'] + a['block_size']) * a['n_embd']
    return min(gpt.PRESETS, key=lambda size: abs(math.log(params(gpt.PRESETS[size]) / params(model_args))))


def finetune_note(cfg):
    """The line a run started from a model prints: the fine-tuning defaults it runs with."""
    column = tuple(gpt.PRESETS).index(cfg['size'])
    taken = [f"{k}={cfg[k]:{',' if isinstance(cfg[k], int) else 'g'}}" for k, values in FINETUNE_DEFAULTS.items()
             if cfg[k] == values[column]]
    return (f"fine-tuning {cfg['start_from']} with the {cfg['size']} column of settings.FINETUNE_DEFAULTS: "
            f"{', '.join(taken) or 'none of them'} (a config or flag sets any of them)")


def set_setting(cfg, defaults, choices, limits, key, value, where):
    """cfg[key] = value, after checking key, type, choice and range; where names the file or flag."""
    if key not in defaults:
        near = difflib.get_close_matches(key, defaults, n=1)
        raise UserError(f"{where}: unknown setting '{key}'" + (f" (did you mean '{near[0]}'?)" if near else '')
                        + "; every setting is listed in settings.py")
    want = type(defaults[key])
    if want is float and type(value) is int:
        value = float(value)  # an int where a float is expected is fine
    if type(value) is not want and not (defaults[key] == 'auto' and isinstance(value, bool)):  # compile=True
        raise UserError(f"{where}: '{key}' must be {want.__name__}, got {type(value).__name__} {value!r}")
    if key == 'size':
        value = SIZE_NAMES.get(value, value)  # 'small' is '12M'
    if key == 'mix':
        check_mix(value, where)
    if key in choices and value not in choices[key]:
        names = f" (or {', '.join(SIZE_NAMES)})" if key == 'size' else ''
        raise UserError(f"{where}: '{key}' must be one of {', '.join(map(str, choices[key]))}{names}, got {value!r}")
    if want is float and not math.isfinite(value):  # NaN passes every comparison, infinity every upper bound
        raise UserError(f"{where}: '{key}' must be a finite number, got {value!r}")
    lo, hi = limits.get(key, (None, None))
    if lo is not None and value < lo or hi is not None and value > hi:
        raise UserError(f"{where}: '{key}' must be " + (f"between {lo} and {hi}" if hi is not None else f"at least {lo}")
                        + f", got {value!r}")
    cfg[key] = value


MIX_KINDS = ('math', 'code')  # the generated problems mix weighs: problems.py's and problems_code.py's


def check_mix(mix, where):
    """A mix names math and/or code, each with a weight of at least 0, and not all 0."""
    numbers = all(type(w) in (int, float) and math.isfinite(w) and w >= 0 for w in mix.values())
    if not set(mix) <= set(MIX_KINDS) or not numbers or not sum(mix.values()) > 0:
        raise UserError(f"{where}: 'mix' must give {' and/or '.join(MIX_KINDS)} a weight of at least 0, not all 0, "
                        f"like {{'math': 0.5, 'code': 0.5}}; got {mix!r}")


# the names the original Text2GPT1 used: --model-size=small
ALIASES = {'model_size': 'size'}
SIZE_NAMES = {'small': '12M', 'medium': '33M', 'large': '117M'}


def setting_name(key):
    """'max-iters' -> 'max_iters', and the original product's names to ours ('model-size' -> 'size')."""
    key = key.replace('-', '_')
    return ALIASES.get(key, key)


def normalise_flags(argv, defaults):
    """argv with every flag as --key=value: '--key value' joined, hyphens in a key read as underscores
    (--max-iters), the original's names mapped to ours (--model-size), and a bare '--flag' of a True/False
    setting read as True. Config file paths pass through."""
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if not arg.startswith('--'):
            out.append(arg)
            continue
        key, sep, text = arg[2:].partition('=')
        key = setting_name(key)
        if not sep:
            is_bool = isinstance(defaults.get(key), bool)
            following = argv[i] if i < len(argv) else '--'
            if not following.startswith('--') and (not is_bool or following in ('True', 'False')):
                text, sep = following, '='
                i += 1
            elif is_bool:
                text, sep = 'True', '='
        out.append(f'--{key}{sep}{text}')
    return out


def apply_overrides(defaults, choices, limits, argv):
    """Return a copy of defaults with the config files and --key=value flags in argv applied in order
    ('--key value' and '--key-name' work too: normalise_flags), and the set of keys they chose."""
    cfg, chosen = dict(defaults), set()
    for arg in normalise_flags(argv, defaults):
        if not arg.startswith('--'):
            if not os.path.isfile(arg):
                raise UserError(f"config file '{arg}' not found (configs/ lists the presets)")
            namespace = {}
            try:
                with open(arg, encoding='utf-8-sig') as f:  # a byte-order mark, as some editors save, is fine
                    exec(f.read(), {}, namespace)
            except SyntaxError as e:
                raise UserError(f"{arg}, line {e.lineno}: {e.msg}; a config holds plain assignments") from None
            except Exception as e:  # a NameError, a division by zero, ...: the config's own code failed
                raise UserError(f"{arg} failed to run ({type(e).__name__}: {e}); a config holds plain assignments") from None
            for key, value in namespace.items():
                if not key.startswith('_') and not callable(value) and type(value).__name__ != 'module':
                    set_setting(cfg, defaults, choices, limits, key, value, arg)
                    chosen.add(key)
        else:
            key, sep, text = arg[2:].partition('=')
            if not sep:
                raise UserError(f"flag '{arg}' needs a value: --{key}=VALUE")
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                value = text  # a bare word is a string
            if isinstance(defaults.get(key), float) and isinstance(value, str):
                try:
                    value = float(text)  # 'nan', 'inf': read as numbers, so the range check names them
                except ValueError:
                    pass
            if isinstance(defaults.get(key), str) and defaults[key] != 'auto':
                value = text  # strings never need quotes
            elif defaults.get(key) == 'auto' and not isinstance(value, bool):
                value = text
            set_setting(cfg, defaults, choices, limits, key, value, f'--{key}')
            chosen.add(key)
    return cfg, chosen


def ask_interactively(sizes):
    """The original product's interactive mode (train.py with no arguments on a terminal): ask for what a
    config file would say, and return it as flags."""
    print("Text2GPT1: describe the model you want in one sentence.")
    while True:
        answers = {'prompt': input("prompt> ").strip(),
                   'size': input(f"size [{'/'.join(sizes)}, default {sizes[0]}]> ").strip() or sizes[0],
                   'generation_method': input("data [template/ollama/openai, default template]> ").strip() or 'template'}
        if answers['generation_method'] != 'template' or not answers['prompt'] or detect_domain(answers['prompt'])[1]:
            return [f'--{k}={v}' for k, v in answers.items()]
        print(f"Note: {UNMATCHED_NOTE}")
        if input("train on children's stories anyway? [y/N]> ").strip().lower() in ('y', 'yes'):
            return [f'--{k}={v}' for k, v in answers.items()]
        print("Then describe it again, naming recipes, poems, how-to guides or stories, or choose a teacher model.")
