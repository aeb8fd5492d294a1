# A small code model with fill-in-the-middle, trained on a repository every machine has: the Python
# standard library of the Python running it (found through sysconfig), so it works offline.
#   python train.py configs/code_fim_small.py
#   python sample.py --out_dir=<the folder> --fim_prefix="def mean(xs):" --fim_suffix="    return total / n"
# Its quality report fills 100 lines cut from held-out windows (README, "How good is the model"). In a CPU
# preset's 13 minutes the model writes lines shaped like the code around the gap, seldom the right one.
import sysconfig

sources = 'code:' + sysconfig.get_paths()['stdlib']
code_extensions = 'py'
# Up to 40 windows a file: nearly all of the standard library's ~27,000, 5.4M tokens. Real code is far more
# varied than template text, and at 400k tokens (6 windows a file) the model repeated what it had seen.
code_per_file = 40
final_tokens = 5_000_000
max_chars = 700  # windows of ~200 tokens fit the 256-token context whole: prefix, suffix and middle together
# Nine windows in ten become fill-in-the-middle examples (the rest stay left-to-right code): with 0.5 the
# preset filled none of 400 held-out lines; see the README's reading of this preset for each change alone.
fim_rate = 0.9
# Whole-line middles, mostly one line: with the paper's character spans (a third of the window on average)
# a small model wrote on past a one-line gap: after 1,000 iterations it ended 24% of its middles for 400
# held-out lines within 64 tokens, 33% with these (similarity 12% and 18%).
fim_spans = 'lines'
# The 4M shape trains on 2.4 times the tokens a second of 12M's (11,400 vs 4,800 on a 2-core AMD EPYC).
size = '4M'
# Pre-LayerNorm (GPT-2's block): GPT-1's post-LayerNorm block sat at the unigram loss on this code at 12M.
norm_first = True
batch_size = 16
# Muon for the blocks' matrices: val loss 2.65 vs AdamW's 3.02 after 2,000 iterations here. torch.compile
# pays for Muon's extra time (1.15x the tokens a second at this shape; eager with a warning where it cannot).
optimizer = 'muon'
compile = True
max_iters = 2000
learning_rate = 2e-3
warmup_iters = 50
eval_interval = 250
log_interval = 50
quality_samples = 100
