"""
Settings from the command line: defaults, then a config file of plain assignments, then --key=value flags.
Every value is checked against the default's type, its allowed choices and its range, so a typo, a wrong
type or an impossible value stops at once with one line.
"""
import ast
import difflib
import os

from data import UserError


def set_setting(cfg, defaults, choices, limits, key, value, where):
    if key not in defaults:
        near = difflib.get_close_matches(key, defaults, n=1)
        raise UserError(f"{where}: unknown setting '{key}'" + (f" (did you mean '{near[0]}'?)" if near else '')
                        + "; the settings are listed at the top of train.py")
    want = type(defaults[key])
    if want is float and type(value) is int:
        value = float(value)  # an int where a float is expected is fine
    if type(value) is not want and not (defaults[key] == 'auto' and isinstance(value, bool)):  # compile=True
        raise UserError(f"{where}: '{key}' must be {want.__name__}, got {type(value).__name__} {value!r}")
    if key in choices and value not in choices[key]:
        raise UserError(f"{where}: '{key}' must be one of {', '.join(map(str, choices[key]))}, got {value!r}")
    lo, hi = limits.get(key, (None, None))
    if lo is not None and value < lo or hi is not None and value > hi:
        raise UserError(f"{where}: '{key}' must be " + (f"between {lo} and {hi}" if hi is not None else f"at least {lo}")
                        + f", got {value!r}")
    cfg[key] = value


def apply_overrides(defaults, choices, limits, argv):
    """Return a copy of defaults with the config files and --key=value flags in argv applied in order."""
    cfg = dict(defaults)
    for arg in argv:
        if not arg.startswith('--'):
            if not os.path.isfile(arg):
                raise UserError(f"config file '{arg}' not found (configs/ lists the presets)")
            namespace = {}
            try:
                with open(arg) as f:
                    exec(f.read(), {}, namespace)
            except SyntaxError as e:
                raise UserError(f"{arg}, line {e.lineno}: {e.msg}; a config holds plain assignments") from None
            except Exception as e:  # a NameError, a division by zero, ...: the config's own code failed
                raise UserError(f"{arg} failed to run ({type(e).__name__}: {e}); a config holds plain assignments") from None
            for key, value in namespace.items():
                if not key.startswith('_') and not callable(value) and type(value).__name__ != 'module':
                    set_setting(cfg, defaults, choices, limits, key, value, arg)
        else:
            key, sep, text = arg[2:].partition('=')
            if not sep:
                raise UserError(f"flag '{arg}' needs a value: --{key}=VALUE")
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                value = text  # a bare word is a string
            if isinstance(defaults.get(key), str) and defaults[key] != 'auto':
                value = text  # strings never need quotes
            elif defaults.get(key) == 'auto' and not isinstance(value, bool):
                value = text
            set_setting(cfg, defaults, choices, limits, key, value, f'--{key}')
    return cfg


def ask_interactively(sizes):
    """The original product's interactive mode (train.py with no arguments on a terminal): ask for what a
    config file would say, and return it as flags."""
    print("Text2GPT1: describe the model you want in one sentence.")
    answers = {'prompt': input("prompt> ").strip(),
               'size': input(f"size [{'/'.join(sizes)}, default {sizes[0]}]> ").strip() or sizes[0],
               'generation_method': input("data [template/ollama/openai, default template]> ").strip() or 'template'}
    return [f'--{k}={v}' for k, v in answers.items()]
