# A small code model with fill-in-the-middle, trained on a repository every machine has: the Python
# standard library of the Python running it (found through sysconfig), so it works offline.
#   python train.py configs/code_fim_small.py
#   python sample.py --out_dir=<the folder> --fim_prefix="def mean(xs):" --fim_suffix="    return total / n"
import sysconfig

sources = 'code:' + sysconfig.get_paths()['stdlib']
code_extensions = 'py'
size = '12M'
# The standard library holds ~20M characters; a budget of distinct windows keeps the data step and the
# BPE a few seconds and matches what the training steps can see.
final_tokens = 400_000
fim_rate = 0.5  # half the windows become fill-in-the-middle examples, the rest stay left-to-right code
batch_size = 16
max_iters = 300
dropout = 0.0
learning_rate = 1e-3
min_lr = 1e-4
warmup_iters = 25
eval_interval = 50
eval_iters = 8
log_interval = 5
