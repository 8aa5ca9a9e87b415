"""Scripts of the project: the demo and the launcher of the whole stack it shares with the
benchmarks (a package so that both import scripts.stack)."""
