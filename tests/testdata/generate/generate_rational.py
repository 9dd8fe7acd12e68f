"""Parity vectors of RationalKAN from the original group-rational code of KAT.

Usage:
    python3 generate_rational.py CHECKOUT [OUT_DIR]          # writes the vectors
    python3 generate_rational.py CHECKOUT --verify FILE...   # loads our safetensors in the original

CHECKOUT is a checkout of Adamdad/rational_kat_cu (the vectors were made at commit
181bae8baf19075bef94b5f62dac320b3d4b27d3). OUT_DIR defaults to ../parity/rational beside this script.

The layer is one half of KAT's `KAN` block (Adamdad/kat katransformer.py: `fc1(act1(x))`):
`KAT_Group(num_groups, mode)` from rational_kat_cu, then `nn.Linear(in, out, bias)`, held as `act` and
`fc`, in a `layers` ModuleList so that the state-dict keys are `layers.<i>.act.weight_numerator` etc.

Which original code computes the function: `KAT_Group` runs its Triton kernels (`rational_triton.py`,
`RationalTriton1DGroup`) on CUDA and `Rational_CUDA_A_1DGroup` (kat_1dgroup_torch.py) on the CPU.
The kernels, the CUDA kernels (src/rational_kernel_group.cu), the repository's own test reference
(tests/test_triton.py) and the docstrings all compute Q(x) = 1 + |b0||x| + ... + |b3||x|^4; the CPU
function computes 1 + |b0| x + ... + |b3| x^4 (no |x|), which differs for x < 0 and can reach zero.
So these vectors run the original Triton kernels, forward and backward, unchanged: triton is not
installed here (no GPU), and this script gives them a minimal stand-in for the part of
`triton.language` they use (1-D program ids, masked loads, stores and atomic adds, abs, fma, where),
executing each program's block with torch float32 tensors. Their gradients are the kernels': d|x|/dx
is +1 at x = 0 (as the CUDA kernel's copysign and the CPU function's x^1 give too) and d|b|/db is +1
at b = 0 (the CUDA kernel's copysign agrees; the CPU function's autograd would give 0). As a cross
check the script compares the kernels with `Rational_CUDA_A_1DGroup` on x >= 0, where they agree.
"""

import importlib
import json
import os
import sys
import types
import zlib

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
COMMIT = "181bae8baf19075bef94b5f62dac320b3d4b27d3"


# --- a stand-in for the subset of triton that rational_triton.py uses -------------------------------

class _Pointer:
    """A tensor's flat storage and element offsets (an int or an int64 tensor)."""

    def __init__(self, flat, offsets):
        self.flat = flat
        self.offsets = offsets

    def __add__(self, other):
        return _Pointer(self.flat, self.offsets + other)

    __radd__ = __add__

    def index(self):
        return torch.as_tensor(self.offsets, dtype=torch.int64)


def _as_f32(v):
    return v if isinstance(v, torch.Tensor) else torch.tensor(v, dtype=torch.float32)


class _Language(types.ModuleType):
    constexpr = int

    def __init__(self):
        super().__init__("triton.language")
        self.pid = 0

    def program_id(self, axis):
        assert axis == 0
        return self.pid

    def arange(self, start, end):
        return torch.arange(start, end, dtype=torch.int64)

    def load(self, pointer, mask=None):
        index = pointer.index()
        if mask is None:
            return pointer.flat[index]
        safe = torch.where(mask, index, torch.zeros_like(index))
        return torch.where(mask, pointer.flat[safe], torch.zeros((), dtype=pointer.flat.dtype))

    def store(self, pointer, value, mask=None):
        index = pointer.index()
        value = _as_f32(value).expand(index.shape)
        keep = mask if mask is not None else torch.ones_like(index, dtype=torch.bool)
        pointer.flat[index[keep]] = value[keep].to(pointer.flat.dtype)

    def atomic_add(self, pointer, value, mask=None):
        index = pointer.index()
        value = _as_f32(value).expand(index.shape)
        keep = mask if mask is not None else torch.ones_like(index, dtype=torch.bool)
        pointer.flat.index_add_(0, index[keep], value[keep].to(pointer.flat.dtype))

    def abs(self, v):
        return torch.abs(v)

    def fma(self, a, b, c):
        # float32 fused multiply-add: the product is exact in float64, then one rounding (as nearly as one can).
        return (_as_f32(a).double() * _as_f32(b).double() + _as_f32(c).double()).float()

    def where(self, cond, a, b):
        return torch.where(cond, _as_f32(a), _as_f32(b))


