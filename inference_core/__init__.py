"""What the stacks that deploy the platform and the clients that call it must agree on.

Stack names, endpoint names, stack output keys, the registry of inference modes (``modes``),
the batch state machine's execution input, the S3 layout, the platform key's alias and the IAM
actions each client needs: the producers
(``stacks/``, ``inference_constructs/``) and the consumers (``inference_platform``'s clients
and smoke tests, ``review_bundle``) import them from here, so the two sides cannot drift.

Plain Python only: this package never imports aws_cdk, jsii or constructs (an import-linter
contract and tests/inference_core/test_core.py hold it to that), so clients load it for free.
This file imports nothing, so importing one module loads only that module.
"""
