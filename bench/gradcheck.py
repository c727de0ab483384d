#!/usr/bin/python3
"""xentcheck against PyTorch's torch.autograd.gradcheck, side by side.

For H = 10, 100, 1000 (one row, f64, index label, sum), times
gradcheck(cross_entropy) and gradcheck(..., fast_mode=True) on one thread,
runs bench/cost on the same shapes, and prints the time of each and the
ratios gradcheck / xentcheck. gradcheck compares the analytic gradient with
central differences (2H evaluations, or one directional derivative in
fast mode); xentcheck's check of a case does that and also the exact
reference, shift/permutation/batch invariance, memory and masking
properties (README, "Performance").

usage: bench/gradcheck.py BUILD_DIR [TARGET]
  BUILD_DIR  the build directory holding bench/cost
  TARGET     the xentcheck target timed (default torch.f64.cross_entropy
             when built in, else xc.f64.shifted)
Needs Debian's python3-torch; exits 0 with a note when it is missing.
"""
import os
import re
import subprocess
import sys
import time

SIZES = (10, 100, 1000)


def median_time(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def time_gradcheck(torch, h, fast):
    gen = torch.Generator().manual_seed(2026 + h)
    z = (torch.rand(1, h, generator=gen, dtype=torch.float64) * 16 - 8)
    z.requires_grad_(True)
    y = torch.randint(0, h, (1,), generator=gen)

    def loss(x):
        return torch.nn.functional.cross_entropy(x, y, reduction="sum")

    def check():
        assert torch.autograd.gradcheck(loss, (z,), fast_mode=fast)

    check()  # warm-up
    return median_time(check, 5 if h >= 1000 and not fast else 21)


def xentcheck_times(build, target):
    """{H: (inline seconds, isolated seconds)} from bench/cost's table."""
    cost = os.path.join(build, "bench", "cost")
    out = subprocess.run([cost, target], check=True, capture_output=True,
                         text=True).stdout
    rows = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\d+)\s+([\d.]+) us\s+([\d.]+) us\s+([\d.]+) us", line)
        if m:
            rows[int(m.group(1))] = (float(m.group(3)) * 1e-6,
                                     float(m.group(4)) * 1e-6)
    return rows


def has_target(build, name):
    out = subprocess.run([os.path.join(build, "xentcheck"), "list"],
                         check=True, capture_output=True, text=True).stdout
    return any(line.split()[:1] == [name] for line in out.splitlines())


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().split("\n\n")[2], file=sys.stderr)
        return 2
    build = argv[1]
    try:
        import torch
    except ImportError:
        print("gradcheck.py: python3-torch is not installed (apt-get install "
              "python3-torch); nothing to compare")
        return 0
    torch.set_num_threads(1)
    target = argv[2] if len(argv) > 2 else (
        "torch.f64.cross_entropy" if has_target(build, "torch.f64.cross_entropy")
        else "xc.f64.shifted")
    ours = xentcheck_times(build, target)
    print(f"PyTorch {torch.__version__} gradcheck vs xentcheck ({target}), "
          "one row, f64, one thread; medians")
    print(f"{'H':>6} {'gradcheck':>12} {'fast_mode':>12} {'xc inline':>12} "
          f"{'xc isolated':>12} {'gc/xc':>8} {'fast/xc':>8}")
    for h in SIZES:
        slow = time_gradcheck(torch, h, False)
        fast = time_gradcheck(torch, h, True)
        inline, isolated = ours[h]
        print(f"{h:>6} {slow * 1e3:>9.3f} ms {fast * 1e3:>9.3f} ms "
              f"{inline * 1e3:>9.3f} ms {isolated * 1e3:>9.3f} ms "
              f"{slow / isolated:>8.1f} {fast / isolated:>8.2f}")
    print("gc/xc and fast/xc: gradcheck time over xentcheck's isolated check "
          "of the same case (> 1: xentcheck is faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
