"""nordkube doctor's probe file: measures every node read-only and writes the measurements as
JSON to the file NORDKUBE_DOCTOR_OUTPUT names. `nordkube doctor INVENTORY` runs it as

    NORDKUBE_DOCTOR_OUTPUT=measured.json pyinfra INVENTORY doctor.py --dry

and judges what it wrote (nordkube/doctor/). The probes are pyinfra_ext/probes.py's facts; no
operation is defined here, so nothing is planned or changed.
"""

import os
from pathlib import Path

from nordkube.doctor import OUTPUT_ENV
from pyinfra_ext.probes import measure

measure(Path(os.environ[OUTPUT_ENV]))
