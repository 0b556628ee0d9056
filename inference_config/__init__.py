"""The environments' configuration: the typed shape of ``config/*.yaml`` and its loader.

Apart from the clients (``inference_platform``): config validation uses the constructs'
settings models, so it loads the CDK; the clients must not.
"""
