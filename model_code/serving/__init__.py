"""Run model code in AWS's own serving stack, locally and in tests.

``image_serving`` stands in for the one module of the scikit-learn image that is not on PyPI;
``launcher`` starts the image's serving library on an artifact (it runs in ``.venv-serving``,
Python 3.10, the image's pins); ``process`` starts and stops a launcher from the project's own
environment for tests and benchmarks.
"""
