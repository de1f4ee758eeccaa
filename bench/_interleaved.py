"""Wall times of several commands run in turn, N rounds, so that load on a shared machine
falls on all of them alike: python3 _interleaved.py N NAME=CMD... (CMD split like a shell)
-> one line per command: NAME MEDIAN_MS P25_MS P75_MS."""
import shlex, statistics, subprocess, sys, time

n = int(sys.argv[1])
commands = [(arg.split("=", 1)[0], shlex.split(arg.split("=", 1)[1])) for arg in sys.argv[2:]]
times = {name: [] for name, _ in commands}
for _ in range(n):
    for name, cmd in commands:
        start = time.perf_counter()
        subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times[name].append((time.perf_counter() - start) * 1000)
for name, _ in commands:
    q = statistics.quantiles(times[name], n=4)
    print(f"{name} {statistics.median(times[name]):.1f} {q[0]:.1f} {q[2]:.1f}")