class _Kernel:
    def __init__(self, fn, language):
        self.fn = fn
        self.language = language

    def __getitem__(self, grid):
        def launch(*args, **kwargs):
            wrapped = [_Pointer(a.view(-1), 0) if isinstance(a, torch.Tensor) else a for a in args]
            for pid in range(grid[0]):
                self.language.pid = pid
                self.fn(*wrapped, **kwargs)

        return launch


def install_triton_stand_in():
    language = _Language()
    triton = types.ModuleType("triton")
    triton.language = language
    triton.jit = lambda fn: _Kernel(fn, language)
    sys.modules["triton"] = triton
    sys.modules["triton.language"] = language


def load_original(checkout):
    """KAT_Group (Triton path) and Rational_CUDA_A_1DGroup from the checkout, without its __init__ (which
    also imports the 2-D variant)."""
    install_triton_stand_in()
    package = types.ModuleType("kat_rational")
    package.__path__ = [os.path.join(checkout, "kat_rational")]
    sys.modules["kat_rational"] = package
    triton_group = importlib.import_module("kat_rational.kat_1dgroup_triton")
    torch_group = importlib.import_module("kat_rational.kat_1dgroup_torch")
    return triton_group.KAT_Group, torch_group.Rational_CUDA_A_1DGroup


# --- the layer and the vectors -----------------------------------------------------------------------

def make_net(KAT_Group, layers):
    class Layer(nn.Module):
        def __init__(self, spec):
            super().__init__()
            o = spec["options"]
            # device "cuda" selects the Triton kernels; the parameters stay on the CPU.
            self.act = KAT_Group(num_groups=o.get("numGroups", 8), mode=o.get("mode", "gelu"), device="cuda")
            self.fc = nn.Linear(spec["in"], spec["out"], bias=o.get("bias", True))

        def forward(self, x):
            return self.fc(self.act(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([Layer(s) for s in layers])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    return Net()


def tensor_json(t):
    t = t.detach().float().contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.view(-1).tolist()]}


def vector(KAT_Group, name, layers, x, perturb=None, zero_denominator_groups=()):
    torch.manual_seed(zlib.crc32(name.encode()))
    net = make_net(KAT_Group, layers)
    with torch.no_grad():
        if perturb is not None:
            for layer in net.layers:
                layer.act.weight_numerator.add_(perturb * torch.randn_like(layer.act.weight_numerator))
                layer.act.weight_denominator.add_(perturb * torch.randn_like(layer.act.weight_denominator))
        for layer_index, group in zero_denominator_groups:
            net.layers[layer_index].act.weight_denominator[group].zero_()
    x = x.clone().requires_grad_(True)
    y = net(x)
    target = torch.randn_like(y)
    loss = ((y - target) ** 2).mean()
    loss.backward()
    return {
        "name": name,
        "model": [{"class": "RationalKAN", "in": s["in"], "out": s["out"], "options": s["options"]} for s in layers],
        "state": {k: tensor_json(v) for k, v in net.state_dict().items()},
        "x": tensor_json(x),
        "y": tensor_json(y),
        "target": tensor_json(target),
        "loss_mse": float(loss),
        "grad": {k: tensor_json(p.grad) for k, p in net.named_parameters()},
        "grad_x": tensor_json(x.grad),
        "reference": {
            "torch": torch.__version__,
            "peers": {"rational_kat_cu": COMMIT},
            "path": "KAT_Group's Triton kernels (rational_triton.py), run by generate_rational.py's triton stand-in",
        },
    }


