"""Median wall time of running a command N times: python3 _median.py N CMD [ARGS...] -> ms."""
import subprocess, sys, time, statistics

n = int(sys.argv[1])
cmd = sys.argv[2:]
times = []
for _ in range(n):
    start = time.perf_counter()
    subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    times.append((time.perf_counter() - start) * 1000)
print(f"{statistics.median(times):.1f}")
