# A small technical model: the 12M defaults (measured on cooking_small.py) on the technical generator.
#   python train.py configs/technical_small.py
prompt = 'A GPT that writes Python and Linux how-to guides'
size = '12M'  # 6 layers, 384 wide, context 256, 4,096-token BPE
# Changes no default (settings.SIZE_DEFAULTS, 12M): the same budget and schedule as cooking_small.py.
