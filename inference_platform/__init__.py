"""Configuration, app assembly helpers and command-line clients for the inference platform."""
