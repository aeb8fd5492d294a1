# Math word problems and small Python problems, mixed, solved step by step: a 3.8M GPT-1 (4 layers x 256)
# trained on a 2-core CPU in 18-21 minutes (the host's load). math_small's recipe (Muon, every digit a token, repeats kept)
# with generated code problems beside the math ones (README, "Models that solve problems", for what it reaches).
#   python train.py configs/reasoning_small.py
#   python sample.py --out_dir=<the folder> --eval=math
#   python sample.py --out_dir=<the folder> --eval=code
prompt = 'A GPT that solves math word problems and small coding problems step by step'
size = '4M'  # 4 layers x 256, 4 heads; everything else it trains with is set below
# A smaller model than math_small's 12M: it trains 2.4x the tokens per second, and in 20 minutes the extra
# tokens win over the width (math level 1 35% -> 70%, code level 1 77% -> 93% with this shape and context;
# then the share, the schedule's end and torch.compile's extra steps took math level 1 to 93%; README).
# Shares of the kept tokens. Math gets the larger share: its sums are learned late (math_small), while a
# level-1 code problem is one line to copy the names into. Levels within each kind: problems.LEVEL_WEIGHTS
# and problems_code.CODE_LEVEL_WEIGHTS (the easy ones more often).
mix = {'math': 0.65, 'code': 0.35}
# Every generated solution is right by construction and checked (code in the sandbox, many to a process).
# Generated a little over what is kept, so each kind fills its share.
initial_tokens = 1_600_000
final_tokens = 1_500_000
optimizer = 'muon'  # as math_small: far fewer steps to the arithmetic than AdamW
block_size = 192  # a math document is ~55 tokens, a code one ~95 and up to ~190: whole documents fit
batch_size = 24  # 4,608 tokens a step (20 x 192 lost 28 points on math level 1: no spare to cut)
max_iters = 1600
compile = True  # torch.compile on the CPU too: ~20% more tokens/s at this shape (falls back if it cannot)
dropout = 0.0
learning_rate = 1e-3  # AdamW's, for the embeddings, biases and gains; Muon's is muon_learning_rate (0.02)
min_lr = 1e-5  # the small sums settle at the end of the schedule: decay nearly to zero
warmup_iters = 30
eval_interval = 400
eval_iters = 8
log_interval = 20
eval_problems = 100  # held-out problems per level, for math and for code, measured after training
doc_aligned = False  # as math_small: windows start anywhere
patience = 0  # all the steps
