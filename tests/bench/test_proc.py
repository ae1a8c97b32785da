"""The benches' readers of CPU time and memory see what they measure: a 10 ms tick once made a quick cut's CPU 0."""

import os
import subprocess
import sys
import time

from bench.proc import machine_times, own_cpu, process_cpu, rss_mib


def spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_own_cpu_sees_two_milliseconds_of_work():
    before = own_cpu()
    spin(0.002)
    used = own_cpu() - before
    assert 0.0015 < used < 0.05


def test_own_cpu_counts_reaped_children():
    before = own_cpu()
    subprocess.run([sys.executable, "-c", "sum(range(3_000_000))"], check=True, timeout=30)
    assert own_cpu() - before > 0.02


def test_process_cpu_reads_another_process():
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        assert process_cpu(child.pid) > 0.05
        assert process_cpu(os.getpid()) >= 0
    finally:
        child.kill()
        child.wait(10)


def test_machine_times_count_this_work_as_busy():
    busy, total = machine_times()
    spin(0.3)
    busy_after, total_after = machine_times()
    assert busy_after - busy >= 0.25  # ours at least (others only add); 10 ms ticks
    assert busy_after - busy <= total_after - total


def test_rss_mib_sees_memory_this_process_holds():
    before = rss_mib(os.getpid())
    held = bytearray(64 * 1024 * 1024)  # zero pages touched below, so they are resident
    held[::4096] = b"\x01" * len(held[::4096])
    assert rss_mib(os.getpid()) - before > 60
    assert rss_mib(os.getpid(), "VmHWM") >= rss_mib(os.getpid())
