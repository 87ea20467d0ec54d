# TODO: implement LayerNorm
# class LayerNorm(nn.Module):
#     pass
