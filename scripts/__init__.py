"""Developer tools that generate checked-in documents from the code (run with python -m scripts.<name>)."""
