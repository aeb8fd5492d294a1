# A small technical model: the 4M defaults (measured on cooking_small.py) on the technical generator.
#   python train.py configs/technical_small.py
prompt = 'A GPT that writes Python and Linux how-to guides'
size = '4M'  # 4 layers, 256 wide, 4 heads, context 256, 4,096-token BPE
# Changes no default (settings.SIZE_DEFAULTS, 4M): the same budget and schedule as cooking_small.py.
