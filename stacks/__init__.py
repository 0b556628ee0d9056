"""Stacks and stages: composition of constructs for one environment."""
