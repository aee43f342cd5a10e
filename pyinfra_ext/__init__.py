"""nordkube's extensions of pyinfra: facts, operations, the fact cache, templating and the
context of the host being deployed. The stages in roles/ are written with these; the pure
domain logic they decide from lives in nordkube/ (no pyinfra import there)."""
