"""The load run of `benchmarks/load.py`: a workspace, a faulty admin backend, people and owners
driving a Slack app over HTTP, and the count of what reached the backend.

`tests/integration/test_load_counts.py` runs the same driver at a tiny scale.
"""
