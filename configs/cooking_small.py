# A small recipe model: from one sentence to a trained 12M GPT-1 on a CPU (times and quality: README, Presets).
#   python train.py configs/cooking_small.py
prompt = 'A fun GPT that generates cooking recipes'
size = '12M'  # 6 layers, 384 wide, context 256, 4,096-token BPE
# Changes no default: the 12M column of settings.SIZE_DEFAULTS was measured on this preset, so
# `python train.py --prompt="..."` trains the same way. What it holds, and why:
# - 1.6M template tokens generated, 800k kept: template text is free, and with less the model memorises
#   recipes (train loss falls below val loss) instead of learning to copy its own ingredient list;
# - 1,200 steps of 4 x 256 tokens (1.2M tokens, 1.5 passes): at the same tokens, more and smaller steps
#   learn faster (steps using listed ingredients: 35% at 300 x 16, 56% at 600 x 8, 73% at 1,200 x 4);
# - windows that start at a document's start (doc_aligned), so steps are learned with their list in view;
# - learning rate 1e-3 with 100 warm-up steps, no dropout (no overfitting to fight at 1.5 passes, and
#   ~35% faster on CPU), evaluation every 200 steps, early stopping after 3 evaluations without progress.
