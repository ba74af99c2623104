"""Instructions per request: tierline against the floor, counted rather than timed.

CPU time per request moves 15-20% between identical runs on a shared VM; the number of
instructions the serving process executes does not (repeatable to about 0.5%). This
script runs one serving process at a time under valgrind's callgrind (the fake provider
and the load generator run natively), warms it up, zeroes the counters, sends the same
closed-loop load as ``bench/overhead.py`` at concurrency 16, and divides the instructions
counted by the requests. The ratio to the floor is what to compare changes by; the CPU
target itself is judged by ``bench/overhead.py``.

    python bench/instructions.py                       # floor and tierline, JSON and stream
    python bench/instructions.py --variant=-router    # also a variant of bench/overhead_parts
    python bench/instructions.py --only tierline --mode stream --requests 200

Needs valgrind (``apt-get install valgrind``); each process runs ~50x slower under it, so
a full run takes a few minutes. Instruction counts leave out the kernel (system calls),
which /proc CPU time includes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)  # the checkout measured (a worktree too), not the installed one
ENV = {**os.environ, "PYTHONPATH": ROOT}
LOAD = (
    "import sys, asyncio; sys.path.insert(0, sys.argv[4]); import overhead as o; "
    "asyncio.run(o._load(sys.argv[1], o._body(sys.argv[2]), int(sys.argv[3]), 16))"
)
WARMUP = 300


def _serve(kind: str, upstream: str, variant: str, valgrind: str = "") -> subprocess.Popen[bytes]:
    argv = [sys.executable, os.path.join(HERE, "overhead.py"), "--serve", kind]
    argv += ["--upstream", upstream, f"--variant={variant}"]
    if valgrind:
        argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={valgrind}", *argv]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)


def _port(process: subprocess.Popen[bytes]) -> int:
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    if not line.startswith("PORT "):
        process.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return int(line.split()[1])


def _load(port: int, mode: str, requests: int) -> None:
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    subprocess.run([sys.executable, "-c", LOAD, url, mode, str(requests), HERE], check=True)


def count(
    upstream: str, kind: str, variant: str, mode: str, requests: int, keep: str = ""
) -> float:
    """Instructions per request of one serving process under ``requests`` of ``mode``;
    ``keep``: a folder to copy the callgrind dump into (for callgrind_annotate)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        server = _serve(kind, upstream, variant, valgrind=out)
        try:
            port = _port(server)
            _load(port, mode, WARMUP)
            subprocess.run(["callgrind_control", "-z", str(server.pid)], capture_output=True)
            _load(port, mode, requests)
            subprocess.run(["callgrind_control", "-d", str(server.pid)], capture_output=True)
            total = _dumped(tmp)
            if keep:
                name = f"{kind}{variant.replace(' ', '_')}-{mode}.out"
                for dump in os.listdir(tmp):
                    if dump.startswith("cg.out.") and not dump.endswith(".tmp"):
                        shutil.copy(os.path.join(tmp, dump), os.path.join(keep, name))
        finally:
            server.terminate()
            server.wait()
    return total / requests


def _dumped(folder: str) -> int:
    """The instruction total of the dump callgrind_control asked for (waits for the file)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for name in sorted(os.listdir(folder)):
            if name.startswith("cg.out.") and not name.endswith(".tmp"):
                with open(os.path.join(folder, name)) as fh:
                    for line in fh:
                        if line.startswith(("summary:", "totals:")):
                            return int(line.split()[1])
        time.sleep(0.2)  # polling a file another process writes; not test synchronisation
    raise SystemExit("callgrind wrote no dump")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--mode", choices=("json", "stream"), action="append")
    parser.add_argument("--only", choices=("floor", "tierline"))
    parser.add_argument("--variant", action="append", default=[], help="overhead_parts variant")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--keep", default="", help="copy each callgrind dump into this folder")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    fake = _serve("fake", "", "")
    upstream = f"http://127.0.0.1:{_port(fake)}"
    runs = [("floor", "")] if args.only != "tierline" else []
    if args.only != "floor":
        runs += [("tierline", ""), *(("tierline", v) for v in args.variant)]
    try:
        for mode in args.mode or ["json", "stream"]:
            floor = None
            for kind, variant in runs:
                per = count(upstream, kind, variant, mode, args.requests, args.keep)
                floor = per if kind == "floor" else floor
                name = f"{kind} {variant}".strip()
                ratio = f"  {per / floor:.2f}x floor" if floor and kind != "floor" else ""
                print(f"{mode:6s} {name:22s} {per:>11,.0f} instructions/request{ratio}", flush=True)
    finally:
        fake.terminate()
        fake.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
