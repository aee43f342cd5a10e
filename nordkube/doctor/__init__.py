"""`nordkube doctor`: is this hardware fit for the cluster? Read-only.

pyinfra runs the probe file doctor.py against the inventory (pyinfra_ext/probes.py measures,
writing JSON); `judge` turns the measurements and the settings into findings, each naming the
host, the setting it is judged against and what to do; `report` renders them.
"""

# The probe file writes its measurements to the file this names.
OUTPUT_ENV = "NORDKUBE_DOCTOR_OUTPUT"
