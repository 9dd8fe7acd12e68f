#!/usr/bin/python3
"""PyTorch learning-rate schedules and scheduled, clipped training runs for
tests/schedules_test.ts and tests/clip_grad_norm_test.ts.

Writes schedules.json in this folder:

- `schedules`: the learning rate of each of the first 30 optimizer steps
  (`optimizer.param_groups[0]["lr"]` before each `optimizer.step()`, then
  `scheduler.step()`) of torch's LambdaLR (a linear warm-up lambda),
  CosineAnnealingLR (with eta_min, past T_max), StepLR, ExponentialLR and a
  SequentialLR of a warm-up and a cosine, each with this module's equivalent.
- `runs`: float64 training trajectories of torch.nn.Linear(3, 2) on a fixed
  full batch (MSE) with SGD (momentum), Adam or LBFGS, a schedule and
  `torch.nn.utils.clip_grad_norm_` after `backward()` (inside the closure),
  with per step the learning rate, the gradient norm before clipping (what
  clip_grad_norm_ returns), the loss and every parameter after the step. Each
  run checks that clipping is active on some steps and not on others, and
  records how far torch's own float32 run strays from its float64 run.

Run: /usr/bin/python3 tests/testdata/schedules/generate.py && deno fmt tests/testdata/schedules/
"""

import copy
import importlib.util
import json
import os
import sys
import warnings

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))

# tensor() and deviation() as the optimizer trajectories' generator has them.
_spec = importlib.util.spec_from_file_location("optimizer_fixtures", os.path.join(HERE, "..", "optimizers", "generate.py"))
_optimizer_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_optimizer_fixtures)
tensor = _optimizer_fixtures.tensor
deviation = _optimizer_fixtures.deviation
ROWS = 16
SCHEDULE_STEPS = 30
BASE_LR = 0.1


def warmup_lambda(steps):
    return lambda s: min(1.0, (s + 1) / steps)


def make_scheduler(spec, optimizer):
    kind = spec["kind"]
    if kind == "warmup":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_lambda(spec["steps"]))
    if kind == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=spec["steps"], eta_min=spec["minLr"])
    if kind == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=spec["every"], gamma=spec["gamma"])
    if kind == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=spec["gamma"])
    if kind == "warmup_then":
        first = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_lambda(spec["steps"]))
        second = make_scheduler(spec["then"], optimizer)
        return torch.optim.lr_scheduler.SequentialLR(optimizer, [first, second], milestones=[spec["steps"]])
    raise ValueError(kind)


# name, the schedule (this module's function and options, also read by the test)
SCHEDULES = [
    ("lambda_warmup", {"kind": "warmup", "steps": 5}),
    ("cosine_annealing", {"kind": "cosine", "steps": 10, "minLr": 0.01}),
    ("step", {"kind": "step", "every": 7, "gamma": 0.5}),
    ("exponential", {"kind": "exponential", "gamma": 0.9}),
    (
        "warmup_then_cosine",
        {"kind": "warmup_then", "steps": 5, "then": {"kind": "cosine", "steps": 20, "minLr": 0.001}},
    ),
]


def lr_sequence(spec, steps):
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([p], lr=BASE_LR)
    scheduler = make_scheduler(spec, optimizer)
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        p.grad = torch.zeros_like(p)
        optimizer.step()
        scheduler.step()
    return lrs


def problem():
    """The data and the initial model, all float32."""
    g = torch.Generator().manual_seed(3)
    x = torch.rand(ROWS, 3, generator=g) * 2 - 1
    y = torch.stack([2 * x[:, 0] - x[:, 1] + 0.5, x[:, 1] * x[:, 2] + 1.5 * x[:, 2] - 1.0], dim=1)
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    return x.float(), y.float(), model.float()


