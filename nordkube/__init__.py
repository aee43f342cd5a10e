"""nordkube."""
