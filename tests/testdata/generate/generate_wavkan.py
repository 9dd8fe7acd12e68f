"""Parity vectors for WavKAN from the original Wav-KAN code (zavareh1/Wav-KAN, KAN.py KANLinear).

Usage:
  python3 generate_wavkan.py CHECKOUT [OUT_DIR]      writes wavkan_*.json (parity format, see ../README.md)
  python3 generate_wavkan.py CHECKOUT --verify FILE  loads FILE (safetensors written by this module, a
                                                     [in, hidden, out] WavKAN model) into the original's KAN
                                                     with load_state_dict(strict=True), saves the original's
                                                     state dict as FILE.torch.safetensors and prints its output
                                                     on a fixed input.

CHECKOUT is a checkout of https://github.com/zavareh1/Wav-KAN (vectors made at commit
f7ab5215e69b1a32e9e289159d2fd55d078fa051). Each vector runs the original model in training mode (batch
statistics) for y and every gradient, records the running statistics after that forward pass
(`state_after`), then runs it in eval mode on the same x (`y_eval`, `grad_eval`, `grad_x_eval`).
"""
import json
import math
import os
import struct
import sys
import types

import torch


def load_original(checkout):
    # KAN.py imports torchvision/tqdm for its own experiment; stub them when they are missing.
    for name in ["torchvision", "torchvision.transforms", "tqdm"]:
        if name not in sys.modules:
            try:
                __import__(name)
            except ImportError:
                mod = types.ModuleType(name)
                mod.tqdm = lambda x, **k: x
                mod.transforms = mod
                sys.modules[name] = mod
    sys.path.insert(0, checkout)
    import KAN  # noqa: E402

    return KAN


def tensor(t):
    t = t.detach().to(torch.float32)
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def run(KAN, name, widths, wavelet, x, seed, perturb, note):
    torch.manual_seed(seed)
    model = KAN.KAN(widths, wavelet_type=wavelet)
    with torch.no_grad():
        for layer in model.layers:
            if perturb:
                layer.scale.copy_(torch.empty_like(layer.scale).uniform_(0.5, 1.5))
                layer.translation.copy_(torch.empty_like(layer.translation).uniform_(-0.5, 0.5))
                layer.bn.weight.copy_(torch.empty_like(layer.bn.weight).uniform_(0.5, 1.5))
                layer.bn.bias.copy_(torch.empty_like(layer.bn.bias).uniform_(-0.3, 0.3))
                layer.bn.running_mean.copy_(torch.empty_like(layer.bn.running_mean).uniform_(-0.2, 0.2))
                layer.bn.running_var.copy_(torch.empty_like(layer.bn.running_var).uniform_(0.5, 2.0))
    state = {f"{k}": tensor(v) for k, v in model.state_dict().items()}
    model.train()
    x = x.clone().requires_grad_(True)
    y = model(x)
    target = torch.sin(torch.arange(y.numel(), dtype=torch.float32)).reshape(y.shape)
    loss = ((y - target) ** 2).mean()
    loss.backward()
    grads = {k: tensor(p.grad) for k, p in model.named_parameters() if p.grad is not None}
    after = {k: tensor(v) for k, v in model.state_dict().items() if "running" in k or "num_batches" in k}
    model.zero_grad()
    model.eval()
    xe = x.detach().clone().requires_grad_(True)
    ye = model(xe)
    ((ye - target) ** 2).mean().backward()
    grads_eval = {k: tensor(p.grad) for k, p in model.named_parameters() if p.grad is not None}
    options = {} if wavelet == "mexican_hat" else {"waveletType": wavelet}
    return {
        "name": name,
        "note": note,
        "model": [{"class": "WavKAN", "in": a, "out": b, "options": options} for a, b in zip(widths[:-1], widths[1:])],
        "state": {f"layers.{k[len('layers.'):]}" if k.startswith("layers.") else k: v for k, v in state.items()},
        "x": tensor(x),
        "y": tensor(y),
        "target": tensor(target),
        "loss_mse": float(loss),
        "grad": grads,
        "grad_x": tensor(x.grad),
        "state_after": after,
        "y_eval": tensor(ye),
        "grad_eval": grads_eval,
        "grad_x_eval": tensor(xe.grad),
        "reference": {"torch": torch.__version__, "Wav-KAN": "f7ab5215e69b1a32e9e289159d2fd55d078fa051"},
    }


def vectors(KAN):
    g = torch.Generator().manual_seed(7)
    x = torch.rand(6, 3, generator=g) * 4 - 2
    # Edge cases: x = translation (u = 0), u = +-0.5 and +-1 (Meyer's kinks at scale 1, translation 0),
    # |x| large (every wavelet decays to 0).
    edge = torch.tensor([[0.0, 0.5, -1.0], [1.0, -0.5, 0.0], [25.0, -30.0, 0.25], [0.75, 2.0, -0.75]])
    out = []
    out.append(run(KAN, "wavkan_default", [3, 4, 2], "mexican_hat", x, 1, False, "defaults, two layers"))
    for wavelet in ["mexican_hat", "morlet", "dog", "meyer", "shannon"]:
        out.append(run(KAN, f"wavkan_{wavelet}", [3, 5], wavelet, x, 2, True,
                       "perturbed scale/translation/bn/running statistics"))
        out.append(run(KAN, f"wavkan_{wavelet}_edges", [3, 3], wavelet, edge, 3, False,
                       "u = 0, +-0.5, +-1 and |x| large at scale 1, translation 0"))
    return out


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        assert v["dtype"] == "F32", v["dtype"]
        data = struct.unpack(f"<{(b - a) // 4}f", raw[8 + n + a:8 + n + b])
        out[k] = torch.tensor(data, dtype=torch.float32).reshape(v["shape"])
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for k, t in tensors.items():
        t = t.detach().to(torch.float32).contiguous()
        b = struct.pack(f"<{t.numel()}f", *t.reshape(-1).tolist())
        header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def verify(KAN, path):
    ours = read_safetensors(path)
    layers = sorted({int(k.split(".")[1]) for k in ours})
    widths = [ours[f"layers.{i}.scale"].shape[1] for i in layers] + [ours[f"layers.{layers[-1]}.scale"].shape[0]]
    model = KAN.KAN(widths)
    result = model.load_state_dict(ours, strict=True)
    print("load_state_dict(strict=True):", result)
    model.eval()
    x = torch.linspace(-1, 1, 2 * widths[0]).reshape(2, widths[0])
    print("eval output:", model(x).detach().reshape(-1).tolist())
    back = path + ".torch.safetensors"
    write_safetensors(back, model.state_dict())
    print("wrote", back)


def main():
    KAN = load_original(sys.argv[1])
    if len(sys.argv) > 3 and sys.argv[2] == "--verify":
        verify(KAN, sys.argv[3])
        return
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "parity", "wavkan")
    os.makedirs(out_dir, exist_ok=True)
    for v in vectors(KAN):
        with open(os.path.join(out_dir, v["name"] + ".json"), "w") as f:
            json.dump(v, f)
        print("wrote", v["name"], "loss", v["loss_mse"])


if __name__ == "__main__":
    main()
