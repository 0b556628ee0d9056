"""Batch transform, by job: settings, state machine definition, permissions, triggers and alarms.

The construct that composes them is ``inference_constructs.batch_transform_job.BatchTransformJob``.
This package's ``__init__`` imports nothing, so the config schema's import of ``batch.settings``
does not load the state machine definition and the construct.
"""
