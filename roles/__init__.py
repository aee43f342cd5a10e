"""nordkube's deploy roles: one module per concern, each with one public @deploy function."""
