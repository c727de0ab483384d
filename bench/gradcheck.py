#!/usr/bin/python3
"""xentcheck against PyTorch's torch.autograd.gradcheck, side by side.

For H = 10, 100, 1000 (one row, f64, index label, sum), times
gradcheck(cross_entropy) and gradcheck(..., fast_mode=True) on one thread,
runs bench/cost on the same shapes, and prints for each target the time of
xentcheck's isolated check (the target in a worker process, as `run`
does), its ratio to one gradient call and its peak memory beside
gradcheck's times and the ratios gradcheck / xentcheck; then the same
ratios for xentcheck's in-process check (the fuzzer's executor; gradcheck
too runs in-process). gradcheck compares the analytic gradient with
central differences (2H evaluations, or one directional derivative in
fast mode); xentcheck's check of a case does that and also the exact
reference, shift/permutation/batch invariance, memory and masking
properties (README, "Performance").

usage: bench/gradcheck.py BUILD_DIR [TARGET]...
  BUILD_DIR  the build directory holding bench/cost
  TARGET     the xentcheck targets timed (default xc.f64.shifted, and
             torch.f64.cross_entropy when built in: the same
             implementation under both tools)
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


def xentcheck_rows(build, target):
    """{H: row of bench/cost's table} for H up to the largest of SIZES:
    grad, inline and isolated seconds, peak MiB of the harness and that
    over the problem's bytes."""
    cost = os.path.join(build, "bench", "cost")
    out = subprocess.run([cost, "--max-h", str(max(SIZES)), target], check=True,
                         capture_output=True, text=True).stdout
    num = r"\s+([\d.]+)"
    rows = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\d+)" + (num + " us") * 3 + num * 5, line)
        if m:
            v = [float(x) for x in m.groups()[1:]]
            rows[int(m.group(1))] = {"grad": v[0] * 1e-6, "inline": v[1] * 1e-6,
                                     "isolated": v[2] * 1e-6, "mib": v[5],
                                     "xprob": v[6]}
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
    targets = argv[2:] or ["xc.f64.shifted"] + (
        ["torch.f64.cross_entropy"]
        if has_target(build, "torch.f64.cross_entropy") else [])
    gc = {h: (time_gradcheck(torch, h, False), time_gradcheck(torch, h, True))
          for h in SIZES}
    print(f"PyTorch {torch.__version__} gradcheck(cross_entropy) vs xentcheck's "
          "isolated check, one row, f64, one thread; medians")
    for target in targets:
        ours = xentcheck_rows(build, target)
        print(f"\n{target}")
        print(f"{'H':>6} {'xentcheck':>12} {'/grad':>7} {'peak MiB':>9} "
              f"{'gradcheck':>12} {'fast_mode':>12} {'gc/xc':>8} {'fast/xc':>8} "
              f"{'in-process':>12} {'gc/xc':>8} {'fast/xc':>8}")
        for h in SIZES:
            slow, fast = gc[h]
            r = ours[h]
            iso, inl = r["isolated"], r["inline"]
            print(f"{h:>6} {iso * 1e3:>9.3f} ms {iso / r['grad']:>7.1f} "
                  f"{r['mib']:>9.1f} {slow * 1e3:>9.3f} ms {fast * 1e3:>9.3f} ms "
                  f"{slow / iso:>8.1f} {fast / iso:>8.2f} "
                  f"{inl * 1e3:>9.3f} ms {slow / inl:>8.1f} {fast / inl:>8.2f}")
    print("\n/grad: xentcheck's isolated check over one call of the target's gradient; "
          "gc/xc, fast/xc: gradcheck time over xentcheck's (> 1: xentcheck is faster); "
          "in-process: the same check with the target called in-process")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
