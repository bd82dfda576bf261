"""benchmarks: long measurements, each figure printed beside a baseline from the same run."""
