"""The batch state machine's contract with whoever starts it (run-batch, smoke tests, triggers).

An execution's input may carry ``input_uri`` and ``output_uri`` (each optional, each under the
model's batch input or output path) and ``trigger``; the execution's output names the job and
where it wrote (``job_name``, ``output_uri``).
"""

from __future__ import annotations

# Execution input fields.
INPUT_URI = "input_uri"
OUTPUT_URI = "output_uri"
TRIGGER = "trigger"
# The value of ``trigger`` in executions an S3 upload started.
UPLOAD_TRIGGER = "upload"
# Execution output field (besides OUTPUT_URI).
JOB_NAME = "job_name"

# run-batch (and the smoke tests) upload local files to <input path>run-batch/<run name>/ and
# start their own run over them, so an upload trigger leaves objects there alone (EventBridge
# cannot exclude a sub-prefix).
RUN_BATCH_STAGING_FOLDER = "run-batch/"
# State machine names are <environment>-<model> plus this.
STATE_MACHINE_NAME_SUFFIX = "-batch-transform"
# Batch transform names each output object after its input object, plus this.
OUTPUT_OBJECT_SUFFIX = ".out"