def edge_inputs(rows, cols, seed, scale):
    """Random inputs with exact zeros, +-1, large |x| and tiny |x| mixed in."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, cols, generator=g) * scale
    specials = torch.tensor([0.0, 0.0, 1.0, -1.0, 3.0, -3.0, 20.0, -20.0, 1e-7, -1e-7, 0.5, -0.5])
    flat = x.view(-1)
    for k, v in enumerate(specials):
        flat[(k * 7) % flat.numel()] = v
    flat[-1] = 0.0
    return x


def cross_check(KAT_Group, torch_group):
    """The Triton kernels equal the CPU function for x >= 0 (and differ for x < 0)."""
    net = KAT_Group(num_groups=4, mode="gelu", device="cuda")
    with torch.no_grad():
        net.weight_denominator.add_(0.2 * torch.randn_like(net.weight_denominator))
    x = torch.rand(16, 12) * 4
    kernels = net(x)
    cpu = torch_group(x.unsqueeze(0), net.weight_numerator.repeat(4, 1), net.weight_denominator, 4)[0]
    same = (kernels - cpu).abs().max().item()
    xn = -x
    differ = (net(xn) - torch_group(xn.unsqueeze(0), net.weight_numerator.repeat(4, 1),
                                    net.weight_denominator, 4)[0]).abs().max().item()
    print(f"cross check: Triton kernels vs Rational_CUDA_A_1DGroup, x >= 0: max |diff| {same:.3e}; "
          f"x < 0: {differ:.3e} (the CPU function has no |x|)")
    assert same < 1e-5


def generate(checkout, out_dir):
    KAT_Group, torch_group = load_original(checkout)
    cross_check(KAT_Group, torch_group)
    os.makedirs(out_dir, exist_ok=True)
    vectors = [
        # Defaults: KAT_Group(num_groups=8, mode="gelu") and nn.Linear(bias=True), the state as initialized.
        vector(KAT_Group, "rational_default", [{"in": 8, "out": 3, "options": {}}], edge_inputs(16, 8, 1, 2.0)),
        # Two layers: identity start (every b exactly 0: d|b|/db at 0), 3 groups; SiLU start, 2 groups, no bias.
        vector(
            KAT_Group,
            "rational_identity_swish",
            [
                {"in": 6, "out": 4, "options": {"numGroups": 3, "mode": "identity"}},
                {"in": 4, "out": 2, "options": {"numGroups": 2, "mode": "swish", "bias": False}},
            ],
            edge_inputs(12, 6, 2, 1.5),
        ),
        # Perturbed coefficients (negative b), one group zeroed, |x| up to about 20.
        vector(
            KAT_Group,
            "rational_perturbed",
            [{"in": 4, "out": 5, "options": {"numGroups": 2, "mode": "gelu"}}],
            edge_inputs(20, 4, 3, 5.0),
            perturb=0.3,
            zero_denominator_groups=[(0, 1)],
        ),
    ]
    for v in vectors:
        path = os.path.join(out_dir, v["name"] + ".json")
        with open(path, "w") as f:
            json.dump(v, f)
        print(f"wrote {path}")


def read_safetensors(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for key, e in header.items():
        if key == "__metadata__":
            continue
        assert e["dtype"] == "F32", e["dtype"]
        a, b = e["data_offsets"]
        out[key] = torch.frombuffer(bytearray(body[a:b]), dtype=torch.float32).reshape(e["shape"])
    return out


def verify(checkout, files):
    """Loads each of our safetensors (with a .json beside it giving the model) in the original with
    strict=True, runs the vector's x and compares with the y saved beside it."""
    KAT_Group, _ = load_original(checkout)
    for path in files:
        with open(path + ".json") as f:
            meta = json.load(f)
        net = make_net(KAT_Group, meta["model"])
        result = net.load_state_dict(read_safetensors(path), strict=True)
        x = torch.tensor(meta["x"]["data"]).reshape(meta["x"]["shape"])
        y = net(x).detach()
        want = torch.tensor(meta["y"]["data"]).reshape(meta["y"]["shape"])
        diff = (y - want).abs().max().item() / max(want.abs().max().item(), 1e-30)
        print(f"verify {path}: load_state_dict(strict=True) -> {result}; y max relative diff {diff:.3e}")
        assert diff < 1e-4


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if len(sys.argv) > 2 and sys.argv[2] == "--verify":
        verify(sys.argv[1], sys.argv[3:])
    else:
        generate(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "parity", "rational"))
