"""Batch transform, by job: settings, state machine definition, permissions, triggers and alarms.

The construct that composes them is ``inference_constructs.batch_transform_job.BatchTransformJob``.
This package imports nothing on its own, so ``batch.settings`` loads without the constructs.
"""
