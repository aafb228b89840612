#!/usr/bin/python3
"""Exports real networks from PyTorch to ONNX, with the framework's own outputs.

Each network lands as OUT_DIR/<name>/model.onnx with test_data_set_0/input_0.pb
and output_0.pb, the layout of the ONNX backend test data, so `tcc run` and
`tcc-conformance --data OUT_DIR` take them as they take any ONNX test.  The
reference output is what PyTorch itself computes (eval mode, float32) for a
seeded input: tcc is checked against the framework, not against itself.

Nothing is downloaded.  Weights are PyTorch's default initialisation under
torch.manual_seed; the BatchNorm running statistics are then calibrated on a few
seeded random batches (train-mode forward passes, no gradient step) so that the
activations of deep networks keep a realistic scale instead of BatchNorm being
the identity.  Opset 13, batch 1, static shapes, except the `_dyn` networks:
exported with a dynamic axis (`seq`), with one test data set per sequence length
in DYNAMIC, for a model compiled once with the DYNAMIC entry's `-dim` range
(input_K.pb / output_K.pb per input and output).  The files are
large (up to 45 MB for ResNet-18): they are generated into the build tree, never
committed.

usage: /usr/bin/python3 models/export_networks.py OUT_DIR [NAMES...]
       (no NAMES: every network; `--list` prints the names of the static ones,
       `--list-dynamic` those of the dynamic ones, each with its -dim flag:
       `transformer_encoder_dyn -dim=seq=1..256`)
"""
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

OPSET = 13
SEED = 20261126


def calibrate_batchnorm(model, shape, batches=4):
    """Running mean/var from a few seeded batches (cumulative average)."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(4, *shape[1:]))


def vision(name):
    import torchvision
    model = getattr(torchvision.models, name)(weights=None)
    shape = (1, 3, 224, 224)
    calibrate_batchnorm(model, shape)
    return model, torch.randn(*shape)


class EncoderBlock(nn.Module):
    """One Transformer encoder layer: LayerNorm, 4-head attention, GELU MLP."""

    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(256, 4, 1024, dropout=0.1, activation="gelu",
                                                batch_first=True)

    def forward(self, x):
        return self.layer(x)


def transformer():
    return EncoderBlock(), torch.randn(1, 128, 256)


class LstmModel(nn.Module):
    """A two-layer LSTM over 32 steps of 64 features, then a linear head per step."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(64, 128, num_layers=2)
        self.head = nn.Linear(128, 16)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.head(y)


def lstm():
    return LstmModel(), torch.randn(32, 1, 64)


class BertLayer(nn.Module):
    """A BERT encoder layer written out as HF BERT does: Linear q/k/v, heads by
    view + permute, scores + the additive mask, softmax, post-LN, GELU MLP."""

    def __init__(self, d, heads, ff):
        super().__init__()
        self.h, self.dh = heads, d // heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=1e-12), nn.LayerNorm(d, eps=1e-12)
        self.ff1, self.ff2 = nn.Linear(d, ff), nn.Linear(ff, d)
        self.act = nn.GELU()

    def heads(self, x):
        return x.view(x.size(0), x.size(1), self.h, self.dh).permute(0, 2, 1, 3)

    def forward(self, x, mask):
        q, k, v = self.heads(self.q(x)), self.heads(self.k(x)), self.heads(self.v(x))
        s = torch.matmul(q, k.transpose(-1, -2)) / (self.dh ** 0.5) + mask
        c = torch.matmul(s.softmax(-1), v).permute(0, 2, 1, 3).contiguous()
        c = c.view(c.size(0), c.size(1), self.h * self.dh)
        x = self.ln1(x + self.o(c))
        return self.ln2(x + self.ff2(self.act(self.ff1(x))))


class BertTiny(nn.Module):
    """A 2-layer BERT-like encoder (d 128, 4 heads): token, position and token-type
    embeddings (positions and types sliced [:, :seq] from registered buffers, as
    HF BERT does), LayerNorm, an additive mask (1 - mask) * -10000 from an i64
    attention_mask, and the pooler (first token -> Linear -> Tanh)."""

    def __init__(self, vocab=1000, d=128, heads=4, layers=2, max_pos=512):
        super().__init__()
        self.word, self.pos = nn.Embedding(vocab, d), nn.Embedding(max_pos, d)
        self.token_type = nn.Embedding(2, d)
        self.register_buffer("position_ids", torch.arange(max_pos)[None])
        self.register_buffer("token_type_ids", torch.zeros(1, max_pos, dtype=torch.long))
        self.ln = nn.LayerNorm(d, eps=1e-12)
        self.layers = nn.ModuleList(BertLayer(d, heads, 4 * d) for _ in range(layers))
        self.pool = nn.Linear(d, d)

    def forward(self, input_ids, attention_mask):
        seq = input_ids.size(1)
        types = self.token_type_ids[:, :seq].expand(input_ids.size(0), seq)
        x = self.word(input_ids) + self.pos(self.position_ids[:, :seq]) + self.token_type(types)
        x = self.ln(x)
        mask = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        for layer in self.layers:
            x = layer(x, mask)
        return x, torch.tanh(self.pool(x[:, 0]))


