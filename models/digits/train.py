#!/usr/bin/python3
"""Trains the compression issue's two real models on the handwritten digits.

The digits of scikit-learn (`load_digits`: 1,797 grey 8x8 images, 0..16,
shipped with Debian's python3-sklearn, nothing downloaded), split once with
a fixed seed into 1,257 training and 540 test images.  Two models of fixed
architecture, trained with Adam under fixed seeds and one thread:

  mlp: Flatten, Linear 64->128, Relu, Linear 128->64, Relu, Linear 64->10
  cnn: Conv 1->16 3x3, Relu, Conv 16->32 3x3, Relu, MaxPool 2, Flatten,
       Linear 512->64, Relu, Linear 64->10

Both take image f32[N,1,8,8] (pixels / 16) and give logits f32[N,10], N a
dynamic axis.  Writes into OUT_DIR: mlp.onnx, cnn.onnx (opset 13),
test_images.pb (f32[540,1,8,8]), test_labels.pb (i64[540]), torch.json
(each model's test accuracy in PyTorch, the reference tcc's float32
object is checked against), and calib/test_data_set_<k>/input_0.pb, 8
batches of 32 training images: -quantize's --calib data.  models/digits/evaluate.py compiles
them with each compression flag.

usage: /usr/bin/python3 models/digits/train.py OUT_DIR
"""
import json
import os
import sys

import numpy as np
import torch
from onnx import numpy_helper
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

SEED = 20261205
EPOCHS = 40
CALIB_SETS, CALIB_BATCH = 8, 32


def models():
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                        nn.Linear(64, 10))
    cnn = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1),
                        nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 64), nn.ReLU(),
                        nn.Linear(64, 10))
    return {"mlp": mlp, "cnn": cnn}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=540, random_state=0,
                                                        stratify=y)
    accuracy = {}
    for name in models():
        torch.manual_seed(SEED)
        rng = np.random.default_rng(SEED)
        # re-created under the seed: the same weights whatever ran before
        model = models()[name]
        opt = torch.optim.Adam(model.parameters(), lr=2e-3)
        loss_fn = nn.CrossEntropyLoss()
        for _ in range(EPOCHS):
            order = rng.permutation(len(x_train))
            for i in range(0, len(order), 32):
                idx = order[i:i + 32]
                opt.zero_grad()
                loss = loss_fn(model(torch.from_numpy(x_train[idx])), torch.from_numpy(y_train[idx]))
                loss.backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            logits = model(torch.from_numpy(x_test)).numpy()
        accuracy[name] = float((logits.argmax(1) == y_test).mean())
        torch.onnx.export(model, torch.from_numpy(x_test[:1]), os.path.join(out, name + ".onnx"),
                          opset_version=13, input_names=["image"], output_names=["logits"],
                          dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}})
        print(f"{name}: PyTorch test accuracy {100 * accuracy[name]:.2f}% ({len(y_test)} images)")
    # calibration data for -quantize: 8 batches of 32 training images
    # (never test images), in the layout of ONNX's test data
    for k in range(CALIB_SETS):
        d = os.path.join(out, "calib", f"test_data_set_{k}")
        os.makedirs(d, exist_ok=True)
        batch = x_train[k * CALIB_BATCH:(k + 1) * CALIB_BATCH]
        with open(os.path.join(d, "input_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(batch, "image").SerializeToString())
    with open(os.path.join(out, "test_images.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x_test, "image").SerializeToString())
    with open(os.path.join(out, "test_labels.pb"), "wb") as f:
        f.write(numpy_helper.from_array(y_test, "labels").SerializeToString())
    with open(os.path.join(out, "torch.json"), "w") as f:
        json.dump({"test_images": len(y_test), "accuracy": accuracy}, f, indent=1)


if __name__ == "__main__":
    main()
