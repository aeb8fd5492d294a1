"""settings.py: defaults, config files and flags, and the one-line errors for settings that cannot work."""
import json
import os
import shutil

import pytest

import model as gpt
import settings
from common import UserError
from conftest import ROOT


def test_config_file_then_flags_override_the_defaults(tmp_path):
    cfg_file = tmp_path / 'c.py'
    cfg_file.write_text("batch_size = 3\nlearning_rate = 1e-3\nprompt = 'poems'\n")
    cfg = settings.load_config([str(cfg_file), '--batch_size=5', '--prompt=A GPT for haiku'])
    assert cfg['batch_size'] == 5 and cfg['learning_rate'] == 1e-3 and cfg['prompt'] == 'A GPT for haiku'
    assert cfg['weight_decay'] == settings.DEFAULTS['weight_decay']


def test_size_preset_fills_the_model_shape():
    cfg = settings.load_config(['--size=33M', '--n_layer=4'])
    assert (cfg['n_layer'], cfg['n_embd'], cfg['block_size']) == (4, 512, 512)


def test_an_int_is_accepted_where_a_float_is_expected():
    assert settings.load_config(['--learning_rate=1'])['learning_rate'] == 1.0


@pytest.mark.parametrize('flag,words', [('--batch_sise=3', ["unknown setting 'batch_sise'", "batch_size"]),
                                        ('--batch_size=2.5', ["'batch_size' must be int"]),
                                        ('--size=5M', ["'size' must be one of"]),
                                        ('--batch_size', ["needs a value"]),
                                        ('--batch_size=0', ["'batch_size' must be at least 1, got 0"]),
                                        ('--max_iters=-5', ["'max_iters' must be at least 1"]),
                                        ('--dropout=1.5', ["'dropout' must be between 0.0 and 0.9"]),
                                        ('--learning_rate=-1e-3', ["'learning_rate' must be at least 0"]),
                                        ('--compile=maybe', ["'compile' must be one of auto, True, False"]),
                                        ('--n_embd=102', ["n_embd 102 must be a multiple of n_head 4"])])
def test_bad_settings_fail_with_a_sentence_naming_the_key(flag, words):
    with pytest.raises(UserError) as e:
        settings.load_config([flag])
    for w in words:
        assert w in str(e.value)


def test_compile_takes_true_false_or_auto():
    assert [settings.load_config([f'--compile={v}'])['compile'] for v in ('True', 'False', 'auto')] == [True, False, 'auto']


def test_unknown_key_in_a_config_file_names_the_file(tmp_path):
    cfg_file = tmp_path / 'c.py'
    cfg_file.write_text("max_iter = 3\n")
    with pytest.raises(UserError, match=r"c.py: unknown setting 'max_iter'"):
        settings.load_config([str(cfg_file)])


def test_a_config_whose_code_fails_is_one_clear_error(tmp_path):
    cfg_file = tmp_path / 'c.py'
    cfg_file.write_text("max_iters = 10 // 0\n")
    with pytest.raises(UserError, match=r"c.py failed to run \(ZeroDivisionError"):
        settings.load_config([str(cfg_file)])


def test_interactive_mode_asks_for_prompt_size_and_method(monkeypatch):
    answers = iter(['A GPT that writes haiku', '33M', ''])
    monkeypatch.setattr('builtins.input', lambda question: next(answers))
    cfg = settings.load_config(settings.ask_interactively(tuple(gpt.PRESETS)))
    assert (cfg['prompt'], cfg['size'], cfg['generation_method']) == ('A GPT that writes haiku', '33M', 'template')


@pytest.mark.parametrize('key', ['learning_rate', 'min_lr', 'beta1', 'eps', 'dropout', 'grad_clip', 'val_fraction',
                                 'epochs', 'weight_decay'])
@pytest.mark.parametrize('value', ['nan', 'inf', '-inf'])
def test_nan_and_infinity_are_refused_for_every_float_setting(key, value):
    with pytest.raises(UserError, match=f"--{key}: '{key}' must be a finite number"):
        settings.load_config([f'--{key}={value}'])


