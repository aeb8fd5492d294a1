# A recipe model that starts from a general one instead of from scratch. Train the general model first, into
# the folder named below, then this:
#   python train.py configs/general_small.py --out_dir=models/general_small
#   python train.py configs/cooking_from_general.py
# The run takes that folder's weights, shape and tokenizer (the recipes are written in the general model's
# tokens: no new BPE), fine-tunes with settings.FINETUNE_DEFAULTS (the 12M column: a lower rate, a short
# warm-up, two passes with early stopping) and writes a folder of its own; models/general_small stays as it is.
# Add --lora_rank=8 to train adapters only. Measured against a model trained from scratch (README, "Start from
# a model"): from this story model it does not pay. The story BPE spells a recipe in ~464 tokens, past the
# 256-token context, and the data step warns; a start whose tokenizer fits the new text (a cooking folder
# continued on vegan recipes) beat scratch clearly.
init_from = 'models/general_small'  # relative to where you run train.py: the repository root
prompt = 'A fun GPT that generates cooking recipes'