# name, optimizer class, torch kwargs, this module's options, schedule, max_norm, steps
RUNS = [
    ("sgd_momentum_step_clip", "SGD", {"lr": 0.3, "momentum": 0.9}, {"lr": 0.3, "momentum": 0.9},
     {"kind": "step", "every": 4, "gamma": 0.5}, 1.6, 16),
    ("adam_warmup_cosine_clip", "Adam", {"lr": 0.1}, {"lr": 0.1},
     {"kind": "warmup_then", "steps": 3, "then": {"kind": "cosine", "steps": 13, "minLr": 0.01}}, 1.45, 16),
    ("sgd_exponential_clip", "SGD", {"lr": 0.5}, {"lr": 0.5},
     {"kind": "exponential", "gamma": 0.9}, 0.85, 16),
    ("lbfgs_exponential_clip", "LBFGS",
     {"lr": 1, "max_iter": 4, "history_size": 10, "line_search_fn": "strong_wolfe"},
     {"lr": 1, "maxIter": 4, "historySize": 10, "lineSearch": "strong_wolfe"},
     {"kind": "exponential", "gamma": 0.7}, 1.0, 4),
]


def state(model):
    """The parameters, rounded to 12 significant digits (far below float32's resolution)."""
    return {f"layers.0.{k}": [float(f"{v:.12g}") for v in p.detach().double().flatten()]
            for k, p in model.state_dict().items()}


def run(cls, kwargs, schedule, max_norm, steps, x0, y0, model0, dtype):
    model = copy.deepcopy(model0).to(dtype)
    x, y = x0.to(dtype), y0.to(dtype)
    optimizer = getattr(torch.optim, cls)(model.parameters(), **kwargs)
    scheduler = make_scheduler(schedule, optimizer)
    norms = []

    def closure():
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)))
        return loss

    out = {"lr": [], "loss": [], "norm": [], "params": []}
    for _ in range(steps):
        out["lr"].append(optimizer.param_groups[0]["lr"])
        norms.clear()
        out["loss"].append(float(optimizer.step(closure)))
        out["norm"].append(norms[0])  # the first evaluation's norm (LBFGS evaluates more than once)
        out["params"].append(state(model))
        scheduler.step()
    return out


def main():
    torch.set_num_threads(1)
    # SequentialLR calls the second scheduler's step(0), which warns that the epoch argument is deprecated.
    warnings.filterwarnings("ignore", message="The epoch parameter")
    out = {
        "about": "generated by generate.py in this folder; see its README",
        "torch": torch.__version__,
        "base_lr": BASE_LR,
        "schedules": [],
    }
    for name, spec in SCHEDULES:
        lrs = lr_sequence(spec, SCHEDULE_STEPS)
        out["schedules"].append({"name": name, "schedule": spec, "lr": lrs})
        print(f"schedule {name}: {lrs[0]:.4g} .. {lrs[-1]:.4g}")
    x, y, model = problem()
    out["model"] = [{"class": "Linear", "in": 3, "out": 2, "options": {}}]
    out["loss"] = "mse"
    out["x"] = tensor(x)
    out["y"] = tensor(y)
    out["state"] = {f"layers.0.{k}": tensor(p) for k, p in model.state_dict().items()}
    out["runs"] = []
    for name, cls, kwargs, options, schedule, max_norm, steps in RUNS:
        r64 = run(cls, kwargs, schedule, max_norm, steps, x, y, model, torch.float64)
        r32 = run(cls, kwargs, schedule, max_norm, steps, x, y, model, torch.float32)
        clipped = [n > max_norm for n in r64["norm"]]
        margin = min(abs(n - max_norm) / max_norm for n in r64["norm"])
        if not (any(clipped) and not all(clipped)):
            raise SystemExit(f"{name}: clipping must be active on some steps only, norms {r64['norm']}")
        if margin < 0.02:
            raise SystemExit(f"{name}: a norm lies within 2% of max_norm, too close to call: {r64['norm']}")
        dev = deviation(r32["params"], r64["params"])
        out["runs"].append({
            "name": name,
            "optimizer": cls,
            "options": options,
            "torch_options": kwargs,
            "schedule": schedule,
            "clip_grad_norm": max_norm,
            "steps": steps,
            **r64,
            "clipped": clipped,
            "torch_float32_deviation": dev,
        })
        print(f"run {name}: loss {r64['loss'][0]:.4g} -> {r64['loss'][-1]:.4g}, clipped "
              f"{''.join('x' if c else '.' for c in clipped)}, norms {min(r64['norm']):.3g}..{max(r64['norm']):.3g}, "
              f"torch float32 deviation {dev:.2e}")
    path = os.path.join(HERE, "schedules.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
