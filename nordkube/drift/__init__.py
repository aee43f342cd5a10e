"""`nordkube drift`: what differs on each host from the desired state, per stage, read-only.

Two sources, both the project's own: the deploy's plan (`pyinfra INVENTORY deploy.py --dry
--json`: what a converge would change) and the node suite (`nordkube check`'s testinfra states
that fail). `stages` maps both to the deploy's stages, `plan` and `suite` read their outputs,
`nordkube.owned` removes what running components set themselves, `model` holds the report
(its JSON schema is docs/drift.md's), `reports` renders it, `run` ties it together.
"""
