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
the identity.  Opset 13, batch 1, static shapes.  The files are large (up to
45 MB for ResNet-18): they are generated into the build tree, never committed.

usage: /usr/bin/python3 models/export_networks.py OUT_DIR [NAMES...]
       (no NAMES: every network; `--list` prints the names)
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
}


def write_tensor(path, array, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(array), name).SerializeToString())


def export(out_dir, name):
    torch.manual_seed(SEED)
    model, x = NETWORKS[name]()
    model.eval()
    folder = os.path.join(out_dir, name)
    data = os.path.join(folder, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    path = os.path.join(folder, "model.onnx")
    # Grad stays enabled: under no_grad torch 1.13 takes the fused "fast path"
    # of nn.TransformerEncoderLayer, which does not export.
    with torch.enable_grad():
        torch.onnx.export(model, (x,), path, opset_version=OPSET, input_names=["input"],
                          output_names=["output"], do_constant_folding=True)
        y = model(x)  # the same (unfused) path as the exported graph
    onnx.checker.check_model(onnx.load(path))
    write_tensor(os.path.join(data, "input_0.pb"), x.numpy(), "input")
    write_tensor(os.path.join(data, "output_0.pb"), y.detach().numpy(), "output")
    print(f"{name}: {path} ({os.path.getsize(path) // 1024} KiB), output {list(y.shape)}")


def main():
    args = sys.argv[1:]
    if args == ["--list"]:
        print("\n".join(NETWORKS))
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