def test_every_float_setting_is_checked_for_nan_from_a_config_file_too(tmp_path):
    floats = [k for k, v in settings.DEFAULTS.items() if type(v) is float]
    assert len(floats) > 10
    for key in floats:
        cfg_file = tmp_path / 'nan.py'
        cfg_file.write_text(f"{key} = float('nan')\n")
        with pytest.raises(UserError, match=f"'{key}' must be a finite number"):
            settings.load_config([str(cfg_file)])


def test_a_config_saved_with_a_byte_order_mark_is_read(tmp_path):
    cfg_file = tmp_path / 'bom.py'
    cfg_file.write_bytes('\ufeffbatch_size = 3\nprompt = "poèmes"\n'.encode('utf-8'))
    cfg = settings.load_config([str(cfg_file)])
    assert cfg['batch_size'] == 3 and cfg['prompt'] == 'poèmes'


def test_interactive_mode_asks_before_training_stories_on_a_prompt_no_domain_matches(monkeypatch, capsys):
    answers = iter(['A chatbot for legal contract review', '', '', 'n',
                    'A chatbot for legal contract review', '', '', 'y'])
    monkeypatch.setattr('builtins.input', lambda question: next(answers))
    cfg = settings.load_config(settings.ask_interactively(tuple(gpt.PRESETS)))
    out = capsys.readouterr().out
    assert out.count("will write children's stories") == 2 and "teacher model" in out
    assert cfg['prompt'] == 'A chatbot for legal contract review'


def test_flags_work_as_key_value_pairs_with_hyphens_and_the_original_names():
    cfg = settings.load_config(['--max-iters', '50', '--prompt', 'Poems about rain', '--model-size', 'medium',
                                '--learning_rate=0.002', '--overwrite', '--norm-first', 'False', '--eval_iters=3'])
    assert (cfg['max_iters'], cfg['prompt'], cfg['size'], cfg['learning_rate']) == (50, 'Poems about rain', '33M', 0.002)
    assert cfg['overwrite'] is True and cfg['norm_first'] is False and cfg['eval_iters'] == 3
    assert cfg['n_layer'] == gpt.PRESETS['33M']['n_layer']  # the shape follows the named size


@pytest.mark.parametrize('name,size', [('small', '12M'), ('medium', '33M'), ('large', '117M'), ('117M', '117M')])
def test_size_accepts_the_original_names(name, size, tmp_path):
    assert settings.load_config([f'--size={name}'])['size'] == size
    (tmp_path / 'c.py').write_text(f"size = '{name}'\n")
    assert settings.load_config([str(tmp_path / 'c.py')])['size'] == size


def test_a_flag_without_its_value_or_a_wrong_size_is_one_line():
    with pytest.raises(UserError, match=r"flag '--max_iters' needs a value"):
        settings.load_config(['--max-iters'])
    with pytest.raises(UserError, match=r"'size' must be one of 4M, 12M, 33M, 117M \(or small, medium, large\), got 'huge'"):
        settings.load_config(['--size', 'huge'])
    with pytest.raises(UserError, match=r"unknown setting 'max_iter' \(did you mean 'max_iters'\?\)"):
        settings.load_config(['--max-iter', '5'])


def test_the_defaults_block_shows_the_default_sizes_column_of_the_size_table():
    # a reader of settings.py sees the values a run of the default size uses
    column = list(gpt.PRESETS).index(settings.DEFAULTS['size'])
    assert {k: settings.DEFAULTS[k] for k in settings.SIZE_DEFAULTS} == {k: v[column] for k, v in settings.SIZE_DEFAULTS.items()}
    assert all(len(v) == len(gpt.PRESETS) for v in settings.SIZE_DEFAULTS.values())


# presets that start from a model, which must be on disk when they load: a folder the user trained, GPT-2
STARTS_FROM_A_MODEL = ('cooking_from_general.py', 'chat_gpt2_finetune.py')