def bert_inputs(n):
    """input_ids and an attention_mask whose last quarter is padding."""
    ids = torch.randint(0, 1000, (1, n))
    mask = torch.ones(1, n, dtype=torch.long)
    mask[:, n - n // 4:] = 0
    return ids, mask


def bert_tiny():
    return BertTiny(), bert_inputs(16)


def conv_block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class UNet(nn.Module):
    """Three levels down (MaxPool), up by ConvTranspose and by Resize, Concat skips."""

    def __init__(self):
        super().__init__()
        self.enc1, self.enc2, self.enc3 = conv_block(3, 16), conv_block(16, 32), conv_block(32, 64)
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(64, 32, 2, stride=2)
        self.dec2 = conv_block(64, 32)
        self.up1 = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                 nn.Conv2d(32, 16, 1))
        self.dec1 = conv_block(32, 16)
        self.up0 = nn.Upsample(scale_factor=2, mode="nearest")
        self.out = nn.Conv2d(16 + 3, 2, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        e3 = self.enc3(self.pool(e2))
        d2 = self.dec2(torch.cat([self.up2(e3), e2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1))
        small = self.pool(self.pool(x))
        return self.out(torch.cat([d1, self.up0(self.up0(small))], 1))


def unet():
    model = UNet()
    calibrate_batchnorm(model, (1, 3, 64, 64))
    return model, torch.randn(1, 3, 64, 64)


NETWORKS = {
    "resnet18": lambda: vision("resnet18"),
    "mobilenet_v2": lambda: vision("mobilenet_v2"),
    "squeezenet1_1": lambda: vision("squeezenet1_1"),
    "shufflenet_v2_x1_0": lambda: vision("shufflenet_v2_x1_0"),
    "efficientnet_b0": lambda: vision("efficientnet_b0"),
    "transformer_encoder": transformer,
    "lstm": lstm,
    "unet": unet,
    "transformer_encoder_dyn": transformer,
    "bert_tiny_dyn": bert_tiny,
    "lstm_dyn": lstm,
}

# Input and output names of every network but these: ["input"], ["output"].
IO_NAMES = {
    "bert_tiny_dyn": (["input_ids", "attention_mask"], ["hidden", "pooled"]),
}

# Networks exported with a dynamic sequence axis: (dynamic axes per input and
# output name, the inputs at sequence length n, the lengths of
# test_data_set_1...; set 0 keeps the factory's, the -dim range tcc compiles it
# with).
DYNAMIC = {
    "transformer_encoder_dyn": ({"input": {1: "seq"}, "output": {1: "seq"}},
                                lambda n: (torch.randn(1, n, 256),), [1, 37, 256], "seq=1..256"),
    "bert_tiny_dyn": ({"input_ids": {1: "seq"}, "attention_mask": {1: "seq"},
                       "hidden": {1: "seq"}}, bert_inputs, [1, 9, 64, 128], "seq=1..128"),
    "lstm_dyn": ({"input": {0: "seq"}, "output": {0: "seq"}},
                 lambda n: (torch.randn(n, 1, 64),), [1, 7, 64], "seq=1..64"),
}


def write_tensor(path, array, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(array), name).SerializeToString())


def export(out_dir, name):
    torch.manual_seed(SEED)
    model, x = NETWORKS[name]()
    x = x if isinstance(x, tuple) else (x,)
    model.eval()
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "model.onnx")
    in_names, out_names = IO_NAMES.get(name, (["input"], ["output"]))
    axes, inputs_at, lengths, _ = DYNAMIC.get(name, (None, None, [], None))
    # Grad stays enabled: under no_grad torch 1.13 takes the fused "fast path"
    # of nn.TransformerEncoderLayer, which does not export.
    with torch.enable_grad():
        torch.onnx.export(model, x, path, opset_version=OPSET, input_names=in_names,
                          output_names=out_names, do_constant_folding=True, dynamic_axes=axes)
        sets = [x] + [inputs_at(n) for n in lengths]
        for k, xk in enumerate(sets):
            yk = model(*xk)  # the same (unfused) path as the exported graph
            yk = yk if isinstance(yk, tuple) else (yk,)
            data = os.path.join(folder, f"test_data_set_{k}")
            os.makedirs(data, exist_ok=True)
            for i, (t, n) in enumerate(zip(xk, in_names)):
                write_tensor(os.path.join(data, f"input_{i}.pb"), t.numpy(), n)
            for i, (t, n) in enumerate(zip(yk, out_names)):
                write_tensor(os.path.join(data, f"output_{i}.pb"), t.detach().numpy(), n)
    onnx.checker.check_model(onnx.load(path))
    print(f"{name}: {path} ({os.path.getsize(path) // 1024} KiB), output "
          f"{', '.join(str(list(t.shape)) for t in yk)}"
          f"{f', {len(sets)} data sets' if lengths else ''}")


def main():
    args = sys.argv[1:]
    if args == ["--list"]:
        print("\n".join(n for n in NETWORKS if n not in DYNAMIC))
        return 0
    if args == ["--list-dynamic"]:
        print("\n".join(f"{n} -dim={DYNAMIC[n][3]}" for n in DYNAMIC))
        return 0
    if not args or any(n not in NETWORKS for n in args[1:]):
        sys.stderr.write(__doc__.split("\n\n")[-1].strip() + "\nnetworks: " + " ".join(NETWORKS) + "\n")
        return 1
    torch.set_num_threads(2)
    for name in args[1:] or NETWORKS:
        export(args[0], name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
