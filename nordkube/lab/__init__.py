"""The lab: local QEMU VMs that behave like KVM VPS nodes, for trying nordkube and for CI.

`nordkube lab up` starts them, `inventories/lab.py` points pyinfra at them, and
`load_state()` gives tests and tools the running lab's record.
"""

from nordkube.lab.commands import add_parser
from nordkube.lab.errors import LabError
from nordkube.lab.inventory import lab_inventory
from nordkube.lab.state import LabState, load_state

__all__ = ["LabError", "LabState", "add_parser", "lab_inventory", "load_state"]