@pytest.fixture
def start_models(trained_run, tmp_path, monkeypatch):
    """Stand-ins where those presets look: a trained folder at models/general_small under the working folder,
    and GPT-2's config.json in the Hugging Face cache (settings read a start model's shape, not its weights)."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(trained_run, tmp_path / 'models' / 'general_small')
    snapshot = tmp_path / 'hub' / 'models--gpt2' / 'snapshots' / 'rev'
    snapshot.mkdir(parents=True)
    (snapshot / 'config.json').write_text(json.dumps({'model_type': 'gpt2', 'architectures': ['GPT2LMHeadModel'],
                                                      'n_layer': 12, 'n_head': 12, 'n_embd': 768, 'n_positions': 1024,
                                                      'vocab_size': 50257, 'activation_function': 'gelu_new'}))
    (snapshot / 'model.safetensors').write_bytes(b'')  # present; its weights are read only when training starts
    monkeypatch.setenv('HF_HUB_CACHE', str(tmp_path / 'hub'))


@pytest.mark.parametrize('name', sorted(n for n in os.listdir(os.path.join(ROOT, 'configs')) if n.endswith('.py')))
def test_every_preset_loads_and_the_template_presets_change_only_what_they_say(name, request):
    path = os.path.join(ROOT, 'configs', name)
    if name in STARTS_FROM_A_MODEL:
        request.getfixturevalue('start_models')
    cfg = settings.load_config([path])
    assert (cfg['prompt'] or cfg['sources']) and cfg['size'] in gpt.PRESETS
    if name in ('cooking_small.py', 'poetry_small.py', 'technical_small.py', 'general_small.py', 'cooking_medium.py'):
        namespace = {}
        exec(open(path, encoding='utf-8').read(), {}, namespace)
        own = {'cooking_small.py': {'batch_size', 'sample_temperature', 'quality_samples'}}.get(name, set())  # its comments say why
        assert set(namespace) == {'prompt', 'size'} | own  # everything else is its size's column of SIZE_DEFAULTS
        assert cfg == settings.load_config([f"--prompt={cfg['prompt']}", f"--size={cfg['size']}"]
                                           + [f"--{key}={namespace[key]}" for key in sorted(own)])


def test_the_presets_that_start_from_a_model_take_its_shape_and_the_fine_tuning_defaults(start_models):
    general = settings.load_config([os.path.join(ROOT, 'configs', 'cooking_from_general.py')])
    assert general['start_from'] == 'models/general_small' and general['n_embd'] == 32  # the stand-in's shape
    assert general['learning_rate'] == settings.FINETUNE_DEFAULTS['learning_rate'][list(gpt.PRESETS).index(general['size'])]
    chat = settings.load_config([os.path.join(ROOT, 'configs', 'chat_gpt2_finetune.py')])
    assert chat['start_from'] == 'hf:gpt2' and chat['size'] == '117M' and chat['norm_first'] and chat['block_size'] == 640
    assert chat['learning_rate'] == settings.FINETUNE_DEFAULTS['learning_rate'][list(gpt.PRESETS).index('117M')] and chat['tokenizer'] == 'gpt2'


def test_without_their_model_those_presets_say_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('HF_HUB_CACHE', str(tmp_path / 'empty_cache'))
    with pytest.raises(UserError, match=r"'models/general_small' is no folder here"):
        settings.load_config([os.path.join(ROOT, 'configs', 'cooking_from_general.py')])
    with pytest.raises(UserError, match=r"huggingface-cli download gpt2"):
        settings.load_config([os.path.join(ROOT, 'configs', 'chat_gpt2_finetune.py')])


def test_a_run_is_named_by_its_preset_or_by_the_shape_its_config_chose():
    assert settings.size_label(settings.load_config(['--size=33M', '--block_size=128'])) == '33M'
    assert settings.size_label(settings.load_config(['--n_layer=3', '--n_embd=192', '--n_head=4'])) == '3x192'
    assert settings.size_label(settings.load_config(['--size=12M', '--n_layer=4', '--n_embd=256', '--n_head=4'])) == '4x256'
